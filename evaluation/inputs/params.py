"""Run parameters of one year: ``params/<year>.yaml``.

Paths inside a params file are relative to the params file itself, so a run
does not depend on the current directory.

Every file a year reads must lie, once symbolic links are followed, inside the
project (the folder holding ``params/``) or inside a folder the params declare
under ``allowed_folders`` (say, rules shared by several provinces).  A params
file that points anywhere else (``scores: /etc/shadow``, ``../../../etc/passwd``,
a link under ``data/`` to a system file) is refused by key, before a byte of
that file is read: no message can quote what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import InputError, Problem
from .rules import read_yaml_model

__all__ = ["Params", "YearParams", "load_params", "find_params", "ReportText", "ReportDate", "BasisDocument"]

Text = Annotated[str, Field(min_length=1)]


class BasisDocument(BaseModel):
    """A document the report is made under ("Thực hiện Công văn số 558/UBND-THKH ngày … của …")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Text                       # its type as the opening sentence names it: "Quyết định", "Công văn"
    number: Text
    date: str = ""
    issuer: str = ""                 # "UBND tỉnh", "Chủ tịch UBND tỉnh"
    title: str = ""                  # "về việc …", as the opening sentence quotes it


class ReportDate(BaseModel):
    """The date under the motto; a blank day (or month) is a draft, filled in when the report is signed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    day: int | None = Field(None, ge=1, le=31)
    month: int | None = Field(None, ge=1, le=12)
    year: int = Field(ge=1900, le=2200)


class ReportText(BaseModel):
    """What the administrative document says around the numbers (all data, per province and year).

    The form is that of Nghị định 30/2020/NĐ-CP: issuing body, number and symbol, place and date,
    title, the opening "Thực hiện …" with its basis documents (the rules' regulations, then
    ``basis``), the sections, the closing formula, recipients ("Lưu: …" last) and the signature.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    issuer_parent: Text
    issuer: Text
    # "Số: …/BC-SNV": the number is left blank (a draft) until the clerk registers the report.
    symbol: str = ""
    number: str = ""
    place: str = ""
    date: ReportDate | None = None
    # A free-text place and date, for params written before ``place`` and ``date`` existed.
    place_date: str = ""
    title: Text
    subtitle: str = ""
    basis: list[BasisDocument] = []
    # The paragraphs the Sở writes for the year, in the order the report prints them.
    intro: str = ""                  # after "Thực hiện …": what is reported, to whom
    appraisal_note: str = ""         # end of section 1: how the bodies appraised
    adjustments_intro: str = ""      # start of section 2: who was consulted on bonus and penalty
    results_lead: str = ""           # start of section 3, before "dự kiến xếp loại … của 61 cơ quan, đơn vị"
    assessment: str = ""             # the year's "Đánh giá chung" text (Markdown), relative to the data folder
    closing: str = ""                # "Trên đây là … xem xét, quyết định./."
    recipients: list[Text] = []
    archive: str = "VT"              # "Lưu: VT, TCBC."
    signer_title: str = ""
    signer_name: str = ""
    source_note: str = ""

    @model_validator(mode="after")
    def _place_and_date(self) -> ReportText:
        if not (self.place_date or (self.place and self.date)):
            raise ValueError("cần nơi ban hành và ngày tháng: «place» và «date» (hoặc «place_date»)")
        return self


class Params(BaseModel):
    """The contents of a params file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    year: int = Field(ge=1900, le=2200)
    rules: Text
    # One registry file, or several read as one (a real registry and an illustrative one).
    registry: Text | Annotated[list[Text], Field(min_length=1)]
    data: Text
    inputs: dict[Text, Text] = Field(min_length=1)
    # Optional: the file declaring which values may vary (report section «Độ tin cậy»).
    uncertainty: Text | None = None
    illustrative: bool = False
    # Folders outside the project this year may read from (relative to the params file).
    allowed_folders: list[Text] = []
    report: ReportText


@dataclass(frozen=True)
class YearParams:
    """Params with every path resolved.

    Attributes
    ----------
    id : str
        The params file's stem ("2020", "example-2021"): names the output folder.
    path : Path
        The params file.
    params : Params
    """

    id: str
    path: Path
    params: Params
    data_override: Path | None = None

    @property
    def base(self) -> Path:
        return self.path.parent

    @property
    def year(self) -> int:
        return self.params.year

    @property
    def rules_path(self) -> Path:
        return (self.base / self.params.rules).resolve()

    @property
    def registry_paths(self) -> list[Path]:
        """Every registry file of the year, in the order given."""
        names = [self.params.registry] if isinstance(self.params.registry, str) else self.params.registry
        return [(self.base / n).resolve() for n in names]

    @property
    def registry_path(self) -> Path:
        """The (first) registry file: the real registry, beside ``abbreviations.csv``."""
        return self.registry_paths[0]

    @property
    def data_dir(self) -> Path:
        if self.data_override is not None:
            return Path(self.data_override).resolve()
        return (self.base / self.params.data).resolve()

    @property
    def uncertainty_path(self) -> Path | None:
        """The declaration of uncertainty named by the params, or None."""
        rel = self.params.uncertainty
        return None if rel is None else (self.base / rel).resolve()

    @property
    def assessment_path(self) -> Path | None:
        """The year's "Đánh giá chung" text, when the params name one (in the data folder)."""
        rel = self.params.report.assessment
        return self.data_dir / rel if rel else None

    def input_path(self, name: str) -> Path | None:
        rel = self.params.inputs.get(name)
        return None if rel is None else self.data_dir / rel

    @property
    def project(self) -> Path:
        """The folder holding ``params/`` (where the year's files are expected)."""
        return self.base.parent

    @property
    def roots(self) -> list[Path]:
        """The folders this year may read from: the project, the declared folders, a data folder given."""
        roots = [self.project, *((self.base / f).resolve() for f in self.params.allowed_folders)]
        if self.data_override is not None:
            roots.append(Path(self.data_override).resolve())
        return roots

    def confined(self, path: Path) -> bool:
        """Whether ``path`` (symbolic links followed) lies inside one of :attr:`roots`."""
        real = Path(path).resolve()
        return any(real.is_relative_to(root) for root in self.roots)


