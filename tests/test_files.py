"""What a built folder was made from (build.json), and when it may be kept as it is.

The reports themselves are built in test_batch.py (a year unchanged is kept, a changed one
rebuilt, with the same bytes); here the record on small folders, every reason to rebuild.
"""

from __future__ import annotations

import json
import re

import pytest

from evaluation import files
from evaluation.files import RECORD, fingerprint, reusable, tree_digests, write_record

SOURCES = {"kind": "report", "id": "2020", "code": "c0de", "version": "0.1.0"}


@pytest.fixture
def built(tmp_path):
    """A project with two inputs, and an output folder beside it recorded as built from them."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "scores.csv").write_text("TT,Đơn vị\n1,A\n", encoding="utf-8")
    (data / "units.csv").write_text("id\na\n", encoding="utf-8")
    out = tmp_path / "outputs" / "2020"
    (out / "figures").mkdir(parents=True)
    (out / "report.html").write_text("<p>báo cáo</p>", encoding="utf-8")
    (out / "figures" / "a.svg").write_text("<svg/>", encoding="utf-8")
    inputs = [data / "scores.csv", data / "units.csv"]
    write_record(out, SOURCES, inputs, folders=[data])
    return {"out": out, "data": data}


def test_a_folder_built_from_unchanged_sources_is_kept(built):
    assert reusable(built["out"], dict(SOURCES)) is None
    record = json.loads((built["out"] / RECORD).read_text(encoding="utf-8"))
    assert record["inputs"] == {"../../data/scores.csv": files.sha256_file(built["data"] / "scores.csv"),
                                "../../data/units.csv": files.sha256_file(built["data"] / "units.csv")}
    assert record["folders"] == {"../../data": ["scores.csv", "units.csv"]}
    assert record["outputs"] == tree_digests(built["out"]) and set(record["outputs"]) == {"report.html",
                                                                                          "figures/a.svg"}


def test_the_decision_reads_only_the_record_the_inputs_and_the_outputs(built, monkeypatch):
    hashed = []
    real = files.sha256_file
    monkeypatch.setattr(files, "sha256_file", lambda p: hashed.append(p.resolve()) or real(p))
    assert reusable(built["out"], dict(SOURCES)) is None
    assert sorted(p.name for p in hashed) == ["a.svg", "report.html", "scores.csv", "units.csv"]


@pytest.mark.parametrize(("change", "reason"), [
    (lambda b: (b["data"] / "scores.csv").write_text("TT,Đơn vị\n1,B\n", encoding="utf-8"),
     "tệp đầu vào .*scores.csv đã đổi"),
    (lambda b: (b["data"] / "units.csv").unlink(), "tệp đầu vào .*units.csv không còn"),
    (lambda b: (b["data"] / "trace.csv").write_text("x\n", encoding="utf-8"), "thư mục .*data có tệp thêm hoặc bớt"),
    (lambda b: (b["out"] / "report.html").unlink(), "tệp kết quả"),
    (lambda b: (b["out"] / "figures" / "a.svg").write_text("<svg></svg>", encoding="utf-8"), "tệp kết quả"),
    (lambda b: (b["out"] / "thừa.txt").write_text("x", encoding="utf-8"), "tệp kết quả"),
    (lambda b: (b["out"] / RECORD).unlink(), "chưa có kết quả lập trước"),
    (lambda b: (b["out"] / RECORD).write_text("{", encoding="utf-8"), "không đọc được bản ghi"),
])
def test_anything_changed_since_the_build_asks_for_a_new_one(built, change, reason):
    change(built)
    why = reusable(built["out"], dict(SOURCES))
    assert why is not None
    assert re.search(reason, why), why


def test_other_code_templates_or_versions_ask_for_a_new_build(built):
    assert reusable(built["out"], SOURCES | {"code": "khác"}) == "đổi mã nguồn, mẫu trình bày hoặc sổ tay"
    assert reusable(built["out"], SOURCES | {"version": "0.2.0"}) == "đổi phiên bản công cụ"
    assert reusable(built["out"], SOURCES | {"data_dir": "../khác"}) == "đổi thư mục dữ liệu"


def test_a_record_of_some_files_only_covers_those(tmp_path):
    (tmp_path / "index.html").write_text("<p>mục lục</p>", encoding="utf-8")
    (tmp_path / "2020").mkdir()
    write_record(tmp_path, SOURCES, [], record="index.build.json", outputs=["index.html"])
    (tmp_path / "2020" / "other.txt").write_text("x", encoding="utf-8")   # not the index's business
    assert reusable(tmp_path, dict(SOURCES), record="index.build.json") is None
    (tmp_path / "index.html").write_text("<p>sửa tay</p>", encoding="utf-8")
    assert reusable(tmp_path, dict(SOURCES), record="index.build.json") is not None


def test_the_fingerprint_follows_names_and_bytes_but_not_compiled_caches(tmp_path):
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n", encoding="utf-8")
    first = fingerprint([tmp_path / "pkg"], tmp_path)
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert fingerprint([tmp_path / "pkg"], tmp_path) == first
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n", encoding="utf-8")
    assert fingerprint([tmp_path / "pkg"], tmp_path) != first
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "pkg" / "a.py").rename(tmp_path / "pkg" / "b.py")
    assert fingerprint([tmp_path / "pkg"], tmp_path) != first


def test_the_environment_names_python_and_the_installed_libraries():
    env = files.environment()
    assert set(env) == {"python", "libraries"} and len(env["libraries"]) == 64
    assert env == files.environment()
