"""Hypothesis strategies for the property tests: rules files, scored units, messy input files.

Built from small parts so that they grow with the project:

* :func:`rules_dicts` draws the plain data of a valid rules file (what YAML would hold).  A new
  rules section (bonus and penalty items with their caps, for example) is one more strategy
  passed in ``sections``; :func:`capped_amounts` draws "points per occurrence, at most a cap"
  pairs for such sections.
* :func:`scored_units` and :func:`conditions_for` draw the tables the stages read.
* :func:`messy_csv` draws the text of an input file for any :class:`~evaluation.inputs.schemas.TableSpec`,
  row by row good or bad, and returns the plan with it, so a test can predict which rows must
  be used and which rejected.  A new input table needs only cell strategies for its kinds.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from hypothesis import strategies as st

from evaluation.inputs.rules import Rules
from evaluation.inputs.schemas import TableSpec

ROUNDINGS = ["down", "half_up", "half_even", "up"]


# -- numbers ---------------------------------------------------------------------------------


def multiples(lo: Decimal, hi: Decimal, decimals: int) -> st.SearchStrategy[Decimal]:
    """Exact decimals in [lo, hi] on the grid of ``decimals`` digits."""
    step = Decimal(1).scaleb(-decimals)
    return st.integers(int(lo / step), int(hi / step)).map(lambda k: Decimal(k) * step)


def as_yaml_number(value: Decimal) -> st.SearchStrategy[object]:
    """A number as a rules file may write it: 60.5, "60.5" or "60,5" (Vietnamese comma)."""
    text = format(value.normalize(), "f")
    choices = [text, text.replace(".", ",")]
    if value == value.to_integral_value():
        choices.append(int(value))
    return st.sampled_from(choices)


@st.composite
def capped_amounts(draw, *, max_total: Decimal = Decimal(10), decimals: int = 2) -> dict[str, str]:
    """``{"points": p, "cap": c}`` with 0 < p ≤ c ≤ max_total: one bonus or penalty item."""
    cap = draw(multiples(Decimal(1).scaleb(-decimals), max_total, decimals))
    points = draw(multiples(Decimal(1).scaleb(-decimals), cap, decimals))
    return {"points": str(points), "cap": str(cap)}


# -- rules files -----------------------------------------------------------------------------


@st.composite
def tier_dicts(draw, score_min: Decimal, score_max: Decimal, decimals: int) -> list[dict]:
    """2 to 6 tiers, best first, bounds on the published grid, the lowest starting at score_min."""
    n = draw(st.integers(2, 6))
    mins = draw(st.lists(multiples(score_min, score_max, decimals).filter(lambda v: v > score_min),
                         min_size=n - 1, max_size=n - 1, unique=True))
    mins = sorted(mins, reverse=True) + [score_min]
    tiers = []
    for i, lo in enumerate(mins):
        tier = {"id": f"t{i}", "name": f"Bậc {i} hoàn thành nhiệm vụ", "short": f"Bậc {i}",
                "color": draw(st.from_regex(r"#[0-9a-f]{6}", fullmatch=True)),
                "min": draw(as_yaml_number(lo))}
        if i and draw(st.booleans()):
            tier["max"] = draw(as_yaml_number(mins[i - 1]))   # written out, consistent
        tiers.append(tier)
    return tiers


@st.composite
def quota_dicts(draw, tier_ids: list[str], *, adjacent_only: bool = False) -> list[dict]:
    """0 to 3 quotas: a tier (not the lowest unless it demotes... it cannot), a ratio, a basis."""
    quotas = []
    for _ in range(draw(st.integers(0, 3))):
        level = draw(st.integers(0, len(tier_ids) - 2))
        tier = tier_ids[level]
        of = draw(st.sampled_from(["all", *[t for t in tier_ids if t != tier]]))
        quota = {"tier": tier, "of": of,
                 "max_ratio": draw(st.sampled_from(["0.1", "0.2", "0,25", "0.5", "1", "1.5"])),
                 "scope": draw(st.sampled_from(["all", "group"]))}
        if not adjacent_only and draw(st.booleans()):
            quota["demote_to"] = draw(st.sampled_from(tier_ids[level + 1:]))
        if draw(st.booleans()):
            quota["limit"] = {"rounding": draw(st.sampled_from(["floor", "half_up", "ceil"]))}
        if draw(st.booleans()):
            quota["ties"] = {"break_by": draw(st.lists(st.sampled_from(["raw_score", "self_score", "gap"]),
                                                       max_size=2, unique=True)),
                             "otherwise": draw(st.sampled_from(["demote_all", "keep_all"]))}
        quotas.append(quota)
    return quotas


@st.composite
def rules_dicts(draw, *, quotas: bool = True, conditions: bool = True, adjacent_only: bool = False,
                sections: dict[str, st.SearchStrategy] | None = None) -> dict:
    """The plain data of a valid rules file, any regime: scale, precision, tiers, groups, caps.

    Parameters
    ----------
    quotas, conditions : bool
        Draw quotas and conditions (each may still come out empty).
    adjacent_only : bool
        Quotas demote to the next tier only (then the tier cannot fall as the score rises).
    sections : dict of strategies, optional
        More top-level keys of the file, drawn and added as they are.
    """
    decimals = draw(st.integers(0, 3))
    score_min = draw(st.sampled_from([Decimal(0), Decimal(0), Decimal(-10), Decimal(20)]))
    score_max = score_min + draw(st.sampled_from([Decimal(10), Decimal(100), Decimal(100), Decimal(1000)]))
    tiers = draw(tier_dicts(score_min, score_max, decimals))
    tier_ids = [t["id"] for t in tiers]
    groups = [{"id": f"g{i}", "numeral": str(i + 1), "name": f"Nhóm {i + 1}", "count_label": f"đơn vị nhóm {i + 1}",
               "summary_label": f"nhóm {i + 1}", "regulation": "r0"} for i in range(draw(st.integers(1, 3)))]
    data = {
        "id": "generated",
        "name": "Quy định sinh ngẫu nhiên",
        "regulations": [{"id": "r0", "number": "01/2099/QĐ-TEST", "title": "Văn bản thử"}],
        "scale": {"appraisal_max": str(score_max - score_min), "adjustment_max": "0",
                  "score_min": str(score_min), "score_max": str(score_max)},
        "precision": {"decimals": decimals, "rounding": draw(st.sampled_from(ROUNDINGS))},
        "tiers": tiers,
        "groups": groups,
        "conditions": [{"id": f"c{i}", "name": f"Điều kiện {i}", "max_tier": draw(st.sampled_from(tier_ids))}
                       for i in range(draw(st.integers(0, 3)) if conditions else 0)],
        "quotas": draw(quota_dicts(tier_ids, adjacent_only=adjacent_only)) if quotas else [],
    }
    for key, strategy in (sections or {}).items():
        data[key] = draw(strategy)
    return data


def rules(**kwargs) -> st.SearchStrategy[Rules]:
    """Validated :class:`~evaluation.inputs.rules.Rules` from :func:`rules_dicts`."""
    return rules_dicts(**kwargs).map(Rules.model_validate)


# -- scored units ----------------------------------------------------------------------------


@st.composite
def scores_in(draw, rules: Rules, n: int) -> list[float]:
    """Final scores in the scale: tier bounds and their neighbours, ties, float noise, anything."""
    lo, hi = float(rules.scale.score_min), float(rules.scale.score_max)
    step = 10.0 ** -rules.precision.decimals
    edges = sorted({min(hi, max(lo, float(t.min) + d)) for t in rules.tiers
                    for d in (0.0, -step, step, -1e-12, 1e-12, -step / 2, step / 2)})
    pool = draw(st.lists(st.floats(lo, hi, allow_nan=False), min_size=1, max_size=4))
    value = st.one_of(st.sampled_from(edges), st.sampled_from(pool), st.floats(lo, hi, allow_nan=False))
    return draw(st.lists(value, min_size=n, max_size=n))


@st.composite
def scored_units(draw, rules: Rules, *, min_size: int = 1, max_size: int = 30) -> pd.DataFrame:
    """The score stage's output for generated units: unit_id, group, final_score, input_order."""
    n = draw(st.integers(min_size, max_size))
    groups = draw(st.lists(st.sampled_from(rules.group_ids), min_size=n, max_size=n))
    scores = draw(scores_in(rules, n))
    return pd.DataFrame({
        "unit_id": pd.Series([f"u{i:03d}" for i in range(n)], dtype="string"),
        "unit": pd.Series([f"Đơn vị {i}" for i in range(n)], dtype="string"),
        "group": pd.Series(groups, dtype="string"),
        "self_score": pd.Series([float("nan")] * n, dtype="float64"),
        "final_score": pd.Series(scores, dtype="float64"),
        "input_order": pd.Series(range(2, n + 2), dtype="int64"),
    })


