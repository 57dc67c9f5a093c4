"""Structured errors: every problem names its file, row, column, value and what was expected.

A loader collects *all* problems of its inputs before raising one
:class:`InputError`, so a user fixes a spreadsheet in one pass instead of one
error per run.  Messages are in Vietnamese: they are read by the analysts who
prepared the data.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a table is asked for: a command that finds nothing to do needs no pandas
    import pandas as pd

__all__ = ["Problem", "InputError", "ReportError", "Interrupted", "problems_frame", "MESSAGES_PER_FILE",
           "os_error_text", "describe_os_error", "parser_text", "shown_path"]

# At most this many problems of one file are printed; the rest are counted (a file of 200,000 bad
# rows must not print 200,000 lines: the first ones show what is wrong).
MESSAGES_PER_FILE = 50


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place of one input.

    Attributes
    ----------
    file : str
        The input file, as the user named it (relative path).
    row : int or None
        Row as a spreadsheet shows it (the header is row 1), or None for a file-wide problem.
    column : str or None
        The column header as written in the file.
    value : str or None
        The offending value, as text.
    expected : str
        What was expected instead, in plain words.
    cell : str or None
        Spreadsheet address (``Điểm!C14``) when the input is a workbook.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str
    cell: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.cell:
            where.append(f"ô {self.cell}")
        elif self.row is not None:
            where.append(f"dòng {self.row}")
        if self.column:
            # In a YAML file the place is a key path (tiers[2].min), not a column.
            noun = "khóa" if self.file.endswith((".yaml", ".yml")) else "cột"
            where.append(f"{noun} «{self.column}»")
        text = ", ".join(where)
        if self.value is not None:
            text += f": giá trị «{_short(self.value)}»"
        return f"{text} — {self.expected}"


_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")


def _short(value: str, limit: int = 60) -> str:
    # One problem, one line: a line break inside a value (a quoted cell) is shown, not made.
    value = _LINE_BREAKS.sub("⏎", str(value))
    return value if len(value) <= limit else value[: limit - 1] + "…"


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """All problems as one table (file, row, column, value, expected, cell)."""
    import pandas as pd

    rows = [asdict(p) for p in problems]
    return pd.DataFrame(rows, columns=["file", "row", "column", "value", "expected", "cell"])


class InputError(Exception):
    """Bad input: one or more :class:`Problem`, reported together.

    The command line turns this into exit status 2 and writes nothing.
    """

    exit_status = 2

    def __init__(self, problems: Iterable[Problem], *, notes: Iterable[str] = (), checked: dict | None = None):
        self.problems = list(problems)
        # Lines said after the problems (e.g. rows read, kept and rejected per file).
        self.notes = list(notes)
        # The checked tables, when the loader got that far: rows kept are not lost, only not used.
        self.checked = dict(checked or {})
        super().__init__(self.message())

    def message(self, per_file: int | None = MESSAGES_PER_FILE) -> str:
        """Every problem on a line of its own, at most ``per_file`` per file, then the notes.

        The problems left out are counted, per file, on one line each after the list
        (``per_file=None`` prints them all; :meth:`table` always holds them all).
        """
        n = len(self.problems)
        head = f"Dữ liệu vào có {_count(n)} lỗi:"
        shown: list[str] = []
        left: dict[str, int] = {}
        for p in self.problems:
            seen = left.setdefault(p.file, 0)
            if per_file is None or seen < per_file:
                shown.append(f"  - {p}")
            left[p.file] = seen + 1
        elided = [f"  … và {_count(k - per_file)} lỗi khác trong {f} (chỉ in {per_file} lỗi đầu của mỗi tệp)"
                  for f, k in left.items() if per_file is not None and k > per_file]
        return "\n".join([head, *shown, *elided, *self.notes])

    def table(self) -> pd.DataFrame:
        return problems_frame(self.problems)


def _count(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # 199.943: the Vietnamese thousands separator


class ReportError(Exception):
    """The report could not be built (a notebook cell failed, a renderer failed).

    Attributes
    ----------
    cell : int or None
        Index of the failing cell in the notebook, when a cell failed.
    source : str or None
        First line of that cell's source, to recognise it.
    error : str
        The error name and value raised inside the cell.
    """

    exit_status = 1

    def __init__(self, message: str, *, cell: int | None = None, source: str | None = None,
                 error: str = ""):
        self.cell = cell
        self.source = source
        self.error = error
        super().__init__(message)


class Interrupted(BaseException):
    """The run was asked to stop: Ctrl-C (SIGINT), ``kill`` (SIGTERM) or a closed terminal (SIGHUP).

    A :class:`BaseException`, like :class:`KeyboardInterrupt`, so that no ``except Exception``
    swallows it: every ``finally`` and clean-up on the way out runs, and the command line ends
    with exit status 3 and one line saying what was left as it was.
    """

    exit_status = 3

    def __init__(self, signum: int):
        import signal

        self.signum = signum
        try:
            self.name = signal.Signals(signum).name
        except ValueError:
            self.name = str(signum)
        super().__init__(signum)  # args: what pickling (a batch's year process) gives back

    def __str__(self) -> str:
        return self.name


# -- the system's and the parsers' messages, said in Vietnamese -------------------------------

_ERRNO_VI = {
    errno.ENOSPC: "hết chỗ trống trên đĩa",
    errno.EDQUOT: "vượt hạn mức dung lượng đĩa của người dùng",
    errno.EROFS: "ổ đĩa chỉ cho đọc, không ghi được",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "thao tác không được phép",
    errno.ENOENT: "không tồn tại",
    errno.ENOTDIR: "một phần của đường dẫn là tệp, không phải thư mục",
    errno.EISDIR: "là thư mục, không phải tệp",
    errno.EEXIST: "đã có tệp hoặc thư mục trùng tên",
    errno.ENOTEMPTY: "thư mục không rỗng",
    errno.EMFILE: "mở quá nhiều tệp cùng lúc",
    errno.ENFILE: "hệ thống mở quá nhiều tệp cùng lúc",
    errno.ENAMETOOLONG: "tên tệp quá dài",
    errno.EIO: "lỗi đọc/ghi của thiết bị lưu trữ",
    errno.EBUSY: "đang được chương trình khác dùng",
    errno.ELOOP: "liên kết tượng trưng trỏ vòng",
    errno.EXDEV: "không chuyển được giữa hai ổ đĩa",
    errno.ENOMEM: "không đủ bộ nhớ",
    errno.EFBIG: "tệp quá lớn",
    errno.ETIMEDOUT: "quá thời gian chờ (ổ mạng?)",
    errno.ESTALE: "ổ mạng không còn kết nối",
}


def os_error_text(exc: OSError) -> str:
    """The cause of a system error in Vietnamese, with its code: ``hết chỗ trống trên đĩa (ENOSPC)``."""
    code = errno.errorcode.get(exc.errno or 0, "")
    text = _ERRNO_VI.get(exc.errno or 0, "lỗi hệ thống")
    return f"{text} ({code})" if code else text


def shown_path(path: object) -> str:
    """A path as users read it: relative to the current folder when inside it."""
    text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)
    try:
        full = os.path.abspath(text)
        rel = os.path.relpath(full)
    except ValueError:
        return text
    return text if rel.startswith("..") else rel


def describe_os_error(exc: OSError, default_path: object | None = None) -> str:
    """One line: the path and the cause of a failed read or write, in Vietnamese."""
    path = exc.filename if exc.filename is not None else default_path
    where = f"«{shown_path(path)}»" if path is not None else "tệp"
    if exc.filename2 is not None:
        where += f" → «{shown_path(exc.filename2)}»"
    return f"lỗi khi đọc/ghi {where}: {os_error_text(exc)}"


# PyYAML's and expat's messages, the parts users meet: what they mean, in Vietnamese.
_PARSER_VI = [
    (r"mapping values are not allowed here", "có dấu «:» không đúng chỗ (thiếu dấu cách sau «:», "
                                             "hoặc giá trị chứa «: » cần đặt trong ngoặc kép)"),
    (r"could not find expected ':'", "thiếu dấu «:» sau tên khóa"),
    (r"found character '\\t' that cannot start any token", "có ký tự tab: YAML chỉ thụt lề bằng dấu cách"),
    (r"found character .* that cannot start any token", "có ký tự không được phép ở đầu giá trị "
                                                        "(đặt giá trị trong ngoặc kép)"),
    (r"expected <block end>, but found", "thụt lề không khớp với các dòng phía trên"),
    (r"did not find expected key", "thụt lề sai hoặc thiếu dấu «-» / «:»"),
    (r"did not find expected '-' indicator", "mục của danh sách thiếu dấu «-» hoặc thụt lề sai"),
    (r"did not find expected node content", "thiếu giá trị"),
    (r"found undefined alias", "dùng bí danh «*…» chưa được định nghĩa bằng «&…»"),
    (r"found duplicate anchor", "tên neo «&…» bị lặp"),
    (r"found unexpected end of stream", "tệp kết thúc giữa chừng (ngoặc kép hoặc ngoặc chưa đóng?)"),
    (r"found unknown escape character", "ký tự thoát «\\…» không hợp lệ trong chuỗi ngoặc kép "
                                        "(dùng ngoặc đơn hoặc viết «\\\\»)"),
    (r"expected ',' or '[\]}]', but got", "danh sách hoặc bảng trong ngoặc thiếu dấu phẩy hoặc chưa đóng"),
    (r"found unexpected ':'", "có dấu «:» không đúng chỗ"),
    (r"found unhashable key", "tên khóa không hợp lệ (khóa phải là chữ hoặc số)"),
    (r"expected a single document", "tệp chứa nhiều tài liệu YAML (dấu «---»); chỉ được một"),
    (r"special characters are not allowed", "có ký tự đặc biệt không được phép"),
    (r"expected alphabetic or numeric character", "sau «&», «*» hoặc «!» phải là tên"),
    (r"while scanning a (simple|plain) key", "thiếu dấu «:» sau tên khóa"),
    (r"while scanning a quoted scalar", "ngoặc kép chưa đóng"),
    (r"while scanning a block scalar", "khối chữ («|» hoặc «>») viết sai"),
    (r"not well-formed", "XML không đúng cú pháp"),
    (r"no element found", "XML bị cắt cụt (tệp không đầy đủ)"),
    (r"mismatched tag", "XML có thẻ mở, thẻ đóng không khớp"),
    (r"unclosed token|partial character", "XML bị cắt cụt (tệp không đầy đủ)"),
    (r"junk after document element", "XML có nội dung thừa sau phần tử gốc"),
    (r"undefined entity", "XML dùng thực thể chưa định nghĩa"),
    (r"(?i)invalid token|syntax error|: line \d+, column \d+", "XML không đúng cú pháp"),
    (r"(?i)bad crc|crc-32", "tệp nén bị hỏng (sai mã kiểm tra CRC)"),
    (r"(?i)not a zip file|truncated|bad magic number|end of central directory",
     "tệp nén bị hỏng hoặc không đầy đủ"),
    (r"There is no item named", "thiếu một phần bên trong tệp nén"),
    (r"(?i)encrypt|password", "tệp có đặt mật khẩu"),
]


def parser_text(message: str) -> str:
    """A YAML, XML or zip parser's message in Vietnamese (a general one when it is not known)."""
    for pattern, text in _PARSER_VI:
        if re.search(pattern, message):
            return text
    return "cú pháp không hợp lệ"
