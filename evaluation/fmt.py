"""Numbers and counts written the Vietnamese way (decimal comma), through Babel.

Text and tables for readers use these; machine outputs (CSV, JSON) keep dots.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from babel.numbers import format_decimal

__all__ = ["LOCALE", "number", "numbers", "count", "fmt_bound", "percent", "tint", "doc_date", "BLANK", "MINUS"]

MINUS = "\u2212"
# A field left blank in a draft ("ngày      tháng 02"): non-breaking spaces, so that HTML, PDF and Word
# keep the room for the handwritten day.
BLANK = "\u00a0" * 6

LOCALE = "vi_VN"


def number(value: object, decimals: int = 1, *, max_decimals: int | None = None) -> str:
    """``87.6`` → ``"87,6"``; blank for a missing value.

    Parameters
    ----------
    value : number or None
    decimals : int
        Digits always shown after the comma.
    max_decimals : int, optional
        Show up to this many digits when the value has them (``98.47`` → ``"98,47"``).
    """
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    more = max(decimals, max_decimals or decimals)
    pattern = "#,##0" + ("." + "0" * decimals + "#" * (more - decimals) if more else "")
    text = format_decimal(Decimal(str(value)), format=pattern, locale=LOCALE)
    # One minus sign in everything readers see: U+2212, as in "thưởng − trừ" (Babel writes "-").
    return MINUS + text[1:] if text.startswith("-") else text


def numbers(values: pd.Series, decimals: int = 1, *, max_decimals: int | None = None) -> pd.Series:
    """:func:`number` for a column (applied to its distinct values only)."""
    unique = pd.Series(values.dropna().unique())
    table = dict(zip(unique, unique.map(lambda v: number(v, decimals, max_decimals=max_decimals)),
                     strict=True))
    # Cast before filling: a column with no value at all maps to float NaN, and filling float
    # with text is deprecated (an error in pandas 4).
    return values.map(table).astype("string").fillna("")


def count(n: int) -> str:
    """Counts as administrative reports write them: two digits at least (``05``)."""
    return f"{int(n):02d}"


def fmt_bound(value: Decimal | float | int) -> str:
    """A bound or rule value without trailing zeros: ``0,5``, ``90``."""
    d = Decimal(str(value)).normalize()
    decimals = max(0, -d.as_tuple().exponent)
    return number(d, 0, max_decimals=decimals)


def percent(value: float, decimals: int = 1) -> str:
    """``0.2204`` → ``"22,0%"``."""
    return number(value * 100, decimals) + "%"


def tint(color: str, amount: float = 0.82) -> str:
    """A light version of ``#rrggbb`` (mixed with white), for backgrounds that keep text readable."""
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in rgb)


def doc_date(place: str, day: int | None, month: int | None, year: int) -> str:
    """"Thanh Hóa, ngày 05 tháng 02 năm 2021" as Nghị định 30/2020/NĐ-CP writes it.

    Days below 10 and the months 1 and 2 take a leading zero; a day or month not yet known is left
    blank for the signer (a draft).

    >>> doc_date("Thanh Hóa", None, 2, 2021) == "Thanh Hóa, ngày " + BLANK + " tháng 02 năm 2021"
    True
    >>> doc_date("Hà Nội", 5, 11, 2026)
    'Hà Nội, ngày 05 tháng 11 năm 2026'
    """
    d = BLANK if day is None else f"{day:02d}"
    m = BLANK if month is None else (f"{month:02d}" if month <= 2 else str(month))
    return f"{place}, ngày {d} tháng {m} năm {year}"
