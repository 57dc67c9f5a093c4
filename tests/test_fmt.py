"""Numbers written the Vietnamese way."""

from __future__ import annotations

import warnings

import pandas as pd

from evaluation.fmt import fmt_bound, number, numbers


def test_a_column_without_any_value_formats_as_blanks_without_warning():
    # Was: fillna("") on float NaN: a Pandas4Warning (an error in pandas 4) whenever a year had no
    # self score at all.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert numbers(pd.Series([float("nan")] * 3)).tolist() == ["", "", ""]
        assert numbers(pd.Series([87.6, float("nan")]), 2).tolist() == ["87,60", ""]


def test_numbers_use_the_decimal_comma():
    assert number(87.6) == "87,6" and number(1234.5, 1) == "1.234,5"
    assert fmt_bound(60.5) == "60,5" and fmt_bound(90) == "90"
