"""Text normalisation, name keys and number parsing."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from evaluation.text import clean, looks_like_legacy_encoding, name_key, parse_numbers


@pytest.mark.parametrize(("a", "b"), [
    ("Hoá", "Hóa"),
    ("Thuỷ", "Thủy"),
    ("hoà", "hòa"),
    ("Cẩm Thủy", unicodedata.normalize("NFD", "Cẩm Thuỷ")),
    ("Sở Tài chính", "  sở\u00a0tài   CHÍNH "),
    ("Sở Tài chính", "Sở\u200b Tài chính"),
    ("Sở Lao động - Thương binh và Xã hội", "Sở Lao động, Thương binh & Xã hội"),
])
def test_name_key_ignores_form_tone_placement_case_spacing(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("Hoằng Hóa", "Hoàng Hóa"),   # different letters
    ("Bỉm Sơn", "Bìm Sơn"),       # different tones
    ("Hà Trung", "Hạ Trung"),
    ("Sơn", "Son"),
])
def test_name_key_keeps_letters_and_tones(a, b):
    assert name_key(a) != name_key(b)


def test_clean_gives_nfc_and_single_spaces():
    text = clean(unicodedata.normalize("NFD", "  Hoằng\u00a0\u00a0Hóa\u200b "))
    assert text == "Hoằng Hóa"
    assert unicodedata.is_normalized("NFC", text)


def test_parse_numbers_accepts_comma_dot_spaces_and_refuses_the_rest():
    values = pd.Series(["98,4", "98.4", " 98.4 ", "\u00a098", "", None, "9.840,0", "x", "-", "NaN", "1 234",
                        "90.", ",5"])
    numbers, invalid = parse_numbers(values)
    assert numbers.iloc[:4].tolist() == [98.4, 98.4, 98.4, 98.0]
    assert invalid.tolist() == [False, False, False, False, False, False, True, True, True, True, True,
                                False, False]
    assert numbers.iloc[4:6].isna().all()
    assert numbers.iloc[11] == 90.0 and numbers.iloc[12] == 0.5


def test_parse_numbers_from_excel_numbers():
    numbers, invalid = parse_numbers(pd.Series([87.6, None, float("inf")]))
    assert numbers.iloc[0] == 87.6
    assert invalid.tolist() == [False, False, True]


def test_legacy_font_text_is_recognised():
    assert looks_like_legacy_encoding(["Së Tµi chÝnh"])  # TCVN3 read as Latin-1
    assert looks_like_legacy_encoding(["Sôû Taøi chính"])  # VNI read as Latin-1
    assert not looks_like_legacy_encoding(["Sở Tài chính", "Thọ Xuân", "Ý Yên"])


# -- regressions found by the adversarial tests (issue 6) ---------------------------------


@pytest.mark.parametrize("digits", ["９８", "٩٨", "۹۸", "९८"])
def test_digits_of_other_scripts_are_not_numbers(digits):
    # Was: accepted by the pattern (\d), then parsed as blank: a self score vanished silently.
    numbers, invalid = parse_numbers(pd.Series([digits, "98"]))
    assert invalid.tolist() == [True, False]
    assert numbers.iloc[1] == 98.0


def test_zero_width_space_between_words_is_a_space():
    # Was: deleted, gluing the words together ("SởTàichính"), so the name matched nothing.
    assert clean("Sở\u200bTài\u200bchính") == "Sở Tài chính"
    assert name_key("Sở\u200bTài\u200bchính") == name_key("Sở Tài chính")
    # Joiners and the soft hyphen still vanish inside a word.
    assert clean("Tài\u200dchính\u00ad\ufeff") == "Tàichính"


@pytest.mark.parametrize("text", ["Ghi chú: «đạt»", "Nhiệt độ 25°C", "2×3 = 6", "© Sở Nội vụ", "§ 3", "¡", "½ điểm",
                                  "Điểm ± 0,5"])
def test_symbols_of_latin1_in_unicode_text_are_not_legacy_encoding(text):
    # Was: any character of U+0080..U+00FF outside the Vietnamese letters condemned the whole
    # file as legacy-encoded, so a note "«đạt»" or "25°C" made the scores file unreadable.
    assert not looks_like_legacy_encoding([text])


@pytest.mark.parametrize("text", ["§iÓm ®¸nh gi¸", "§¬n vÞ", "thµnh phè", "huyÖn", "Sôû Noäi vuï", "x\u0081y"])
def test_legacy_letters_and_symbols_inside_words_are_recognised(text):
    assert looks_like_legacy_encoding([text])
