"""The HTML report in a real browser (Debian's Chromium, headless): no console error, no
network request, and a page that is not blank — on a desktop and on a phone-sized screen."""

from __future__ import annotations

import io
import shutil

import pytest

from evaluation.report.build import build_report
from tests.conftest import PARAMS_2020

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    return build_report(PARAMS_2020, tmp_path_factory.mktemp("out")).html


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_report_opens_cleanly_in_chromium(report_html, viewport, tmp_path):
    assert CHROMIUM, "Debian's chromium is needed (.ci/run installs it)"
    from PIL import Image, ImageStat
    from playwright.sync_api import sync_playwright

    console, requests, failures = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport=viewport)
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning")
                else None)
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failures.append(r.url))
        page.goto(report_html.as_uri(), wait_until="load")
        title = page.title()
        text = page.inner_text("body")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        # The whole stylesheet applies: its first rule (:root variables) included, table rules drawn.
        cell = page.evaluate("""() => { const cs = getComputedStyle(document.querySelector('table.results td'));
            return [cs.borderTopStyle, cs.borderTopWidth,
                    getComputedStyle(document.documentElement).getPropertyValue('--rule').trim()]; }""")
        alts = page.evaluate("Array.from(document.images, i => i.alt)")
        shot = page.screenshot(full_page=False)
        browser.close()

    assert console == []
    outside = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert outside == [] and failures == []
    assert title.startswith("Tổng hợp kết quả đánh giá, xếp loại")
    assert "Sở Kế hoạch và Đầu tư" in text and "Hoàn thành xuất sắc nhiệm vụ" in text
    assert not overflow, "the page must not scroll sideways (wide tables scroll inside their box)"
    assert cell == ["solid", "1px", "#c8c8c8"], cell
    assert alts and all(a.startswith("Hình ") for a in alts), alts     # numbered, with their caption
    image = Image.open(io.BytesIO(shot)).convert("L")
    assert ImageStat.Stat(image).stddev[0] > 10, "screenshot looks blank"
    image.save(tmp_path / "screenshot.png")
