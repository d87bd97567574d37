"""`ptmgraph report` in every format, hostile names escaped, and the HTML picture as Chromium draws it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.cli.png import pixels
from tests.cli.test_cli import run

HOSTILE = "<img src=x onerror=alert(1)> `x` **y** it's"
ORIGIN_RED, REPO_BLUE = (0xC0, 0x39, 0x2B), (0x2E, 0x86, 0xC1)


@pytest.fixture
def flagged_store(tmp_path):
    store = tmp_path / "store"
    assert run("demo", "--json", store=store).exit_code == 0
    flagged = run("flag", "meta-llama/Llama-2-7b-hf", "--kind", "user", "--severity", "high", "--reason", HOSTILE,
                  store=store)
    assert flagged.exit_code == 0, flagged.output
    assert run("propagate", "--json", store=store).exit_code == 0
    return store


def test_json_report_explains_each_origin_with_paths(flagged_store):
    result = run("report", "--json", store=flagged_store)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    user = next(o for o in report["origins"] if o["kind"] == "user")
    assert user["summary"] == HOSTILE
    chat_gguf = next(m for m in user["models"] if m["id"] == "TheBloke/Llama-2-7B-Chat-GGUF")
    assert chat_gguf["path"] == ["meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-chat-hf",
                                 "TheBloke/Llama-2-7B-Chat-GGUF"]
    assert {r["id"] for r in user["repos"]} >= {"lm-sys/FastChat", "facebookresearch/llama-recipes"}
    assert report["totals"]["origins"] == 7 and report["origins"][0] is user, "the base reaches most"


def test_table_and_markdown_name_the_origins_and_escape_names(flagged_store, tmp_path, monkeypatch):
    from rich.console import Console

    from ptmgraph.cli import render

    monkeypatch.setattr(render, "out", Console(width=250))  # the runner's 80 columns would fold the ids
    table = run("report", store=flagged_store)
    assert table.exit_code == 0 and "meta-llama/Llama-2-7b-hf" in table.stdout
    out = tmp_path / "r.md"
    assert run("report", "--format", "md", "--out", str(out), store=flagged_store).exit_code == 0
    md = out.read_text()
    assert "## user (high) on model meta-llama/Llama-2-7b-hf" in md
    assert not re.search(r"(?<!\\)<img", md), "an HTML tag in a name must not reach a Markdown renderer raw"
    assert "\\<img src=x onerror=alert(1)\\> \\`x\\` \\*\\*y\\*\\* it's" in md
    assert "`` meta-llama/Llama-2-7b-hf --finetune--> meta-llama/Llama-2-7b-chat-hf" in md


def test_bad_format_and_unknown_model_are_one_line_errors(flagged_store):
    bad = run("report", "--format", "pdf", store=flagged_store)
    assert bad.exit_code == 1 and "unknown --format 'pdf'" in bad.output
    unknown = run("report", "org/nope", store=flagged_store)
    assert unknown.exit_code == 1 and "no model 'org/nope'" in unknown.output


def test_html_report_is_self_contained_and_chromium_draws_the_lineage_picture(flagged_store, tmp_path):
    page = tmp_path / "report.html"
    result = run("report", "meta-llama/Llama-2-7b-hf", "--format", "html", "--out", str(page), store=flagged_store)
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", ""), \
        "one offline file: no scripts, nothing fetched"
    assert html.count('<svg class="lineage"') == 1
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian chromium is not installed (`apt-get install chromium`; .ci/run installs it)")
    with_picture = _screenshot(browser, page, tmp_path / "with")
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'<svg class="lineage".*?</svg>', "", html, flags=re.S))
    without = _screenshot(browser, bare, tmp_path / "without")
    # The flagged origin's box is red and exposed repositories' boxes blue: beyond what the legend shows, the
    # picture puts thousands of such pixels on screen, so it was drawn, not just sent.
    assert with_picture[ORIGIN_RED] - without[ORIGIN_RED] > 2000, "no flagged-origin box in the picture"
    assert with_picture[REPO_BLUE] - without[REPO_BLUE] > 5000, "no repository boxes in the picture"


def _screenshot(browser, page, folder):
    shot = folder / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={folder / 'profile'}", "--window-size=1200,1600",
                    f"--screenshot={shot}", page.as_uri()], check=True, capture_output=True, timeout=120)
    width, height, colours = pixels(shot)
    assert (width, height) == (1200, 1600)
    return colours
