"""Files written the same way every time, and put in place safely.

Same inputs, same bytes (:func:`deterministic_zip`); a built folder swapped into place
whole, one build of it at a time, with what killed runs left removed (:func:`build_lock`,
:func:`swap_into_place`, :func:`remove_leftovers`).

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
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on POSIX: builds are not locked
    fcntl = None

__all__ = ["deterministic_zip", "build_lock", "swap_into_place", "remove_leftovers", "leftover_names",
           "BUILDING", "OLD"]

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
