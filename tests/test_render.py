"""The Jinja2 environment of the report's fragments: escaping, strict variables, number filters."""

from __future__ import annotations

import jinja2
import pytest
from markupsafe import Markup

from evaluation.report import render as render_module
from evaluation.report.render import ENVIRONMENT, FRAGMENTS, render


def _from(text: str, **data) -> str:
    return ENVIRONMENT.from_string(text).render(**data)


def test_every_value_is_escaped_as_the_report_always_escaped_it():
    # html.escape's spelling (&quot;, &#x27;), not markupsafe's (&#34;, &#39;): outputs stay byte-identical.
    assert _from("<p>{{ name }}</p>", name='<script>alert("x\'")</script> & co') == \
        "<p>&lt;script&gt;alert(&quot;x&#x27;&quot;)&lt;/script&gt; &amp; co</p>"
    assert _from('<td title="{{ t }}">', t='" onmouseover="x') == '<td title="&quot; onmouseover=&quot;x">'


def test_markup_passes_and_missing_values_print_nothing():
    assert _from("{{ a }}|{{ b }}|{{ c }}|{{ d }}", a=Markup("<sup>1</sup>"), b=None, c=float("nan"), d=0) == \
        "<sup>1</sup>|||0"


def test_a_macro_escapes_its_text_and_its_output_is_not_escaped_again():
    text = ('{% from "macros.html.j2" import badge %}'
            '{{ badge({"name": "<b>Tốt</b>", "short": "T", "color": "#2e7d32"}) }}')
    # tint: each channel 82 % of the way to white, 0x2e + (0xff − 0x2e) × 0.82 = 217 = 0xd9 …
    assert _from(text) == ('<span class="tier" style="background:#d9e8da;border-left-color:#2e7d32">'
                           "&lt;b&gt;Tốt&lt;/b&gt;</span>")


def test_an_undefined_variable_raises():
    with pytest.raises(jinja2.UndefinedError, match="nothing"):
        _from("<p>{{ nothing }}</p>")
    with pytest.raises(jinja2.UndefinedError):
        _from("{{ row.missing }}", row={"present": 1})
    with pytest.raises(jinja2.UndefinedError):
        render("present/closing.html.j2", closing="", recipients=[], archive="VT", signer_title="GIÁM ĐỐC")


def test_number_filters_write_the_vietnamese_way():
    assert _from("{{ x|number(2) }}", x=1234.5) == "1.234,50"
    assert _from("{{ x|number(1, max_decimals=2) }}", x=98.47) == "98,47"
    assert _from("{{ x|bound }} {{ y|bound }}", x=90.0, y=0.5) == "90 0,5"
    assert _from("{{ n|count }}", n=5) == "05"
    assert _from("{{ r|percent }}", r=0.2204) == "22,0%"
    assert _from("{{ c|tint }}", c="#000000") == "#d1d1d1"


def test_render_drops_the_line_break_after_the_last_line():
    assert render("present/closing.html.j2", closing="", recipients=["UBND tỉnh"], archive="VT",
                  signer_title="GIÁM ĐỐC", signer_name="Nguyễn Văn A").endswith("</table>")
    assert render("present/illustrative_banner.html.j2", illustrative=False) == ""


def test_fragments_sit_beside_the_notebook_template():
    assert FRAGMENTS.parent == render_module.Path(render_module.__file__).resolve().parent / "templates"
    assert (FRAGMENTS / "macros.html.j2").is_file()
    assert (FRAGMENTS.parent / "report" / "index.html.j2").is_file()