@st.composite
def conditions_for(draw, rules: Rules, unit_ids: list[str]) -> pd.DataFrame:
    """Conditions of some units (each pair once), ids from the rules."""
    ids = [c.id for c in rules.conditions]
    if not ids or not unit_ids:
        return pd.DataFrame({"unit_id": pd.Series([], dtype="string"), "condition": pd.Series([], dtype="string")})
    pairs = draw(st.lists(st.tuples(st.sampled_from(unit_ids), st.sampled_from(ids)), unique=True, max_size=10))
    return pd.DataFrame({"unit_id": pd.Series([p[0] for p in pairs], dtype="string"),
                         "condition": pd.Series([p[1] for p in pairs], dtype="string")})


# -- names written the many ways people write them -----------------------------------------

_TONE = "\u0300\u0301\u0303\u0309\u0323"


def old_style_tones(text: str) -> str:
    """``Hóa`` → ``Hoá``, ``Thủy`` → ``Thuỷ``: the tone on the second vowel of oa/oe/uy."""
    nfd = unicodedata.normalize("NFD", text)
    moved = re.sub(f"([oOuU])([{_TONE}])([aAeEyY])(?![\\w])", r"\1\3\2", nfd)
    return unicodedata.normalize("NFC", moved)


def new_style_tones(text: str) -> str:
    """``Hoá`` → ``Hóa``: the reverse of :func:`old_style_tones`."""
    nfd = unicodedata.normalize("NFD", text)
    moved = re.sub(f"([oOuU])([aAeEyY])([{_TONE}])(?![\\w])", r"\1\3\2", nfd)
    return unicodedata.normalize("NFC", moved)


