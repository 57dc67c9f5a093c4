"""The package's layout is its data flow: each sub-package imports only the stages before it.

Layers, lowest first: the foundation modules at the top of the package (errors, text, fmt,
files) → inputs → engine → report | forms → years → the command line.  ``report`` and
``forms`` stand side by side and do not import each other.  The test reads the source (every
``import``, those inside functions included), so a lazy import cannot hide a climb back up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "evaluation"
FOUNDATION = {"__init__", "errors", "text", "fmt", "files"}
LAYER = {"foundation": 0, "inputs": 1, "engine": 2, "report": 3, "forms": 3, "years": 4, "cli": 5}
MAX_MODULES = 12


def _area(module: str) -> str:
    """``inputs.rules`` → ``inputs``; ``errors`` → ``foundation``; ``cli``/``__main__`` → ``cli``."""
    head = module.split(".")[0]
    if head in ("cli", "__main__"):
        return "cli"
    if "." not in module:
        return "foundation" if head in FOUNDATION else head
    return head


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``module`` imports (names relative to ``evaluation``)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if module == "__init__":
        package = []
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
            elif node.module and node.module.split(".")[0] == "evaluation":
                base = []
            else:
                continue
            target = base + (node.module.split(".")[1:] if not node.level and node.module else
                             (node.module.split(".") if node.module else []))
            for alias in node.names:
                candidate = ".".join([*target, alias.name])
                name = candidate if candidate in known else ".".join(target)
                if name:
                    found.add(name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "evaluation" and "." in alias.name:
                    found.add(alias.name.split(".", 1)[1])
    return {f for f in found if f in known and f != module} | (
        {"__init__"} if any(not f or f == "__version__" for f in found) else set())


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {m: _imports(m, p, known) for m, p in modules.items()}


def test_the_tree_shows_the_stages():
    subpackages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert subpackages == ["engine", "forms", "inputs", "report", "years"]
    for name in subpackages:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"{name}/__init__.py must say what it owns and may import"


def test_no_folder_holds_more_than_a_dozen_modules():
    for folder in [PACKAGE, *[p.parent for p in PACKAGE.glob("*/__init__.py")]]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= MAX_MODULES, f"{folder.name}: {len(modules)} modules"


def test_the_graph_sees_lazy_and_relative_imports(graph):
    # The checker itself: a function-level import and a two-dot import are both seen.
    assert "report.build" in graph["cli"]  # imported inside a function
    assert "inputs.rules" in graph["engine.classify"]  # from ..inputs.rules import …
    assert "engine.pipeline" in graph["report.present"]


def test_no_module_imports_a_later_stage(graph):
    climbs = []
    for module, deps in graph.items():
        mine = _area(module)
        for dep in deps:
            theirs = _area(dep)
            if theirs == mine:
                continue
            if LAYER[theirs] >= LAYER[mine]:
                climbs.append(f"{module} → {dep}")
    assert climbs == []


def test_no_import_cycle(graph):
    # Tarjan's strongly connected components: any component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


HTML_TABLE_TAGS = ("<table", "<tr", "<td")


def _html_table_lines(text: str) -> list[int]:
    """Numbers of the lines of a source text holding a table tag (any case)."""
    return [n for n, line in enumerate(text.splitlines(), start=1)
            if any(tag in line.lower() for tag in HTML_TABLE_TAGS)]


def test_the_html_check_sees_table_tags_in_any_case():
    source = 'x = 1\nrow = f"<TR><td class=num>{v}</td></tr>"\nhead = "<th>Đơn vị</th>"\nt = \'<table class="x">\'\n'
    assert _html_table_lines(source) == [2, 4]


def test_html_of_the_report_is_in_templates_not_in_python():
    # The report's, the comparison's and the index page's HTML lives in
    # report/templates/fragments/: Python modules of report/ and years/ prepare data and render.
    found = [f"{path.relative_to(PACKAGE)}:{n}"
             for folder in ("report", "years") for path in sorted((PACKAGE / folder).glob("*.py"))
             for n in _html_table_lines(path.read_text(encoding="utf-8"))]
    assert found == []
