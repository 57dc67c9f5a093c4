"""The bad-input corpus runner: one folder per case under ``tests/badinputs/``.

A case folder holds only what differs from a good year, at the same paths, plus:

``expected.txt``
    One line per problem the run must report, each a fragment of that problem's line
    (file, row, column, value, what was expected).  The run must report exactly as many
    problems as there are lines.  Blank lines and lines starting with ``#`` are ignored.
``case.toml`` (optional)
    ``base``: the good year the case starts from, ``"2020"`` (default: ``params/`` and
    ``data/`` of the repository) or ``"regime2"`` (``tests/fixtures/years/regime2``, with
    conditions and a quota); ``args``: the command line (default: the base's report command);
    ``remove``: paths to delete from the good year; ``[sparse]``: ``"path" = bytes``, files
    made that large without using disk or memory; ``max_peak_mb``: the run must not allocate
    more than this (Python heap, measured by tracemalloc); ``[symlinks]``: ``"path" = "target"``,
    symbolic links laid over the good year (``/etc/passwd``); ``never``: text that must appear
    nowhere in what the run prints (a line of a file it must not read).

Every case is run through :func:`evaluation.cli.main`, from the project folder, with a previous
good report in ``outputs/``; the runner checks exit status 2, nothing on stdout, one message
listing every problem (no traceback), each naming its file by a relative path, and that neither
the previous outputs nor any input changed by a single byte.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tomllib
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import FIXTURES, ROOT

CORPUS = Path(__file__).resolve().parent / "badinputs"
CASE_FILES = {"expected.txt", "case.toml", "README.md"}
BASES = {
    "2020": {"year": "2020", "args": ["report", "--year", "2020", "--out", "outputs"]},
    "regime2": {"year": "2031", "args": ["--params-dir", "years/regime2/params", "report", "--year", "2031",
                                         "--out", "outputs"]},
}


@dataclass
class Case:
    name: str
    folder: Path
    expected: list[str]
    base: str = "2020"
    args: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    sparse: dict[str, int] = field(default_factory=dict)
    max_peak_mb: float | None = None
    symlinks: dict[str, str] = field(default_factory=dict)
    never: list[str] = field(default_factory=list)

    @property
    def year(self) -> str:
        return BASES[self.base]["year"]

    def files(self) -> list[Path]:
        """The files the case puts over the good year (relative paths)."""
        return sorted(p.relative_to(self.folder) for p in self.folder.rglob("*")
                      if p.is_file() and p.name not in CASE_FILES)


def load_case(folder: Path) -> Case:
    lines = (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
    expected = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    options = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8")) if (folder / "case.toml").exists() \
        else {}
    case = Case(folder.name, folder, expected, **options)
    case.args = case.args or list(BASES[case.base]["args"])
    return case


def cases() -> list[Case]:
    return [load_case(d) for d in sorted(CORPUS.iterdir()) if d.is_dir()]


def good_year(base: str, dest: Path) -> None:
    """A good year of ``base`` laid out in ``dest`` (the project folder of a run)."""
    if base == "2020":
        shutil.copytree(ROOT / "params", dest / "params")
        shutil.copytree(ROOT / "data", dest / "data")
    elif base == "regime2":
        shutil.copytree(FIXTURES / "years" / "regime2", dest / "years" / "regime2")
        shutil.copytree(FIXTURES / "rules", dest / "rules")
    else:
        raise ValueError(f"unknown base {base!r}")


def prepare(case: Case, dest: Path) -> None:
    """The good year with the case's files laid over it."""
    good_year(case.base, dest)
    for rel in case.remove:
        target = dest / rel
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    for rel in case.files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(case.folder / rel, dest / rel)
    for rel, size in case.sparse.items():
        with open(dest / rel, "r+b") as fh:   # extended, not written: no disk, no memory
            fh.truncate(size)
    for rel, target in case.symlinks.items():
        link = dest / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(target)


def snapshot(folder: Path, *, skip: str | None = None) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (sparse files are hashed in chunks)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if skip and (rel == skip or rel.startswith(skip + "/")):
            continue
        if p.is_symlink():
            out[rel] = "-> " + str(p.readlink())
        elif p.is_file():
            with open(p, "rb") as fh:
                out[rel] = hashlib.file_digest(fh, "sha256").hexdigest()
        else:
            out[rel + "/"] = ""
    return out


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str
    peak_bytes: int | None

    @property
    def problems(self) -> list[str]:
        return [ln[4:] for ln in self.stderr.splitlines() if ln.startswith("  - ")]


def run_cli(args: list[str], cwd: Path, capsys, monkeypatch, *, measure: bool = False) -> Run:
    """``python -m evaluation <args>`` in-process, from ``cwd``."""
    from evaluation.cli import main

    monkeypatch.chdir(cwd)
    capsys.readouterr()
    peak = None
    if measure:
        tracemalloc.start()
    try:
        status = main(args)
    finally:
        if measure:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    out, err = capsys.readouterr()
    return Run(status, out, err, peak)


def check_run(case: Case, run: Run, project: Path) -> None:
    """Everything a bad input must produce: exit 2, one message, every problem named, placed."""
    assert run.status == 2, f"exit status {run.status}\n{run.stderr}"
    assert run.stdout == "", run.stdout
    assert "Traceback" not in run.stderr
    for text in case.never:
        assert text not in run.stderr, f"{case.name}: the output quotes {text!r}, from a file it must not read"
    head = run.stderr.splitlines()[0]
    n = len(run.problems)
    lines = run.stderr.splitlines()
    # At most so many problems per file are printed; the others are counted on one line per file.
    elided = [ln for ln in lines[n + 1:] if ln.startswith("  … và ")]
    hidden = sum(int(re.match(r"  … và ([\d.]+) lỗi khác", ln)[1].replace(".", "")) for ln in elided)
    assert head == (f"Dữ liệu vào có {format(n + hidden, ',').replace(',', '.')} lỗi:"), run.stderr
    notes = lines[n + 1 + len(elided):]
    # One message: a head line, one line per problem, then for each file that lost rows its count
    # of rows read, kept and rejected (rows in = rows used + rows rejected: nothing vanishes).
    for note in notes:
        m = re.fullmatch(r".+: (\d+) dòng dữ liệu — (\d+) dòng hợp lệ được giữ, (\d+) dòng bị loại "
                         r"\(xem các lỗi ở trên\)", note)
        assert m, f"one message: a head line, one line per problem, then row counts; got {note!r}"
        assert int(m[1]) == int(m[2]) + int(m[3]), note
    unmatched = list(run.problems)
    for fragment in case.expected:
        hit = next((p for p in unmatched if fragment in p), None)
        assert hit is not None, f"{case.name}: expected\n  {fragment}\namong\n  " + "\n  ".join(run.problems)
        unmatched.remove(hit)
    assert not unmatched, f"{case.name}: problems not in expected.txt:\n  " + "\n  ".join(unmatched)
    for problem in run.problems:
        # The file, first and as the user reads it: relative to the folder the command ran in.
        file = problem.split(" — ")[0].split(", ")[0].split(": ")[0]
        assert not Path(file).is_absolute(), problem
        assert (project / file).parent.is_dir(), problem
    if case.max_peak_mb is not None:
        assert run.peak_bytes is not None and run.peak_bytes < case.max_peak_mb * 1024 * 1024, \
            f"peak {run.peak_bytes / 1024 / 1024:.1f} MB"
