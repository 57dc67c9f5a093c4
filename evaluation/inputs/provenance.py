"""Provenance: what a result was made from (checksums, rules, package version, parameters).

No wall-clock time: two runs on the same inputs give the same provenance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .. import __version__

__all__ = ["sha256", "provenance_table"]


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def provenance_table(files: Iterable[tuple[str, str, Path]]) -> pd.DataFrame:
    """One row per input file: role, name as given, size and SHA-256.

    Parameters
    ----------
    files : iterable of (role, label, path)
    """
    rows = [
        {"role": role, "file": label, "bytes": Path(path).stat().st_size, "sha256": sha256(Path(path))}
        for role, label, path in files
    ]
    return pd.DataFrame(rows, columns=["role", "file", "bytes", "sha256"])


def package_version() -> str:
    return __version__
