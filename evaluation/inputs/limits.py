"""Limits and shared names of the input readers (CSV and workbook alike).

Kept apart so that :mod:`~evaluation.inputs.tables` and :mod:`~evaluation.inputs.workbook`
both use them without importing each other.
"""

ROW = "_row"
MAX_INPUT_BYTES = 64 * 1024 * 1024  # a yearly input is kilobytes; refuse before reading a runaway file
