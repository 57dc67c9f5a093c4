"""Files written the same way every time, put in place safely, and kept while nothing changed.

Same inputs, same bytes (:func:`deterministic_zip`); a built folder swapped into place
whole, one build of it at a time, with what killed runs left removed (:func:`build_lock`,
:func:`swap_into_place`, :func:`remove_leftovers`); what it was built from recorded beside its
outputs, so that an unchanged folder is not built again (:func:`write_record`, :func:`reusable`).

Foundation module: any stage may import it; it imports nothing of the package.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import io
import os
import re
import shutil
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on POSIX: builds are not locked
    fcntl = None

__all__ = ["deterministic_zip", "build_lock", "swap_into_place", "remove_leftovers", "leftover_names",
           "BUILDING", "OLD", "RECORD", "sha256_file", "tree_digests", "fingerprint", "environment", "write_record",
           "reusable"]

_FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FIXED_CORE_DATE = "1980-01-01T00:00:00Z"

def deterministic_zip(data: bytes) -> bytes:
    """Rewrite an xlsx with fixed entry dates and fixed document dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                                 rb"\g<1>" + _FIXED_CORE_DATE.encode() + rb"\g<3>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, content)
    return out.getvalue()


# -- putting a built folder in place ------------------------------------------------------------
#
# A report is built in a temporary folder beside its final place, ``outputs/.2020.building-<random>``,
# and swapped in only when every step has succeeded.  Three rules keep that safe when runs overlap,
# fail or are killed:
#
# 1. One build of a folder at a time: :func:`build_lock` holds ``outputs/.2020.lock`` (an advisory
#    ``flock``, released by the kernel when its process ends, however it ends: a lock can never be
#    left stale).  A second run says who holds it and waits.
# 2. Whatever a killed run left (``.2020.building-*``, ``.2020.old-*``) is removed by the next run
#    of the same folder, under the lock, so never while another run is using it
#    (:func:`remove_leftovers`).
# 3. The swap never leaves the final folder missing (:func:`swap_into_place`): on Linux the new and
#    the old folder exchange names in one atomic ``renameat2(RENAME_EXCHANGE)``, so a reader (a
#    browser, a web server, a second run) sees either the whole old report or the whole new one;
#    then the old one, now under the temporary name, is removed.  Where the exchange is not
#    available (another system, a file system without it) the old folder is renamed aside first and
#    the new one renamed into place right after: a moment without the folder, never a mixture.

BUILDING = "building"
OLD = "old"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def leftover_names(final: Path) -> list[str]:
    """Glob patterns of what a build of ``final`` leaves beside it while it runs."""
    return [f".{final.name}.{BUILDING}-*", f".{final.name}.{OLD}-*"]


