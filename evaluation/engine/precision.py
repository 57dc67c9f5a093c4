"""Rounding as the rules declare it, for every stage: criteria, surveys, bonus and penalty, totals, publication.

All of it is integer arithmetic on numpy arrays, exactly as :class:`decimal.Decimal` would round:

* a float is first snapped to units of 10⁻⁹ — far finer than any declared precision and far
  coarser than float error at 100 — so ``89.99999999999999`` (a sum that is really 90) is 90
  while ``89.99999999`` (a real value) stays below 90;
* rounding to ``decimals`` then works on integers, and the result is the float nearest to the
  exact decimal (``87.3``, never ``87.30000000000001``): tables, cards and CSV carry the values
  as published, with no float noise.

A stage's output rounded here and summed stays exact at the sum's precision when the sum is no
coarser than its parts (the rules check it), which is why printed parts add up to printed totals.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

__all__ = ["SNAP_DECIMALS", "Precise", "snap_units", "round_units", "round_values", "publish"]

SNAP_DECIMALS = 9
_SNAP = 10**SNAP_DECIMALS


class Precise(Protocol):
    """Anything with ``decimals`` and ``rounding`` (a rules ``Precision`` or ``Rounding``)."""

    decimals: int
    rounding: str


def snap_units(values: np.ndarray) -> np.ndarray:
    """Floats as int64 multiples of 10⁻⁹ (NaN is not allowed here)."""
    return np.rint(np.asarray(values, dtype="float64") * _SNAP).astype(np.int64)


def round_units(units: np.ndarray, precision: Precise) -> np.ndarray:
    """Round 10⁻⁹ units to multiples of 10^-decimals (returned in those coarser units)."""
    q = 10 ** (SNAP_DECIMALS - precision.decimals)
    sign = np.sign(units)
    mag = np.abs(units)
    whole, rem = np.divmod(mag, q)
    if precision.rounding == "down":
        bump = np.zeros_like(whole)
    elif precision.rounding == "up":
        bump = (rem > 0).astype(np.int64)
    elif precision.rounding == "half_up":
        bump = (2 * rem >= q).astype(np.int64)
    else:  # half_even
        bump = ((2 * rem > q) | ((2 * rem == q) & (whole % 2 == 1))).astype(np.int64)
    return sign * (whole + bump)


def round_values(values: np.ndarray | pd.Series, precision: Precise | None) -> np.ndarray:
    """``values`` rounded as ``precision`` says (NaN stays NaN); ``None`` leaves them as they are.

    Examples
    --------
    >>> from evaluation.inputs.rules import Rounding
    >>> round_values(np.array([4.62 / 5 * 10, 87.1 + 0.2, np.nan]), Rounding(decimals=2)).tolist()
    [9.24, 87.3, nan]
    """
    arr = np.asarray(values, dtype="float64")
    if precision is None:
        return arr
    out = np.full(arr.shape, np.nan)
    ok = ~np.isnan(arr)
    out[ok] = round_units(snap_units(arr[ok]), precision) / 10**precision.decimals
    return out


def publish(scores: pd.Series, precision: Precise) -> pd.Series:
    """The score as published: rounded to the rules' precision.

    Parameters
    ----------
    scores : pandas.Series of float
    precision : Precision

    Returns
    -------
    pandas.Series of float
        Exact decimal values at the given precision (as the nearest floats).

    Examples
    --------
    >>> from evaluation.inputs.rules import Precision
    >>> p = Precision(decimals=1, rounding="down")
    >>> publish(pd.Series([89.99999999, 89.99999999999999, 87.45]), p).tolist()
    [89.9, 90.0, 87.4]
    """
    rounded = round_units(snap_units(scores.to_numpy(dtype="float64")), precision)
    return pd.Series(rounded / 10**precision.decimals, index=scores.index, dtype="float64")
