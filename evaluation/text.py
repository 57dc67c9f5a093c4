"""Vietnamese text: normalisation, matching keys and number parsing.

Everything users read or type goes through :func:`clean` (NFC, one kind of
space).  Names are compared through :func:`name_key`, which is blind to the
differences that do not change a name: Unicode form (NFC/NFD), old and new
tone placement (``Hoá``/``Hóa``, ``Thuỷ``/``Thủy``), case, punctuation and
spacing.  It is *not* blind to the letters or the tones themselves, so
``Hoằng`` and ``Hoàng`` stay different names (the registry lists misprints
as aliases instead).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

__all__ = [
    "clean",
    "clean_series",
    "fold",
    "name_key",
    "parse_numbers",
    "NUMBER_EXAMPLE",
    "looks_like_legacy_encoding",
]

# Spaces that spreadsheets and web pages smuggle in.  Joiners, the BOM and the soft hyphen
# vanish; the zero-width *space* (U+200B) marks a word boundary, so it counts as a space:
# "Sở\u200bTài\u200bchính" is "Sở Tài chính", not "SởTàichính".
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]+")

# Combining marks that carry the five Vietnamese tones; the vowel-quality marks
# (circumflex U+0302, breve U+0306, horn U+031B) are part of the letter and stay.
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_TONE_RE = re.compile(f"[{_TONES}]")
_WORD_RE = re.compile(r"\w+")
_PUNCT_RE = re.compile(r"[^\w\s]+")


def clean(text: object) -> str:
    """Return ``text`` as NFC with single ASCII spaces and no zero-width characters.

    Parameters
    ----------
    text : object
        Anything; ``None`` and NaN give ``""``.

    Returns
    -------
    str
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    s = unicodedata.normalize("NFC", str(text)).translate(_ZERO_WIDTH)
    return _SPACES.sub(" ", s).strip()


def _clean_strings(s: pd.Series) -> pd.Series:
    s = s.str.normalize("NFC").str.translate(_ZERO_WIDTH)
    return s.str.replace(_SPACES, " ", regex=True).str.strip()


def clean_series(values: pd.Series) -> pd.Series:
    """Vectorised :func:`clean` for a column of text (missing stays missing).

    Each distinct value is cleaned once: a survey's columns repeat a few hundred names and codes
    over tens of thousands of rows.
    """
    s = values.astype("string")
    codes, distinct = pd.factorize(s)
    if 2 * len(distinct) > len(s):
        return _clean_strings(s)
    cleaned = _clean_strings(pd.Series(distinct, dtype="string")).array
    return pd.Series(cleaned.take(codes, allow_fill=True), index=s.index, name=s.name, dtype="string")


def _canonical_syllable(match: re.Match[str]) -> str:
    word = unicodedata.normalize("NFD", match.group(0))
    tones = "".join(sorted(_TONE_RE.findall(word)))
    # Tone mark moved to the end of the syllable: "hoá" and "hóa" become one key.
    return _TONE_RE.sub("", word) + tones


def fold(text: object) -> str:
    """Text without diacritics, lower case (``đ`` → ``d``): for finding names written without marks.

    Examples
    --------
    >>> fold("Hoằng Hóa")
    'hoang hoa'
    """
    word = unicodedata.normalize("NFD", clean(text).casefold()).replace("đ", "d")
    return "".join(c for c in word if not unicodedata.combining(c))


def name_key(text: object) -> str:
    """Matching key of a name: equal keys mean "the same name, written differently".

    Differences removed: Unicode form, tone placement, case, punctuation,
    ``&`` versus ``và``, repeated or exotic spaces.

    Examples
    --------
    >>> name_key("Hoàng Hoá") == name_key("hoàng  hóa")
    True
    >>> name_key("Hoằng Hóa") == name_key("Hoàng Hóa")
    False
    """
    s = clean(text).casefold().replace("&", " và ")
    s = _PUNCT_RE.sub(" ", s)
    s = _WORD_RE.sub(_canonical_syllable, s)
    return " ".join(s.split())


NUMBER_EXAMPLE = "87,6 hoặc 87.6"
# One optional sign, ASCII digits, at most one decimal separator (comma or dot).  Not \d:
# it also matches full-width and other scripts' digits, which then parsed as blank.
_NUMBER_RE = r"^[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)$"


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a text column of numbers written the Vietnamese or the English way.

    ``"98,4"``, ``"98.4"`` and ``" 98.4 "`` all give 98.4.  Thousands separators
    are refused (``"9.840,0"``): a score never needs one, and ``"1.234"`` would be
    ambiguous.

    Parameters
    ----------
    values : pandas.Series
        Text (or numbers, e.g. from Excel).

    Returns
    -------
    numbers : pandas.Series of float64
        NaN where the cell is blank or invalid.
    invalid : pandas.Series of bool
        True where the cell is not blank and not a number.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        finite = numbers.where(numbers.abs() != float("inf"))
        return finite, finite.isna() & values.notna()
    text = clean_series(values)
    blank = text.isna() | (text == "")
    ok = text.str.fullmatch(_NUMBER_RE).fillna(False).astype(bool)
    numbers = pd.to_numeric(text.where(ok).str.replace(",", ".", regex=False), errors="coerce")
    numbers = numbers.astype("float64")
    invalid = ~blank & ~ok
    return numbers, invalid


# Letters of the Vietnamese alphabet that live in U+0080..U+00FF.  Any other
# character of that block in a "UTF-8" file is the mark of text typed in a
# legacy 8-bit encoding (TCVN3/ABC, VNI) and re-saved: "Së Tµi chÝnh" —
# except the symbols Vietnamese text uses as symbols («quoted», 25°C, 2×3, ©, §):
# those count only inside a word, where TCVN3 puts them for letters ("®¸nh" = "đánh").
_VIETNAMESE_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
_LATIN1_OTHER = re.compile("[\u0080-\u00ff]")


def _artefact(text: str, i: int) -> bool:
    ch = text[i]
    if ch in _VIETNAMESE_LATIN1 or ch.isspace():
        return False
    if ch.isalpha() or not ch.isprintable():
        return True   # ë µ Þ ø û …, and C1 control characters

    def wordlike(j: int) -> bool:
        return 0 <= j < len(text) and (text[j].isalpha() or ("\u0080" <= text[j] <= "\u00ff"
                                                             and not text[j].isspace()))
    return wordlike(i - 1) and wordlike(i + 1)


def looks_like_legacy_encoding(texts: Iterable[str]) -> bool:
    """True if text decoded as Unicode still carries legacy-font artefacts.

    A stray symbol of U+0080..U+00FF («, °, ×, ©) is not enough: it must stand inside a
    word, as TCVN3 letters do.
    """
    for text in texts:
        for m in _LATIN1_OTHER.finditer(text):
            if _artefact(text, m.start()):
                return True
    return False
