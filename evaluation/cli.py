"""Command line: ``python -m evaluation <command>``.

Exit status: 0 success; 2 bad input (every problem listed, nothing written);
1 the report could not be built (the failing notebook cell is named).  With
``report --all`` every year is tried: 2 when only bad input failed, 1 when a
report could not be built, and the failed years are named.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .engine.pipeline import display_path
from .errors import InputError, Problem, ReportError

__all__ = ["main"]


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
    from .inputs.params import find_params
    from .report.build import build_report

    if args.all:
        from .years.batch import run_batch

        paths = find_params(args.params_dir)
        if not paths:
            raise InputError([Problem(args.params_dir, None, None, None, "không có tệp tham số <năm>.yaml nào")])
        result = run_batch(paths, args.out, jobs=args.jobs, compare=not args.no_compare,
                           **({"notebook": Path(args.notebook).resolve()} if args.notebook else {}))
        for o in result.outcomes:
            if o.ok:
                print(f"{o.name}: {display_path(o.folder)}")
        return result.exit_status
    built = build_report(_params_for(args), args.out,
                         **({"notebook": Path(args.notebook).resolve()} if args.notebook else {}))
    print(f"{built.year}: {display_path(built.html)}, {display_path(built.pdf)}")
    return 0


def _cmd_new_year(args: argparse.Namespace) -> int:
    from .forms.newyear import new_year

    made = new_year(args.year, params_dir=args.params_dir, source=args.source)
    print(f"{made.year}: đã tạo {display_path(made.params)} (từ {display_path(made.source)}) và "
          f"{display_path(made.forms)} (các trang: {', '.join(made.tables)}).")
    print(f"Tiếp theo: điền biểu mẫu, rồi «make validate YEAR={made.year}» và «make report YEAR={made.year}».")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .years.build_compare import build_comparison

    paths = [Path(args.params_dir) / f"{year}.yaml" for year in args.years]
    built = build_comparison(paths, args.out)
    print(f"{built.year}: {display_path(built.html)}, {display_path(built.pdf)}")
    return 0


def _jobs(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("cần một số nguyên từ 1 trở lên")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation",
        description="Đánh giá, xếp loại mức độ hoàn thành nhiệm vụ — chấm điểm, xếp loại và lập báo cáo.",
    )
    parser.add_argument("--params-dir", default="params", help="thư mục tham số (mặc định: params)")
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
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("new-year", help="tạo tham số và biểu mẫu Excel cho một năm mới (không ghi đè)")
    p.add_argument("year", type=int, help="năm mới, ví dụ 2021")
    p.add_argument("--from", dest="source", help="tệp tham số làm mẫu (mặc định: năm gần nhất trước đó)")
    p.set_defaults(func=_cmd_new_year)
    p = sub.add_parser("compare", help="lập báo cáo so sánh các năm (HTML, PDF, CSV)")
    p.add_argument("--years", nargs="+", required=True, metavar="NĂM",
                   help="hai năm trở lên (tên tệp params/<năm>.yaml)")
    p.add_argument("--out", default="outputs", help="thư mục kết quả (mặc định: outputs)")
    p.set_defaults(func=_cmd_compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(exc.message(), file=sys.stderr)
        return exc.exit_status
    except ReportError as exc:
        print(f"Không lập được báo cáo: {exc}", file=sys.stderr)
        return exc.exit_status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