SPACES = [" ", "  ", "\u00a0", "\u200b", " \u200b", "\u2009", "\u3000", "\t"]
NAME_VARIANTS = {
    "as is": lambda s: s,
    "NFD": lambda s: unicodedata.normalize("NFD", s),
    "upper": str.upper,
    "lower": str.lower,
    "old tones": old_style_tones,
    "new tones": new_style_tones,
    "padded": lambda s: f"  {s}\u00a0",
    "zero-width joiner": lambda s: s.replace(" ", " \u200d", 1),
    "BOM inside": lambda s: "\ufeff" + s,
}


@st.composite
def name_variant(draw, name: str) -> str:
    """One unit name written another way that must still match it."""
    text = name
    for key in draw(st.lists(st.sampled_from(sorted(NAME_VARIANTS)), max_size=3)):
        text = NAME_VARIANTS[key](text)
    words = text.split(" ")
    seps = draw(st.lists(st.sampled_from(SPACES), min_size=len(words) - 1, max_size=len(words) - 1))
    return words[0] + "".join(s + w for s, w in zip(seps, words[1:], strict=True))


# -- messy input files -----------------------------------------------------------------------


@dataclass
class Cell:
    """One planned cell: its text, whether it is acceptable, and its value once read."""

    text: str
    good: bool
    value: object = None


@dataclass
class PlannedRow:
    cells: dict[str, Cell] = field(default_factory=dict)
    blank: bool = False          # no text at all: the reader drops it, it is not an input row
    row: int = 0                 # spreadsheet row number, set when the text is written

    @property
    def good(self) -> bool:
        return not self.blank and all(c.good for c in self.cells.values())


@dataclass
class Plan:
    """What :func:`messy_csv` wrote: the header used for each column and every row."""

    headers: dict[str, str]
    rows: list[PlannedRow]

    def key(self, row: PlannedRow, unique: tuple[str, ...]) -> tuple | None:
        """The row's uniqueness key once read, or None when a key cell is unusable."""
        out = []
        for name in unique:
            cell = row.cells.get("unit" if name == "unit_id" else name)
            if cell is None or not cell.good or cell.value is None:
                return None
            out.append(cell.value)
        return tuple(out)

    def accepted(self, unique: tuple[str, ...]) -> list[int]:
        """Row numbers that must be used: good, and the first with their key."""
        seen: set[tuple] = set()
        out = []
        for r in self.rows:
            if r.blank:
                continue
            key = self.key(r, unique)
            first = key is None or key not in seen
            if key is not None:
                seen.add(key)
            if r.good and first:
                out.append(r.row)
        return out


def _numbers(lo: float, hi: float, nullable: bool, integer: bool = False,
             bounded: bool = True) -> st.SearchStrategy[Cell]:
    def write(v: float, style: str) -> str:
        text = str(int(v)) if integer else f"{v:.2f}".rstrip("0").rstrip(".")
        return {"dot": text, "comma": text.replace(".", ","), "spaced": f"  {text} "}[style]

    good = st.builds(lambda v, style: Cell(write(v, style), True, float(write(v, "dot"))),
                     st.integers(int(lo), int(hi)) if integer else st.floats(lo, hi, allow_nan=False),
                     st.sampled_from(["dot", "comma", "spaced"]))
    bad_texts = ["9.840,0", "x", "-", "NaN", "inf", "１２", "٩٨", "1 234", "12a", "--1", "1e2", "\u00a0?"]
    # Out of range is bad only for a column with a declared range (TT, an integer without one,
    # accepts 0 and 2001: found when the self score became optional and the draws moved).
    outside = [hi + 0.1, lo - 1, hi * 10 + 1] if bounded else ([hi + 0.1] if integer else [])
    bad = st.sampled_from(bad_texts).map(lambda t: Cell(t, False))
    if outside:
        bad = st.one_of(bad, st.sampled_from(outside).map(lambda v: Cell(f"{v:g}", False)))
    if integer:
        bad = st.one_of(bad, st.just(Cell("1.5", False)))
    blank = st.sampled_from(["", "  "]).map(lambda t: Cell(t, nullable, None))
    return st.one_of(good, good, good, bad, blank)


