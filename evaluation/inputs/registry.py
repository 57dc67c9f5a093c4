"""The unit registry: who is evaluated, under which group, in which years, under which names.

The registry is data (``data/units.csv``).  Every name that arrives from an
input file is matched to a registry id here, in two steps:

1. the *exact* key (:func:`evaluation.text.name_key`): same letters and tones,
   any Unicode form, tone placement, case, spacing or punctuation;
2. the *loose* keys: every reading of the name with the abbreviations of
   ``data/abbreviations.csv`` written out (``TP`` = ``thành phố``, ``CD`` =
   ``CĐ`` = ``cao đẳng``; ``TT`` has several readings), ``và`` dropped and
   spaces removed.  A name matches the units that share one of its readings.

A name whose readings lead to two units is ambiguous and never guessed; a
name that matches nothing, or only ambiguously, is an error that lists the
closest registry names.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..errors import InputError, Problem
from ..text import clean, clean_series, fold, name_key
from .limits import ROW
from .tables import read_csv_text

__all__ = ["Registry", "load_registry", "REGISTRY_COLUMNS", "organisation_changes", "CHANGE_KINDS",
           "effect_date"]

REGISTRY_COLUMNS = [
    "id", "name", "short_name", "group", "kind", "valid_from", "valid_to", "predecessors", "aliases",
    "succession", "illustrative", "source",
]
_REQUIRED = ["id", "name", "short_name", "group"]
_ID_RE = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
_LIST_SEP = "|"
_DROPPED_WORDS = {name_key("và")}
_MAX_READINGS = 256  # a name with many ambiguous abbreviations is not expanded further
_UNKNOWN = "không có trong danh mục đơn vị"
SUGGESTED_NAMES = 200  # unknown names (distinct) given the closest registry names, per input column
_COMPARE_ALL = 3_000  # registry names compared one by one with an unknown name, up to this many
_CANDIDATES = 300  # beyond that, the names sharing the rarest words with it


@dataclass(frozen=True)
class Registry:
    """Units and the index that matches their names.

    Attributes
    ----------
    units : pandas.DataFrame
        One row per unit, indexed by ``id``; ``predecessors`` and ``aliases`` are tuples.
    source : str
        The registry file, as named by the params.
    """

    units: pd.DataFrame
    source: str
    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    exact: dict[str, str] = field(default_factory=dict, repr=False)
    loose: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    # -- lookup -----------------------------------------------------------------
    def readings(self, text: object) -> set[str]:
        """Loose keys of a name: each way of writing out its abbreviations."""
        out = [""]
        for word in name_key(text).split():
            if word in _DROPPED_WORDS:
                continue
            options = (word, *self.phrases.get(word, ()))
            out = [o + "".join(opt.split()) for o in out for opt in options][:_MAX_READINGS]
        return set(out)

    def valid_in(self, year: int | None) -> pd.Series:
        """Boolean mask of the units valid in ``year`` (all units if None)."""
        if year is None:
            return pd.Series(True, index=self.units.index)
        start = self.units["valid_from"].fillna(-10**9)
        end = self.units["valid_to"].fillna(10**9)
        return (start <= year) & (year <= end)

    def match(self, names: pd.Series, *, year: int | None = None) -> pd.DataFrame:
        """Match each name to a unit id.

        Parameters
        ----------
        names : pandas.Series
            Names as written in an input.
        year : int, optional
            When given, units not valid in that year are not matched (the
            result says which unit it would have been).

        Returns
        -------
        pandas.DataFrame
            Same index as ``names``; columns ``unit_id`` (missing when
            unmatched), ``how`` (``exact``, ``loose`` or missing) and ``problem``
            (Vietnamese text, missing when matched).
        """
        unique = pd.Series(pd.unique(names.astype("string").fillna("")))
        valid = self.valid_in(year).to_dict()   # once per call, not once per name
        resolved = {name: self._match_one(name, year, valid) for name in unique}
        # Suggestions for the first unknown names only: a file of the wrong names (another
        # province's, another column) must not take minutes to say so.
        unknown = [n for n, (_, _, problem) in resolved.items() if problem == _UNKNOWN][:SUGGESTED_NAMES]
        for name in unknown:
            resolved[name] = (None, None, _UNKNOWN + self._suggest(name))
        rows = names.astype("string").fillna("").map(resolved)
        out = pd.DataFrame(rows.tolist(), index=names.index, columns=["unit_id", "how", "problem"])
        return out.astype({"unit_id": "string", "how": "string", "problem": "string"})

    def _match_one(self, name: str, year: int | None,
                   valid: dict[str, bool]) -> tuple[str | None, str | None, str | None]:
        if not clean(name):
            return None, None, "tên đơn vị bị trống"
        unit = self.exact.get(name_key(name))
        how = "exact"
        if unit is None:
            ids = frozenset().union(*(self.loose.get(k, frozenset()) for k in self.readings(name)))
            alive = sorted(i for i in ids if valid[i])
            if len(alive) == 1 or (len(ids) == 1 and not alive):
                unit, how = (alive or sorted(ids))[0], "loose"
            elif len(alive) > 1:
                listed = "; ".join(self.units.at[i, "name"] for i in alive)
                return None, None, f"tên mơ hồ, có thể là: {listed} — hãy ghi tên đầy đủ"
        if unit is None:
            return None, None, _UNKNOWN
        if not valid[unit]:
            return None, None, (
                f"là «{self.units.at[unit, 'name']}», không còn hiệu lực trong năm {year}"
                f" (hiệu lực {self._validity(unit)})"
            )
        return unit, how, None

    @cached_property
    def _by_word(self) -> dict[str, list[str]]:
        """Registry name keys under each of their words written without diacritics."""
        index: dict[str, list[str]] = defaultdict(list)
        for key in self.exact:
            for word in set(fold(key).split()):
                index[word].append(key)
        return dict(index)

    def _candidates(self, key: str) -> list[str]:
        """The registry names to compare ``key`` with: all of them in a registry of a province's
        size; in a larger one, those sharing the rarest words with it (diacritics ignored)."""
        if len(self.exact) <= _COMPARE_ALL:
            return list(self.exact)
        weight: dict[str, float] = defaultdict(float)
        for word in set(fold(key).split()):
            keys = self._by_word.get(word, [])
            for k in keys:
                weight[k] += 1 / len(keys)
        return sorted(weight, key=weight.__getitem__, reverse=True)[:_CANDIDATES]

    def _suggest(self, name: str) -> str:
        key = name_key(name)
        close = difflib.get_close_matches(key, self._candidates(key), n=3, cutoff=0.5)
        ids = list(dict.fromkeys(self.exact[k] for k in close))
        if not ids:
            return ""
        return "; gần nhất: " + "; ".join(f"«{self.units.at[i, 'name']}»" for i in ids)

    def _validity(self, unit: str) -> str:
        return f"{self.units.at[unit, 'valid_from_text']}–{self.units.at[unit, 'valid_to_text']}"

    def display_name(self, unit_ids: pd.Series) -> pd.Series:
        """Short names (as printed in the report) for a column of unit ids."""
        return unit_ids.map(self.units["short_name"])


def _split_list(values: pd.Series) -> pd.Series:
    return values.fillna("").map(
        lambda s: tuple(x for x in (clean(p) for p in str(s).split(_LIST_SEP)) if x)
    )


def _load_phrases(path: Path | None, label: str) -> tuple[dict[str, tuple[str, ...]], list[Problem]]:
    if path is None or not path.exists():
        return {}, []
    frame, problems = read_csv_text(path, label)
    if problems:
        return {}, problems
    missing = {"abbreviation", "phrase"} - set(frame.columns)
    if missing:
        return {}, [Problem(label, 1, None, ", ".join(frame.columns),
                            "cần hai cột «abbreviation» và «phrase»")]
    phrases: dict[str, tuple[str, ...]] = {}
    for abbr, phrase in zip(frame["abbreviation"], frame["phrase"], strict=True):
        a = name_key(abbr)
        phrases[a] = (*phrases.get(a, ()), name_key(phrase))
    return phrases, []


def _in_a_loop(ids: pd.Series, predecessors: pd.Series) -> list[int]:
    """Rows of the units that are their own predecessor, directly or through others.

    ``predecessors``: one predecessor id per entry, indexed by the unit's row.  The
    chains are followed one merge per step (not one walk per unit) until no new
    (unit, ancestor) pair appears.
    """
    links = pd.DataFrame({"row": predecessors.index, "node": predecessors.to_numpy()})
    if links.empty:
        return []
    parents = pd.DataFrame({"node": ids.to_numpy(), "row_of_node": ids.index}).merge(
        links.rename(columns={"row": "row_of_node", "node": "parent"}), on="row_of_node")[["node", "parent"]]
    reach = links.drop_duplicates()
    for _ in range(len(ids)):
        step = (reach.merge(parents, on="node")[["row", "parent"]].rename(columns={"parent": "node"})
                .merge(reach, how="left", indicator=True))
        step = step[step["_merge"] == "left_only"].drop(columns="_merge").drop_duplicates()
        if step.empty:
            break
        reach = pd.concat([reach, step], ignore_index=True)
    own = reach["node"].to_numpy() == ids.loc[reach["row"]].to_numpy()
    return sorted(set(reach.loc[own, "row"].astype(int)))


def _when(raw: pd.Series, *, end: bool) -> tuple[pd.Series, pd.Series]:
    """A validity bound as written: a year (``2020``) or a date (``01/03/2025``, ``2025-03-01``).

    Returns the date it stands for (a year starts on 1 January and ends on 31 December;
    NaT when blank) and the mask of cells that are neither.
    """
    text = clean_series(raw).fillna("")
    year = text.str.fullmatch(r"\d{4}")
    day_first = text.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}")
    iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    out[year] = pd.to_datetime(text[year] + ("-12-31" if end else "-01-01"), errors="coerce")
    out[day_first] = pd.to_datetime(text[day_first], format="%d/%m/%Y", errors="coerce")
    out[iso] = pd.to_datetime(text[iso], format="%Y-%m-%d", errors="coerce")
    bad = (text != "") & out.isna()
    return out, bad


_TRUE = {"true", "1", "x", "co", "yes"}
_FALSE = {"", "false", "0", "khong", "no"}
SUCCESSIONS = {"": "tasks", "tasks": "tasks", "area": "area"}


def _read_files(paths: list[Path], labels: list[str]) -> tuple[pd.DataFrame, list[Problem]]:
    """Every registry file read and stacked, each row knowing its file and row."""
    problems: list[Problem] = []
    frames = []
    for path, label in zip(paths, labels, strict=True):
        frame, read = read_csv_text(path, label)
        if read:
            problems += read
            continue
        missing = [c for c in _REQUIRED if c not in frame.columns]
        problems += [Problem(label, 1, c, None, "thiếu cột bắt buộc") for c in missing]
        unknown = [c for c in frame.columns if c not in REGISTRY_COLUMNS and c != ROW]
        problems += [Problem(label, 1, c, c, "cột không được biết đến; các cột của danh mục: "
                             + ", ".join(REGISTRY_COLUMNS)) for c in unknown]
        if frame.empty:  # else every name of every input is "not in the registry", the cause unsaid
            problems.append(Problem(label, None, None, None, "danh mục không có đơn vị nào: cần một dòng cho mỗi đơn vị"))
        if missing or unknown or frame.empty:
            continue
        for col in REGISTRY_COLUMNS:
            if col not in frame.columns:
                frame[col] = ""
        rows = frame[ROW] if ROW in frame.columns else frame.index + 2
        frames.append(frame[REGISTRY_COLUMNS].assign(_file=label, _row=pd.Series(rows, index=frame.index).to_numpy()))
    if problems:
        return pd.DataFrame(), problems
    return pd.concat(frames, ignore_index=True), []


def load_registry(path: Path | Sequence[Path], *, label: str | Sequence[str] | None = None,
                  abbreviations: Path | None = None) -> Registry:
    """Read and check the unit registry: one file, or several read as one (a real registry and
    an illustrative one beside it).

    Parameters
    ----------
    path : Path or sequence of Path
        The registry CSV file(s) (columns: see ``REGISTRY_COLUMNS``).
    label : str or sequence of str, optional
        How to name each file in messages (default: the paths as given).
    abbreviations : Path, optional
        CSV of ``abbreviation,phrase``; default ``abbreviations.csv`` beside the first file.

    Raises
    ------
    InputError
        With every problem found: missing or unknown columns, bad or duplicate ids
        (across files too), unknown predecessors, impossible validity dates (a unit
        ending before it starts, a successor starting before its predecessor ended,
        a dissolved unit without an end), predecessor chains that loop, and two
        units whose names become equal after normalisation.
    """
    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    if label is None:
        labels = [str(p) for p in paths]
    else:
        labels = [label] if isinstance(label, str) else list(label)
    frame, problems = _read_files(paths, labels)
    if problems:
        raise InputError(problems)
    for col in ["id", "name", "short_name", "group", "kind", "succession", "illustrative", "source"]:
        frame[col] = clean_series(frame[col]).fillna("")
    rownum = frame["_row"].astype(int)
    files = frame["_file"]

    def add(mask: pd.Series, column: str, expected: str | pd.Series, values: pd.Series | None = None) -> None:
        vals = frame[column] if values is None else values
        exp = expected if isinstance(expected, pd.Series) else pd.Series(expected, index=frame.index)
        for f, r, v, e in zip(files[mask], rownum[mask], vals[mask], exp[mask], strict=True):
            problems.append(Problem(f, int(r), column, str(v), str(e)))

    for col in _REQUIRED:
        add(frame[col] == "", col, "không được để trống")
    add((frame["id"] != "") & ~frame["id"].str.fullmatch(_ID_RE).astype(bool), "id",
        "mã chỉ gồm chữ thường không dấu, số và dấu gạch (ví dụ so-tai-chinh)")
    first_of = frame.drop_duplicates("id").set_index("id")
    dup = frame["id"].duplicated(keep="first") & (frame["id"] != "")
    add(dup, "id", "mã đơn vị bị trùng với " + frame["id"].map(
        lambda i: f"{first_of.at[i, '_file']} dòng {first_of.at[i, '_row']}" if i in first_of.index else ""))

    # Validity: a year or a date.  A unit is in a year's evaluation when it exists on that
    # year's 31 December: valid_from/valid_to become the first and last such years.
    start, bad_start = _when(frame["valid_from"], end=False)
    end, bad_end = _when(frame["valid_to"], end=True)
    shown_from, shown_to = clean_series(frame["valid_from"]).fillna(""), clean_series(frame["valid_to"]).fillna("")
    what = "năm (ví dụ 2020) hoặc ngày (01/07/2025 hoặc 2025-07-01), hoặc để trống"
    add(bad_start, "valid_from", what, shown_from)
    add(bad_end, "valid_to", what, shown_to)
    add((end < start).fillna(False), "valid_to", "ngày kết thúc không được trước ngày bắt đầu", shown_to)
    year_end = end.dt.month.eq(12) & end.dt.day.eq(31)
    frame["valid_from"] = start.dt.year.astype("Int64")
    frame["valid_to"] = (end.dt.year - (~year_end).astype(int)).astype("Int64")
    frame["start"], frame["end"] = start, end
    frame["valid_from_text"], frame["valid_to_text"] = shown_from, shown_to

    flag = frame["illustrative"].map(fold).str.lower()
    add(~flag.isin(_TRUE | _FALSE), "illustrative", "để trống, hoặc ghi «có» cho đơn vị có tên minh họa")
    frame["illustrative"] = flag.isin(_TRUE)
    succession = frame["succession"].str.lower()
    add(~succession.isin(list(SUCCESSIONS)), "succession",
        "để trống (đơn vị kế tiếp nhận nhiệm vụ của đơn vị tiền thân) hoặc «area» (đơn vị tiền thân giải thể, "
        "chỉ địa bàn chuyển sang đơn vị này)")
    frame["succession"] = succession.map(SUCCESSIONS).fillna("tasks")

    frame["predecessors"] = _split_list(frame["predecessors"])
    frame["aliases"] = _split_list(frame["aliases"])
    add((frame["succession"] == "area") & (frame["predecessors"].map(len) == 0), "succession",
        "«area» cần cột predecessors: các đơn vị giải thể có địa bàn chuyển sang đơn vị này")
    known = set(frame["id"])
    exploded = frame["predecessors"].explode().dropna()
    unknown = exploded[~exploded.isin(known)]
    for i, v in unknown.items():
        problems.append(Problem(files[i], int(rownum[i]), "predecessors", str(v),
                                "mã đơn vị tiền thân phải có trong danh mục"))
    for i in _in_a_loop(frame["id"], exploded):
        problems.append(Problem(files[i], int(rownum[i]), "predecessors", "|".join(frame.at[i, "predecessors"]),
                                f"đơn vị {frame.at[i, 'id']} thành tiền thân của chính nó (trực tiếp hoặc qua "
                                "các đơn vị khác): chuỗi tiền thân không được quay vòng"))
    problems += _link_date_problems(frame, exploded[exploded.isin(known)])

    # Every name a unit answers to, with the row it came from.
    names = pd.concat([
        frame[["id", "name", "_file", "_row"]].assign(column="name"),
        frame[["id", "short_name", "_file", "_row"]].rename(columns={"short_name": "name"}).assign(column="short_name"),
        frame[["id", "aliases", "_file", "_row"]].explode("aliases").dropna()
        .rename(columns={"aliases": "name"}).assign(column="aliases"),
    ])
    names = names[names["name"].astype(str) != ""]
    names["row"] = names["_row"].astype(int)
    names["_seq"] = names.index
    names["key"] = names["name"].map(name_key)
    # A name of punctuation only has an empty key, which any other such input would match.
    for _, bad in names[names["key"] == ""].iterrows():
        problems.append(Problem(bad["_file"], int(bad["row"]), bad["column"], bad["name"],
                                "tên phải có chữ hoặc số"))
    names = names[names["key"] != ""]
    owners = names.groupby("key")["id"].agg(lambda s: sorted(set(s)))
    clashes = owners[owners.map(len) > 1]
    for key in clashes.index:
        # The first in file order is the original; the later rows are the ones said to clash.
        hit = names[(names["key"] == key)].sort_values("_seq", kind="stable").drop_duplicates("id")
        first = hit.iloc[0]
        for _, other in hit.iloc[1:].iterrows():
            where = f"dòng {first['row']}" if other["_file"] == first["_file"] else f"{first['_file']} dòng {first['row']}"
            problems.append(Problem(
                other["_file"], int(other["row"]), other["column"], other["name"],
                f"trùng (sau khi chuẩn hóa) với tên «{first['name']}» của đơn vị {first['id']} "
                f"({where}); mỗi tên chỉ được thuộc một đơn vị",
            ))

    phrase_dir = paths[0].parent
    phrases, phrase_problems = _load_phrases(
        abbreviations if abbreviations is not None else phrase_dir / "abbreviations.csv",
        str(abbreviations) if abbreviations is not None
        else str(Path(labels[0]).parent / "abbreviations.csv"),
    )
    problems.extend(phrase_problems)
    if problems:
        raise InputError(problems)

    frame["_pos"] = range(len(frame))
    units = frame.set_index("id", drop=False)
    exact = dict(zip(names["key"], names["id"], strict=True))
    registry = Registry(units=units, source=", ".join(labels), phrases=phrases, exact=exact)
    loose: dict[str, set[str]] = defaultdict(set)
    for name, unit in zip(names["name"], names["id"], strict=True):
        for key in registry.readings(name):
            loose[key].add(unit)
    object.__setattr__(registry, "loose", {k: frozenset(v) for k, v in loose.items()})
    return registry


def _link_date_problems(frame: pd.DataFrame, links: pd.Series) -> list[Problem]:
    """A successor must start after each predecessor it names has ended (when both dates are
    given), and a unit dissolved into the area of others (``succession: area``) must end."""
    if links.empty:
        return []
    pairs = pd.DataFrame({"row": links.index, "pred": links.to_numpy()})
    by_id = frame.drop_duplicates("id").set_index("id")
    pairs["pred_end"] = pairs["pred"].map(by_id["end"])
    pairs["pred_to"] = pairs["pred"].map(by_id["valid_to_text"])
    pairs["start"] = frame.loc[pairs["row"], "start"].to_numpy()
    pairs["area"] = (frame.loc[pairs["row"], "succession"] == "area").to_numpy()
    problems = []
    early = pairs[(pairs["start"] <= pairs["pred_end"]).fillna(False)]
    for r in early.itertuples(index=False):
        problems.append(Problem(frame.at[r.row, "_file"], int(frame.at[r.row, "_row"]), "valid_from",
                                frame.at[r.row, "valid_from_text"],
                                f"đơn vị bắt đầu trước khi đơn vị tiền thân {r.pred} kết thúc ({r.pred_to}): "
                                "hai đơn vị cùng có hiệu lực"))
    open_area = pairs[pairs["area"] & pairs["pred_end"].isna()]
    for r in open_area.itertuples(index=False):
        problems.append(Problem(frame.at[r.row, "_file"], int(frame.at[r.row, "_row"]), "predecessors", r.pred,
                                f"đơn vị {r.pred} giải thể (địa bàn chuyển sang đơn vị này) nên phải có ngày kết "
                                "thúc (valid_to)"))
    return problems


def slug_ok(value: str) -> bool:
    """True if ``value`` is a valid registry id."""
    return re.fullmatch(_ID_RE, value) is not None


# What happened to the units of a registry, as the report's annex names it (one → one, many → one …).
CHANGE_KINDS = ("merged", "absorbed", "renamed", "split", "dissolved")


def effect_date(units: pd.DataFrame, successors: list[str], predecessors: list[str]) -> str:
    """The day a change took effect, as the registry writes it: the new units' first day, else
    the day after the predecessors' last ("28/02/2025" → "01/03/2025"; a year "2019" → "2020")."""
    starts = [d for d in units.loc[successors, "valid_from_text"].fillna("") if d
              and pd.notna(units.at[successors[0], "start"])]
    if starts:
        return starts[0]
    for pid in predecessors:
        text, end = units.at[pid, "valid_to_text"], units.at[pid, "end"]
        if pd.isna(end) or not text:
            continue
        after = end + pd.Timedelta(days=1)
        return after.strftime("%d/%m/%Y") if "/" in str(text) else str(after.year)
    return ""


