"""Command line: ``python -m evaluation <command>``.

Exit status: 0 success; 2 bad input (every problem listed, nothing written);
1 the report could not be built (the failing notebook cell is named) or a file
could not be read or written (the path and the cause are named: a read-only or
full disk, no permission, a file where a folder should be); 3 interrupted
(Ctrl-C, SIGTERM, SIGHUP: the previous report is left as it was).  With
``report --all`` every year is tried: 2 when only bad input failed, 1 when a
report could not be built, and the failed years are named.

Every failure ends as one message in Vietnamese, without a traceback; ``--debug``
(anywhere on the line) adds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError, Interrupted, Problem, ReportError, describe_os_error, shown_path

__all__ = ["main"]


def display_path(path: Path) -> str:
    """:func:`evaluation.engine.pipeline.display_path`, imported by the commands that need it (it brings pandas)."""
    from .engine.pipeline import display_path as shown

    return shown(path)


def _params_for(args: argparse.Namespace) -> Path:
    return Path(args.params_dir) / f"{args.year}.yaml"


def _cmd_validate(args: argparse.Namespace) -> int:
    from .engine.pipeline import evaluate

    ev = evaluate(_params_for(args))
    counts = ev.counts.loc["total", "total"]
    print(f"{args.year}: dữ liệu hợp lệ — {counts} đơn vị.")
    for sentence in ev.sentences:
        print("  " + sentence)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    # Light imports only until something has to be built: with nothing changed, the command reads
    # the build records and checksums and ends (no pandas, no kernel).
    from .report.build import build_report

    if args.all:
        from .years.batch import run_batch

        # As inputs.params.find_params, without importing the params' models.
        paths = sorted(p for p in Path(args.params_dir).glob("*.yaml") if p.is_file())
        if not paths:
            raise InputError([Problem(args.params_dir, None, None, None, "không có tệp tham số <năm>.yaml nào")])
        result = run_batch(paths, args.out, jobs=args.jobs, compare=not args.no_compare, force=args.force,
                           **({"notebook": Path(args.notebook).resolve()} if args.notebook else {}))
        for o in result.outcomes:
            if o.ok:
                print(f"{o.name}: {shown_path(o.folder)}" + (" (không đổi)" if o.reused else ""))
        return result.exit_status
    built = build_report(_params_for(args), args.out, force=args.force,
                         **({"notebook": Path(args.notebook).resolve()} if args.notebook else {}))
    print(f"{built.year}: {shown_path(built.html)}, {shown_path(built.pdf)}"
          + (" (không có gì thay đổi: giữ báo cáo đã lập; --force để lập lại)" if built.reused else ""))
    return 0


def _cmd_new_year(args: argparse.Namespace) -> int:
    from .forms.newyear import new_year
    from .inputs.schemas import TABLES, mode_of

    made = new_year(args.year, params_dir=args.params_dir, source=args.source)
    sheets = ", ".join(f"«{TABLES[name].title}»" for name in made.tables)   # as users see them in Excel
    print(f"{made.year}: đã tạo {display_path(made.params)} (từ {display_path(made.source)}) và "
          f"{display_path(made.forms)} (các trang: {sheets}).")
    if mode_of(made.tables) == "detailed":
        print(f"Tiếp theo: biểu mẫu cho từng bên «make forms YEAR={made.year}», gửi đi, nhận về rồi «make collect "
              f"YEAR={made.year} FROM=<thư mục>» (hoặc điền biểu mẫu chung); «make validate YEAR={made.year}» và "
              f"«make report YEAR={made.year}».")
    else:
        print(f"Tiếp theo: điền biểu mẫu, rồi «make validate YEAR={made.year}» và «make report YEAR={made.year}».")
    return 0


def _cmd_forms(args: argparse.Namespace) -> int:
    from .forms.collect import collect
    from .forms.issue import MISSING_FOLDER, issue_forms, year_forms
    from .forms.parties import KINDS
    from .forms.status import STATUS, status_board

    yf = year_forms(_params_for(args))
    if args.missing:
        if not args.source:
            raise InputError([Problem("--missing", None, None, None,
                                      "cần thư mục các biểu mẫu đã nhận: --from <thư mục>")])
        got = collect(yf, _returns_folder(args.source))
        board = status_board(got).set_index("key")
        redo = [p for p in yf.parties if board.at[p.key, "status"] not in (STATUS["ok"], STATUS["twice"])
                or board.at[p.key, "problems"]]
        sent = {k: r.sent for k, r in got.reads.items()}
        out = args.out or yf.params.data_dir / MISSING_FOLDER
        done = issue_forms(yf, out, parties=redo, sent=sent, problems=got.problems)
        if not redo:
            print(f"{yf.year}: mọi bên đã nộp đủ, không cần biểu mẫu bổ sung.")
            return 0
    else:
        done = issue_forms(yf, args.out)
    counts = {}
    for party in done.parties:
        counts[KINDS[party.kind].label] = counts.get(KINDS[party.kind].label, 0) + 1
    print(f"{yf.year}: {len(done.parties)} biểu mẫu trong {display_path(done.folder)} "
          f"({len(done.written)} tệp mới, {len(done.unchanged)} tệp đã có, không đổi) — "
          + ", ".join(f"{label}: {n}" for label, n in counts.items()) + ".")
    if args.missing:
        for party in done.parties:
            status = board.at[party.key, "status"]
            print(f"  {display_path(done.folder / yf.relative_path(party))} ({status})")
    print(f"Tiếp theo: gửi các tệp cho từng bên; nhận lại vào một thư mục rồi «python -m evaluation collect "
          f"--year {args.year} --from <thư mục>».")
    return 0


def _returns_folder(text: str) -> Path:
    folder = Path(text)
    if not folder.is_dir():
        raise InputError([Problem(text, None, None, None, "không tìm thấy thư mục các biểu mẫu đã nhận")])
    return folder


def _cmd_collect(args: argparse.Namespace) -> int:
    from .forms.collect import collect
    from .forms.issue import year_forms
    from .forms.status import board_text, complete, status_board
    from .forms.store import apply_plan, plan_writes

    yf = year_forms(_params_for(args))
    folder = _returns_folder(args.source)
    got = collect(yf, folder)
    board = status_board(got)
    print(board_text(board, year=yf.year, folder=display_path(folder)))
    problems = got.all_problems
    if got.ignored:
        print(f"\nBỏ qua {len(got.ignored)} tệp không phải sổ làm việc Excel: "
              + ", ".join(p.relative_to(folder).as_posix() for p in got.ignored[:10])
              + (" …" if len(got.ignored) > 10 else ""))
    if problems:
        print(f"\nCó {len(problems)} lỗi trong các biểu mẫu đã nhận:")
        for p in problems:
            print(f"  - {p}")
    plan = plan_writes(got, board)
    print("\nGhi vào số liệu năm:" if args.write else "\nNếu ghi (--write), sẽ thay đổi:")
    for line in plan.summary:
        print(f"  {line}")
    if args.write:
        apply_plan(plan)
        print("Đã ghi." if plan.changes else "Không có gì thay đổi.")
    else:
        print("Chưa ghi gì: chạy lại với --write để ghi.")
    if not complete(board):
        missing = int((~board["status"].isin(["đã nộp", "nộp nhiều lần"])).sum())
        print(f"\nChưa đủ: {missing} bên chưa nộp hoặc biểu mẫu chưa dùng được, {len(problems)} lỗi. "
              f"Biểu mẫu bổ sung: python -m evaluation forms --year {args.year} --missing --from {args.source}",
              file=sys.stderr)
        return 2
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .years.build_compare import build_comparison

    paths = [Path(args.params_dir) / f"{year}.yaml" for year in args.years]
    built = build_comparison(paths, args.out, force=args.force)
    print(f"{built.year}: {shown_path(built.html)}, {shown_path(built.pdf)}"
          + (" (không có gì thay đổi: giữ báo cáo đã lập; --force để lập lại)" if built.reused else ""))
    return 0


def _jobs(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("cần một số nguyên từ 1 trở lên")
    return value


_ARGPARSE_VI = [
    (r"the following arguments are required: (.*)", r"thiếu tham số bắt buộc: \1"),
    (r"unrecognized arguments: (.*)", r"tham số không được biết đến: \1"),
    (r"argument (\S+): expected one argument", r"tham số \1 cần một giá trị"),
    (r"argument (\S+): expected at least one argument", r"tham số \1 cần ít nhất một giá trị"),
    (r"argument (\S+): not allowed with argument (\S+)", r"không dùng \1 cùng với \2"),
    (r"argument (?:command: )?(\S+)?:? ?invalid choice: (\S+) \(choose from (.*)\)", r"không có lệnh \2; các lệnh: \3"),
    (r"argument (\S+): invalid (?:int|_jobs|_year) value: (\S+)", r"tham số \1 cần một số nguyên, không phải \2"),
    (r"one of the arguments (.*) is required", r"cần một trong các tham số: \1"),
    (r"argument (\S+): (.*)", r"tham số \1: \2"),
]


class _Parser(argparse.ArgumentParser):
    """argparse, with its messages to the user in Vietnamese."""

    def error(self, message: str):
        import re

        for pattern, text in _ARGPARSE_VI:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, text, message)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: lỗi: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m evaluation",
        description="Đánh giá, xếp loại mức độ hoàn thành nhiệm vụ — chấm điểm, xếp loại và lập báo cáo.",
    )
    parser.add_argument("--params-dir", default="params", help="thư mục tham số (mặc định: params)")
    parser.add_argument("--debug", action="store_true",
                        help="khi có lỗi, in thêm chi tiết kỹ thuật (traceback); đặt ở đâu trên dòng lệnh cũng được")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="kiểm tra dữ liệu của một năm, không ghi gì")
    p.add_argument("--year", required=True, help="năm (tên tệp params/<năm>.yaml)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("report", help="lập báo cáo (HTML, PDF, CSV, Excel) của một năm hoặc mọi năm")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--year", help="năm (tên tệp params/<năm>.yaml)")
    which.add_argument("--all", action="store_true", help="mọi tệp params/*.yaml")
    p.add_argument("--out", default="outputs", help="thư mục kết quả (mặc định: outputs)")
    p.add_argument("--notebook", help="sổ tay báo cáo khác (mặc định: notebooks/report.ipynb); cần ô "
                                      "«parameters» khai báo year, params_file, data_dir, output_dir")
    p.add_argument("--no-compare", action="store_true",
                   help="với --all: không lập báo cáo so sánh các năm")
    p.add_argument("--jobs", type=_jobs, default=None,
                   help="với --all: số năm lập cùng lúc (mặc định: số lõi CPU)")
    p.add_argument("--force", action="store_true",
                   help="lập lại cả khi không có gì thay đổi (mặc định: giữ báo cáo đã lập nếu dữ liệu, quy định, "
                        "sổ tay, mẫu trình bày và phiên bản không đổi)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("new-year", help="tạo tham số và biểu mẫu Excel cho một năm mới (không ghi đè)")
    p.add_argument("year", type=int, help="năm mới, ví dụ 2021")
    p.add_argument("--from", dest="source", help="tệp tham số làm mẫu (mặc định: năm gần nhất trước đó)")
    p.set_defaults(func=_cmd_new_year)
    p = sub.add_parser("forms", help="lập biểu mẫu Excel cho từng bên nộp số liệu của một năm (không ghi đè)")
    p.add_argument("--year", required=True, help="năm (tên tệp params/<năm>.yaml)")
    p.add_argument("--out", help="thư mục ghi biểu mẫu (mặc định: <thư mục số liệu>/forms, với --missing: "
                                 "<thư mục số liệu>/forms-bo-sung)")
    p.add_argument("--missing", action="store_true",
                   help="chỉ các bên chưa nộp hoặc nộp biểu mẫu chưa dùng được (ghi lại số liệu đã nộp)")
    p.add_argument("--from", dest="source", help="với --missing: thư mục các biểu mẫu đã nhận")
    p.set_defaults(func=_cmd_forms)

    p = sub.add_parser("collect", help="đọc các biểu mẫu đã nhận, báo tình hình nộp và lỗi, ghi số liệu năm")
    p.add_argument("--year", required=True, help="năm (tên tệp params/<năm>.yaml)")
    p.add_argument("--from", dest="source", required=True, help="thư mục các biểu mẫu đã nhận (kể cả thư mục con)")
    p.add_argument("--write", action="store_true",
                   help="ghi các bảng số liệu, trace.csv và status.csv vào thư mục số liệu năm (mặc định: chỉ báo)")
    p.set_defaults(func=_cmd_collect)

    p = sub.add_parser("compare", help="lập báo cáo so sánh các năm (HTML, PDF, CSV)")
    p.add_argument("--years", nargs="+", required=True, metavar="NĂM",
                   help="hai năm trở lên (tên tệp params/<năm>.yaml)")
    p.add_argument("--out", default="outputs", help="thư mục kết quả (mặc định: outputs)")
    p.add_argument("--force", action="store_true", help="lập lại cả khi không có gì thay đổi")
    p.set_defaults(func=_cmd_compare)
    return parser


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the command as Ctrl-C (SIGINT) does: clean-up runs, then exit status 3.

    By default they end the process at once, leaving a temporary folder and a kernel behind.
    """
    if sys.platform == "win32":
        yield
        return
    def stop(signum, _frame):
        # The kernel and its client go down with us: their complaints on the way ("Kernel died …",
        # an asyncio task never retrieved) are not news, and the user reads one line. The process
        # is ending, so logging stays off.
        logging.disable(logging.CRITICAL)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Interrupted(signum)

    previous = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            previous[sig] = signal.signal(sig, stop)
    except ValueError:  # not the main thread: leave the signals alone
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    args = parser.parse_args([a for a in argv if a != "--debug"])
    what = {"validate": "kiểm tra dữ liệu", "report": "lập báo cáo", "new-year": "tạo năm mới",
            "compare": "lập báo cáo so sánh", "forms": "lập biểu mẫu", "collect": "thu biểu mẫu"}.get(
        args.command, args.command)

    def fail(text: str, status: int) -> int:
        # The one boundary: whatever went wrong is one line in Vietnamese, the traceback only on demand.
        if debug:
            traceback.print_exc()
        print(text, file=sys.stderr)
        return status

    with _signals_interrupt():
        try:
            return args.func(args)
        except InputError as exc:
            return fail(exc.message(), exc.exit_status)
        except ReportError as exc:
            return fail(f"Không lập được báo cáo: {_one_line(exc)}", exc.exit_status)
        except (KeyboardInterrupt, Interrupted) as exc:
            cause = "Ctrl-C" if isinstance(exc, KeyboardInterrupt) else f"tín hiệu {exc.name}"
            return fail(f"Đã dừng ({cause}) khi đang {what}: không có gì được ghi dở dang, báo cáo trước đó "
                        "giữ nguyên.", Interrupted.exit_status)
        except OSError as exc:
            return fail(f"Không {what} được: {describe_os_error(exc)}.", ReportError.exit_status)
        except MemoryError:
            return fail(f"Không {what} được: không đủ bộ nhớ.", ReportError.exit_status)
        except Exception as exc:  # noqa: BLE001 - the last boundary: a defect, said in one line
            return fail(f"Không {what} được: lỗi không lường trước ({type(exc).__name__}); chạy lại với --debug "
                        "để xem chi tiết và báo cho người phát triển.", ReportError.exit_status)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
