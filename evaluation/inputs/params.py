"""Run parameters of one year: ``params/<year>.yaml``.

Paths inside a params file are relative to the params file itself, so a run
does not depend on the current directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError, Problem
from .rules import read_yaml_model

__all__ = ["Params", "YearParams", "load_params", "find_params", "ReportText"]

Text = Annotated[str, Field(min_length=1)]


class ReportText(BaseModel):
    """What the title block and the closing of the report say (all data, per province)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    issuer_parent: Text
    issuer: Text
    place_date: Text
    title: Text
    subtitle: str = ""
    recipients: list[Text] = []
    signer_title: str = ""
    signer_name: str = ""
    source_note: str = ""


class Params(BaseModel):
    """The contents of a params file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    year: int = Field(ge=1900, le=2200)
    rules: Text
    registry: Text
    data: Text
    inputs: dict[Text, Text] = Field(min_length=1)
    # Optional: the file declaring which values may vary (report section «Độ tin cậy»).
    uncertainty: Text | None = None
    illustrative: bool = False
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
    def registry_path(self) -> Path:
        return (self.base / self.params.registry).resolve()

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

    def input_path(self, name: str) -> Path | None:
        rel = self.params.inputs.get(name)
        return None if rel is None else self.data_dir / rel


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
                      data_override=Path(data_dir) if data_dir else None)
    for key, target, kind in (("rules", year.rules_path, "tệp"),
                              ("registry", year.registry_path, "tệp"),
                              ("data", year.data_dir, "thư mục")):
        exists = target.is_dir() if kind == "thư mục" else target.is_file()
        if not exists:
            shown = str(data_dir) if key == "data" and data_dir else getattr(params, key)
            problems.append(Problem(label, None, key, shown,
                                    f"không tìm thấy {kind} {target}"))
    if year.uncertainty_path is not None and not year.uncertainty_path.is_file():
        problems.append(Problem(label, None, "uncertainty", params.uncertainty,
                                f"không tìm thấy tệp {year.uncertainty_path}"))
    if year.data_dir.is_dir() and inputs_exist:
        for name, rel in params.inputs.items():
            if not (year.data_dir / rel).is_file():
                problems.append(Problem(label, None, f"inputs.{name}", rel,
                                        f"không tìm thấy tệp trong {year.data_dir}"))
    if problems:
        raise InputError(problems)
    return year


def find_params(params_dir: Path | str) -> list[Path]:
    """Every ``<year>.yaml`` in ``params_dir`` (sorted), rules files excluded."""
    return sorted(p for p in Path(params_dir).glob("*.yaml") if p.is_file())