def _change_sources(units: pd.DataFrame, successors: list[str], predecessors: list[str], lo, hi) -> tuple:
    """The ``source`` texts that document a change: those of the predecessors that ended in the
    window, and of the successors that began in it and did not end later (a row with both a start
    and an end has one source for both: it may well be about its end, not this change).  Clauses
    (split at ";") said twice are said once."""
    rows = [p for p in predecessors if pd.notna(units.at[p, "end"]) and lo <= units.at[p, "end"] < hi]
    rows += [s for s in successors if pd.notna(units.at[s, "start"]) and lo < units.at[s, "start"] <= hi
             and pd.isna(units.at[s, "end"])]
    clauses = [c.strip() for text in units.loc[rows, "source"].fillna("") for c in str(text).split(";")]
    return tuple(dict.fromkeys(c for c in clauses if c))


def organisation_changes(registry: Registry, first: int, last: int) -> pd.DataFrame:
    """The registry's changes that took effect after 1 January ``first`` and by 31 December ``last``.

    A change takes effect on its new units' first day, or the day after the last day of the units
    it ends; one on 1 January ``first`` was in force all that year and is left out (the report of
    2021 does not list a unit renamed from 1 January 2020: 2020 was evaluated under its new name).
    One row per change, from the ``predecessors`` links whose successor starts in the window
    (a new unit) or whose predecessor ends in it (a unit absorbed by one that continues):

    ``merged``   several units became one new unit (hợp nhất);
    ``absorbed`` units were merged into a unit that continues (sáp nhập vào);
    ``renamed``  one unit became one new unit (đổi tên, thành lập trên cơ sở);
    ``split``    one unit became several units that carry its tasks (chia tách);
    ``dissolved`` a unit was dissolved, its area passing to the units listed (``succession: area``).

    Returns
    -------
    pandas.DataFrame
        ``kind``, ``before`` and ``after`` (tuples of unit ids, registry order), ``date`` (the day
        the change took effect, as the registry writes dates), ``sources`` (the clauses of the
        ``source`` texts that document it, see :func:`_change_sources`) and ``illustrative`` (how
        many of the units named have illustrative names).
    """
    units = registry.units
    cols = ["kind", "before", "after", "date", "sources", "illustrative"]
    links = units[["id", "predecessors", "succession", "start"]].explode("predecessors").dropna(
        subset=["predecessors"]).rename(columns={"id": "succ", "predecessors": "pred"})
    lo, hi = pd.Timestamp(first, 1, 1), pd.Timestamp(last, 12, 31)
    pred_end = links["pred"].map(units["end"])
    new = links["start"].gt(lo) & links["start"].le(hi)
    ended = pred_end.ge(lo) & pred_end.lt(hi) & links["start"].isna()
    links = links[new | ended].assign(new=new[new | ended])
    if links.empty:
        return pd.DataFrame(columns=cols)
    pos = units["_pos"]
    rows = []

    def add(kind: str, before: list[str], after: list[str]) -> None:
        before = sorted(set(before), key=pos.get)
        after = sorted(set(after), key=pos.get)
        rows.append({"kind": kind, "before": tuple(before), "after": tuple(after),
                     "date": effect_date(units, after, before),
                     "sources": _change_sources(units, after, before, lo, hi),
                     "illustrative": int(units.loc[[*before, *after], "illustrative"].sum())})

    area = links[links["succession"] == "area"]
    for pred, part in area.groupby("pred", sort=False):
        add("dissolved", [pred], list(part["succ"]))
    tasks = links[links["succession"] != "area"]
    fan = tasks.groupby("pred")["succ"].transform("size")
    for pred, part in tasks[fan > 1].groupby("pred", sort=False):
        add("split", [pred], list(part["succ"]))
    single = tasks[fan == 1]
    for succ, part in single.groupby("succ", sort=False):
        if not part["new"].iloc[0]:
            add("absorbed", list(part["pred"]), [succ])
        else:
            add("merged" if len(part) > 1 else "renamed", list(part["pred"]), [succ])
    order = {k: i for i, k in enumerate(CHANGE_KINDS)}
    out = pd.DataFrame(rows, columns=cols)
    first_pos = out["after"].map(lambda a: pos.get(a[0], 0))
    return (out.assign(_k=out["kind"].map(order), _p=first_pos).sort_values(["_k", "_p"], kind="stable")
            .drop(columns=["_k", "_p"]).reset_index(drop=True))