def _units(names: dict[str, str]) -> st.SearchStrategy[Cell]:
    """Registry names (as id → name) written in any accepted way, or names that match nothing."""
    good = st.sampled_from(sorted(names.items())).flatmap(
        lambda item: name_variant(item[1]).map(lambda text: Cell(text, True, item[0])))
    bad = st.sampled_from(["Sở Không Có", "Huyện Mơ Hồ", "???", "", " "]).map(lambda t: Cell(t, False))
    return st.one_of(good, good, good, bad)


def _codes(codes: list[str]) -> st.SearchStrategy[Cell]:
    good = st.sampled_from(codes).map(lambda c: Cell(c, True, c))
    bad = st.sampled_from(["zz", "KY LUAT", ""]).map(lambda t: Cell(t, False))
    return st.one_of(good, good, bad)


# Free text, except control characters (refused by design, see test_tables.py) and the rest of
# U+0080..U+00FF: foreign letters (ë, µ, ø) anywhere and symbols inside a word ("A¡A") are taken,
# by design, for text typed in a legacy Vietnamese font; symbols as symbols are in the samples.
_FOREIGN_LATIN1 = "".join(ch for ch in map(chr, range(0x80, 0x100))
                          if ch not in "àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
_TEXTS = st.one_of(st.sampled_from(["", "Ghi chú", "<script>alert(1)</script>", "=1+1", "a,b", 'nói "có"',
                                    "dòng 1\ndòng 2", "«đạt» 25°C ×2 ©"]),
                   st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"),
                                         exclude_characters=_FOREIGN_LATIN1), max_size=12))


def cell_strategies(spec: TableSpec, *, names: dict[str, str] | None = None, codes: list[str] | None = None,
                    bounds: tuple[float, float] = (0.0, 100.0)) -> dict[str, st.SearchStrategy[Cell]]:
    """A cell strategy for each column of ``spec``, by its kind."""
    out = {}
    for col in spec.columns:
        if col.kind == "number":
            out[col.name] = _numbers(*bounds, col.nullable)
        elif col.kind == "integer":
            out[col.name] = _numbers(1, 200, col.nullable, integer=True, bounded=col.bounds is not None)
        elif col.kind == "unit":
            out[col.name] = _units(names or {})
        elif col.kind == "code":
            out[col.name] = _codes(codes or ["x"])
        else:
            out[col.name] = _TEXTS.map(lambda t: Cell(t, True, t or None))
    return out


@st.composite
def messy_csv(draw, spec: TableSpec, cells: dict[str, st.SearchStrategy[Cell]], *,
              max_rows: int = 12) -> tuple[str, Plan]:
    """The text of a CSV input for ``spec`` and the plan it was written from.

    Optional columns may be left out; headers are any accepted spelling, in any case; rows are
    good, bad, blank (left out of the count) or repeated; quoting, line ends and a BOM vary.
    """
    columns = [c for c in spec.columns if c.required or draw(st.booleans())]
    columns = draw(st.permutations(columns))
    headers = {}
    for c in columns:
        h = draw(st.sampled_from(c.headers))
        headers[c.name] = draw(st.sampled_from([h, h.upper(), h.lower(), f" {h} "]))
    rows: list[PlannedRow] = []
    for _ in range(draw(st.integers(0, max_rows))):
        kind = draw(st.sampled_from(["new", "new", "new", "blank", "repeat"]))
        if kind == "blank":
            rows.append(PlannedRow({c.name: Cell(draw(st.sampled_from(["", " "])), True) for c in columns},
                                   blank=True))
        elif kind == "repeat" and any(not r.blank for r in rows):
            rows.append(PlannedRow(dict(draw(st.sampled_from([r for r in rows if not r.blank])).cells)))
        else:
            row = PlannedRow({c.name: draw(cells[c.name]) for c in columns})
            # A row whose every cell is blank is a blank row, whatever the plan said.
            row.blank = all(not cell.text.strip() for cell in row.cells.values())
            rows.append(row)
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
                        lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow([headers[c.name] for c in columns])
    for i, r in enumerate(rows):
        writer.writerow([r.cells[c.name].text for c in columns])
        r.row = i + 2
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + buf.getvalue(), Plan(headers, rows)