_OUTSIDE = ("dẫn ra ngoài thư mục dự án {project} (kể cả qua liên kết tượng trưng): tệp không được đọc; "
            "chỉ đọc tệp trong dự án hoặc trong các thư mục khai báo ở khóa «allowed_folders»")


def load_params(path: Path | str, *, label: str | None = None,
                data_dir: Path | str | None = None, inputs_exist: bool = True) -> YearParams:
    """Read and check ``params/<year>.yaml``, including that the files it names exist.

    Parameters
    ----------
    path : Path or str
    label : str, optional
        Name of the file in messages.
    data_dir : Path or str, optional
        Read the inputs from this folder instead of the one the params name.
    inputs_exist : bool
        Check that every input file exists (default).  False while the inputs are
        still being collected from the parties' forms.

    Raises
    ------
    InputError
        With every problem: unknown or missing keys, wrong types, missing rules
        file, registry or data folder.
    """
    path = Path(path)
    label = label or str(path)
    params, problems = read_yaml_model(Params, path, label)
    if problems:
        raise InputError(problems)
    year = YearParams(id=path.stem, path=path.resolve(), params=params,
                      data_override=Path(data_dir).resolve() if data_dir else None)
    outside = _OUTSIDE.format(project=year.project)
    names = [params.registry] if isinstance(params.registry, str) else params.registry
    registries = [("registry" if isinstance(params.registry, str) else f"registry[{i}]", path, "tệp", name)
                  for i, (path, name) in enumerate(zip(year.registry_paths, names, strict=True))]
    confined = {}
    # The declaration of uncertainty, when named, is an input like the others: confined, said by key.
    optional = ([("uncertainty", year.uncertainty_path, "tệp", params.uncertainty)]
                if year.uncertainty_path is not None else [])
    for key, target, kind, shown in (("rules", year.rules_path, "tệp", params.rules), *registries, *optional,
                                     ("data", year.data_dir, "thư mục", str(data_dir) if data_dir else params.data)):
        confined[key] = year.confined(target)
        if not confined[key]:
            problems.append(Problem(label, None, key, shown, outside))
            continue
        exists = target.is_dir() if kind == "thư mục" else target.is_file()
        if not exists:
            problems.append(Problem(label, None, key, shown, f"không tìm thấy {kind} {target}"))
    if confined[registries[0][0]]:
        beside = year.registry_path.parent / "abbreviations.csv"
        if beside.exists() and not year.confined(beside):
            problems.append(Problem(label, None, "registry", "abbreviations.csv",
                                    "tệp viết tắt bên cạnh danh mục " + outside))
    if confined["data"] and year.data_dir.is_dir():
        for name, rel in params.inputs.items():
            if not year.confined(year.data_dir / rel):
                problems.append(Problem(label, None, f"inputs.{name}", rel, outside))
            elif inputs_exist and not (year.data_dir / rel).is_file():
                problems.append(Problem(label, None, f"inputs.{name}", rel,
                                        f"không tìm thấy tệp trong {year.data_dir}"))
        text = year.assessment_path
        if text is not None and not text.is_file():
            problems.append(Problem(label, None, "report.assessment", params.report.assessment,
                                    f"không tìm thấy tệp trong {year.data_dir}"))
    if problems:
        raise InputError(problems)
    return year


def find_params(params_dir: Path | str) -> list[Path]:
    """Every ``<year>.yaml`` in ``params_dir`` (sorted), rules files excluded."""
    return sorted(p for p in Path(params_dir).glob("*.yaml") if p.is_file())