def remove_leftovers(final: Path) -> list[Path]:
    """Remove what earlier, killed builds of ``final`` left beside it; return what was removed.

    Call only while holding :func:`build_lock` for ``final``.
    """
    removed = []
    for pattern in leftover_names(final):
        for path in sorted(final.parent.glob(pattern)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap the names of ``a`` and ``b``; False when the system cannot."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # glibc older than 2.28, or another C library
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # kernel or file system without RENAME_EXCHANGE
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def swap_into_place(new: Path, final: Path) -> None:
    """Put the folder ``new`` at ``final``, replacing what was there; see the rules above.

    ``final`` must be a folder (or a link to one) or not exist: the caller refuses a file there.
    """
    if not final.exists() and not final.is_symlink():
        new.rename(final)
        return
    if _exchange(new, final):
        _remove(new)  # the old report, under the temporary name
        return
    aside = final.with_name(f".{final.name}.{OLD}-{os.getpid()}")
    final.rename(aside)
    new.rename(final)
    _remove(aside)


@contextlib.contextmanager
def build_lock(final: Path, *, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock of building ``final`` (``.<name>.lock`` beside it) for the block.

    A second run of the same folder waits for the first to finish, after saying (through
    ``say``, default standard error) which process holds the lock.  The lock file holds the
    holder's PID and is removed on release; a run that finds, once it holds the lock, that
    the file it locked is no longer the one at that path (removed by the previous holder
    meanwhile) locks again, so two runs never hold two different files.
    """
    lock = final.parent / f".{final.name}.lock"
    said = False
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is None:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not said:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "?"
                (say or _to_stderr)(f"«{final.name}» đang được một lần chạy khác lập (tiến trình {holder}): "
                                    "chờ lần chạy đó xong…")
                said = True
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
        try:
            current = os.stat(lock).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            break
        os.close(fd)  # the holder removed the file as we waited on it: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()  # while still holding it (see above)
        os.close(fd)  # releases the flock


def _to_stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# -- what a folder was built from: reuse it while nothing it depends on has changed ---------------
#
def write_whole(path: Path | str, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that a reader finds the old file or the new one, never half of it:
    a temporary file beside it (unique: writers at once do not meet), renamed into place.  ``mode``:
    the new file's permissions (a temporary file is made readable by its owner only)."""
    import tempfile

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# A built folder holds ``build.json``: what it was made from (``sources``: the settings of the build,
# the checksum of the code, the templates and the notebook, the package version, the installed
# libraries), the SHA-256 of every input file the build read (``inputs``), the regular files of the
# folders those inputs were looked for in (``folders``: a file that appears there, an optional input
# such as a trace of collected forms, is seen), and the SHA-256 of every file the build wrote
# (``outputs``).  :func:`reusable` says whether the folder can be kept as it is: nothing recorded has
# changed and every output is still there, byte for byte.  It reads only the files recorded, never
# starts anything.  The record is written inside the temporary folder before the swap
# (:func:`swap_into_place`), so a folder in place always has the record of its own build; a failed
# build leaves the previous folder and its record.

RECORD = "build.json"
RECORD_FORMAT = 1


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def tree_digests(folder: Path, *, skip: tuple[str, ...] = (RECORD,)) -> dict[str, str]:
    """Every regular file under ``folder`` (``/``-separated relative name → SHA-256), but ``skip``."""
    folder = Path(folder)
    found = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and not path.is_symlink() and name not in skip:
            found[name] = sha256_file(path)
    return found


def fingerprint(paths: Iterable[Path], root: Path) -> str:
    """One SHA-256 of files: each one's name relative to ``root`` and its bytes; folders walked whole.

    Compiled caches (``__pycache__``, ``*.pyc``) are left out.
    """
    import hashlib

    root = Path(root)
    files = set()
    for path in map(Path, paths):
        found = path.rglob("*") if path.is_dir() else [path]
        files.update(p for p in found if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: os.path.relpath(p, root)):
        digest.update(os.path.relpath(path, root).encode() + b"\0" + sha256_file(path).encode() + b"\n")
    return digest.hexdigest()


def environment() -> dict[str, str]:
    """The Python version and every distribution installed (names and versions, as one SHA-256).

    Listing the ``*.dist-info`` folders of the import path costs a few milliseconds; a library
    upgraded (matplotlib, WeasyPrint, pandoc's wheel…) may change the outputs' bytes.
    """
    import hashlib

    names = set()
    for entry in map(Path, sys.path):
        with contextlib.suppress(OSError):
            if entry.is_dir():
                names.update(p.name for p in os.scandir(entry) if p.name.endswith((".dist-info", ".egg-info")))
    return {"python": sys.version.split()[0],
            "libraries": hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()}


def _files_in(folder: Path) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(folder) if e.is_file())
    except OSError:
        return []


def _json(value: object) -> object:
    import json

    return json.loads(json.dumps(value, sort_keys=True))


def write_record(folder: Path, sources: dict, inputs: Iterable[Path], *, folders: Iterable[Path] = (),
                 digests: dict[Path, str] | None = None, record: str = RECORD,
                 outputs: Iterable[str] | None = None) -> None:
    """Write ``folder/record``: ``sources``, the inputs' and the outputs' SHA-256 (see above).

    Paths are written relative to ``folder``'s parent's children (``../../params/2020.yaml``), so
    the record holds for the folder once swapped into place beside it, and for a copied project.

    Parameters
    ----------
    inputs : iterable of Path
        Every file the build read; ``digests`` gives the SHA-256 of the bytes read (others are hashed).
    folders : iterable of Path
        Folders whose list of files is recorded (where optional inputs are looked for).
    outputs : iterable of str, optional
        The files of ``folder`` the record covers (default: every file under it).
    """
    import json

    folder = Path(folder)
    digests = {Path(p).resolve(): d for p, d in (digests or {}).items()}
    rel = lambda p: os.path.relpath(Path(p).resolve(), folder)  # noqa: E731
    written = (tree_digests(folder, skip=(record,)) if outputs is None
               else {name: sha256_file(folder / name) for name in sorted(outputs)})
    data = {"format": RECORD_FORMAT, "sources": _json(sources),
            "inputs": {rel(p): digests.get(Path(p).resolve()) or sha256_file(Path(p)) for p in inputs},
            "folders": {rel(f): _files_in(Path(f)) for f in folders},
            "outputs": written, "whole_folder": outputs is None}
    (folder / record).write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n",
                                 encoding="utf-8")


def reusable(folder: Path, sources: dict, *, record: str = RECORD) -> str | None:
    """``None`` when ``folder`` holds the outputs of these ``sources`` as they are now, else why not.

    The reason is a short Vietnamese phrase, for progress messages.  Reads ``folder/record``, the
    inputs it lists (hashed) and the outputs it lists (hashed); nothing else.
    """
    import json

    folder = Path(folder)
    try:
        data = json.loads((folder / record).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "chưa có kết quả lập trước"
    except (OSError, ValueError):
        return "không đọc được bản ghi lần lập trước"
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        return "bản ghi lần lập trước khác định dạng"
    before = data.get("sources") or {}
    now = _json(sources)
    changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    if changed:
        return "đổi " + ", ".join(_SOURCE_WORDS.get(k, k) for k in changed)
    for rel, digest in (data.get("inputs") or {}).items():
        path = folder / rel
        try:
            if sha256_file(path) != digest:
                return f"tệp đầu vào {os.path.normpath(path)} đã đổi"
        except OSError:
            return f"tệp đầu vào {os.path.normpath(path)} không còn"
    for rel, names in (data.get("folders") or {}).items():
        if _files_in(folder / rel) != names:
            return f"thư mục {os.path.normpath(folder / rel)} có tệp thêm hoặc bớt"
    expected = data.get("outputs") or {}
    try:
        if data.get("whole_folder", True):
            found = tree_digests(folder, skip=(record,))
        else:
            found = {name: sha256_file(folder / name) for name in expected}
    except OSError:
        return "tệp kết quả đã bị xóa"
    if found != expected:
        return "tệp kết quả đã bị sửa, xóa hoặc thêm"
    return None


# The settings of a build as the progress messages name them.
_SOURCE_WORDS = {"code": "mã nguồn, mẫu trình bày hoặc sổ tay", "version": "phiên bản công cụ",
                 "python": "phiên bản Python", "libraries": "thư viện đã cài", "notebook": "sổ tay",
                 "kernel": "kernel", "data_dir": "thư mục dữ liệu", "ids": "các năm", "failed": "năm lỗi"}
