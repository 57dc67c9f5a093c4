"""The one Jinja2 environment of the HTML fragments: the yearly report, the comparison, the index page.

Templates live in ``templates/fragments/`` (beside nbconvert's ``templates/report/``):
``macros.html.j2`` holds the shared pieces (table, tier badge, unconfirmed mark), and each
presenting module has a folder with one fragment per section, named after the function that
renders it (``present.method`` → ``present/method.html.j2``).  Python prepares plain data
(text, numbers already formatted, dicts and lists) and calls :func:`render`.

Escaping is automatic: every ``{{ value }}`` is escaped unless it is already markup (the
output of a macro or of another fragment).  The escaping is :func:`html.escape`'s, the one the
report has always used (quotes as ``&quot;`` and ``&#x27;``), so outputs stay byte-identical;
a missing value (``None``, NaN) prints as nothing.  An undefined variable raises
(``StrictUndefined``) instead of printing blank.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import jinja2
from markupsafe import Markup

from ..fmt import count, fmt_bound, number, percent, tint

__all__ = ["render", "ENVIRONMENT", "FRAGMENTS"]


def _escape(value: object) -> object:
    """``finalize`` of every ``{{ … }}``: markup passes, anything else is escaped text."""
    if hasattr(value, "__html__"):
        return value
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return Markup(escape(str(value)))


FRAGMENTS = Path(__file__).resolve().parent / "templates" / "fragments"

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(FRAGMENTS),
    autoescape=True,
    finalize=_escape,
    undefined=jinja2.StrictUndefined,
    # A line holding only a block tag leaves nothing in the output: the fragments read as
    # indented HTML while the pages keep the exact bytes they had.
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters.update(number=number, bound=fmt_bound, count=count, percent=percent, tint=tint)


def render(name: str, **data: object) -> str:
    """The fragment ``templates/fragments/<name>`` rendered with ``data``.

    A fragment is written one part per line; the line break after its last part is not
    kept (the notebook's output, or the page, places the fragment).

    Raises
    ------
    jinja2.UndefinedError
        When the fragment uses a variable that ``data`` does not hold.
    """
    return ENVIRONMENT.get_template(name).render(**data).removesuffix("\n")
