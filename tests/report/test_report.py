"""The report: the real one from a real tiny sweep, the placeholder one, both opened in headless Chromium.

Chromium is Debian's (/usr/bin/chromium, installed by .ci/run), driven by Playwright without any
browser download. Where it is missing the browser tests skip, unless REPORT_BROWSER_REQUIRED is set
(CI sets it), where they fail.
"""

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest

from embtrans.errors import UserError
from embtrans.paths import ROOT
from embtrans.report.build import build_placeholder_report
from embtrans.report.inputs import from_analysis
from embtrans.report.render import markdown_to_html
from embtrans.report.sections import SECTIONS
from embtrans.report.values import escape_markdown
from tests.tiny_sweep import compose_analyze, run_analyze

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Chromium on a machine with no network: no sandbox (CI runs as root), no GPU, no background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "outputs" / "test-artifacts"))
# A cell holding a measured number (or mean ± spread): a decimal, maybe scientific, a ratio or a percentage.
NUMBER = r"[-+\\]?\d[\d,]*\.\d+(e[-+]\d+)?[×%]?"
# ... and with several seeds or a bootstrap: mean ± std [low, high].
NUMBER_CELL = re.compile(rf"{NUMBER}( ± {NUMBER})?( \[{NUMBER}, {NUMBER}\])?")
# What the page says about itself, gathered in the browser after every image has loaded (or failed).
PAGE_FACTS = """() => ({
  images: Array.from(document.images).map(i => ({src: i.getAttribute('src'), loaded: i.complete && i.naturalWidth > 0,
                                                  marked: !!i.closest('figure.placeholder')})),
  ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
  headings: Array.from(document.querySelectorAll('main h2')).map(h => h.innerText),
  markers: document.querySelectorAll('.placeholder').length,
  text: document.body.innerText,
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
})"""


def open_report(browser, index: Path, screenshot: Path) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(index.resolve().as_uri(), wait_until="load")
    facts = page.evaluate(PAGE_FACTS)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return {**facts, "failed": failed}


def number_cells(html: str) -> list[str]:
    cells = re.findall(r"<td>(.*?)</td>", html, flags=re.S)
    return [cell for cell in cells if NUMBER_CELL.fullmatch(re.sub(r"<[^>]+>", "", cell).strip())]


@pytest.fixture(scope="module")
def placeholder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("placeholder")
    return build_placeholder_report(compose_analyze(f"paths.log_dir={folder}"))


def test_placeholder_report_marks_every_number_text_and_picture(placeholder):
    html, markdown = placeholder.html.read_text(), placeholder.markdown.read_text()
    assert placeholder.html.parent.name == "report" and 'id="placeholder-banner"' in html
    numbers = number_cells(html)
    assert len(numbers) > 100
    unmarked = [cell for cell in numbers if not re.fullmatch(r'(\s*<mark class="placeholder"[^>]*>[^<]*</mark>\s*(±)?)+',
                                                               cell)]
    assert not unmarked, unmarked[:5]
    figures = re.findall(r"<figure( class=\"placeholder\")?>", html)
    assert len(figures) >= 10 and all(figures), "every picture is marked"
    assert 'href="../' not in html  # no run to link to: nothing pretends to come from one
    # The Markdown twin carries the same sections and the same marks.
    assert [line[3:] for line in markdown.splitlines() if line.startswith("## ")] == [s.title for s in SECTIONS]
    assert markdown.startswith("---\n") and json.loads(markdown.split("\n")[1])["draft"] is True
    assert markdown.count('<mark class="placeholder"') > 100


def test_placeholder_report_opens_in_chromium_with_every_picture_marked(placeholder, browser):
    facts = open_report(browser, placeholder.html, ARTIFACTS / "report-placeholder.png")
    assert facts["images"] and all(image["loaded"] and image["marked"] for image in facts["images"])
    assert not facts["failed"]
    assert "placeholder-banner" in facts["ids"] and facts["markers"] > 100


def test_text_from_a_dataset_cannot_inject_markup():
    hostile = "<script>alert(1)</script> | *bold* [link](http://x) `code`"
    html = markdown_to_html(f"| a |\n|---|\n| {escape_markdown(hostile)} |\n")
    assert "<script" not in html and "<a " not in html and "<strong>" not in html and "<code>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | *bold* [link](http://x) `code`" in html


def test_a_datasets_html_entities_show_as_their_characters_and_stay_text():
    from embtrans.report.sections import snippet

    assert snippet("Fascism, Communism &amp; Liberalism") == "Fascism, Communism & Liberalism"
    html = markdown_to_html(f"| a |\n|---|\n| {escape_markdown(snippet('A &amp; B &lt;script&gt;'))} |\n")
    assert "A &amp; B &lt;script&gt;" in html and "&amp;amp;" not in html and "<script" not in html


def test_a_folder_without_an_analysis_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="no analysis.json: run python analyze.py first"):
        from_analysis(tmp_path)


@pytest.mark.slow
def test_analyze_with_no_sweep_yet_writes_the_placeholder_report(cli_env, tmp_path):
    result = run_analyze([], cli_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no sweep found" in result.stdout and "placeholder report:" in result.stdout
    assert (tmp_path / "analysis" / "placeholder" / "report" / "index.html").exists()


@pytest.mark.slow
def test_the_real_report_opens_in_chromium_every_number_linked_to_its_run(tiny_sweep, browser):
    log_dir, sweep_dir, env = tiny_sweep
    result = run_analyze([f"sweep_dir={sweep_dir}"], env, log_dir)
    assert result.returncode == 0, result.stderr
    analysis_dir = log_dir / "analysis" / "tiny"
    index = analysis_dir / "report" / "index.html"
    facts = open_report(browser, index, ARTIFACTS / "report.png")

    assert (ARTIFACTS / "report.png").read_bytes()[:4] == b"\x89PNG"
    # the protocol diagram, the pair's kernel grid, UMAP of the chosen translators, MSE and retention against
    # width, and the absolute-nDCG heatmaps
    assert len(facts["images"]) >= 7 and all(image["loaded"] for image in facts["images"]), facts["images"]
    sources = " ".join(image["src"] for image in facts["images"])
    for kind in ("protocol", "kernel_grid", "umap", "mse_vs_width", "retention_vs_width", "ndcg_matrix"):
        assert kind in sources, kind
    assert not facts["failed"]
    assert {s.id for s in SECTIONS} <= set(facts["ids"])
    assert facts["headings"] == [s.title for s in SECTIONS]
    assert facts["markers"] == 0 and "placeholder" not in facts["text"].lower()

    html = index.read_text()
    numbers = number_cells(html)
    unlinked = [cell for cell in numbers if not re.fullmatch(r'(\s*<a href="[^"]+"[^>]*>[^<]*</a>\s*(±)?)+', cell)]
    assert len(numbers) > 50
    assert not unlinked, unlinked[:5]
    for href in facts["links"]:  # every link leads somewhere that exists, from disk
        if href.startswith("#"):
            assert href[1:] in facts["ids"], href
        else:
            assert (index.parent / unquote(href)).exists(), href
    linked = {(index.parent / unquote(h)).resolve() for h in facts["links"] if not h.startswith("#")}
    summary = json.loads((analysis_dir / "analysis.json").read_text())
    runs = {Path(r["run_dir"]).resolve() for r in summary["results"] if r["kind"] == "trained"}
    assert runs and runs <= linked  # every trained run is linked from the numbers it produced
    markdown = (analysis_dir / "report" / "report.md").read_text()
    assert "placeholder" not in markdown.lower() and "minilm → e5\\_small" in markdown
    # three seeds: cells carry mean ± std [interval]; the retention figure with intervals is shown
    assert any("±" in cell and "[" in cell for cell in numbers)
    # the tables the evaluation promises are on the page
    for heading in ("Search quality, absolute", "half-migrated index", "Stitching", "Hubness", "edit similarity",
                    "Matching", "Glossary", "Beside the published numbers"):
        assert heading in facts["text"], heading
    # vec2vec's top-1 beside this sweep's Procrustes on its one pair, the number linked to its table; the entries
    # read at nDCG@10 are not measured by an analysis at retrieval.k=3, and say so
    published = pd.read_csv(analysis_dir / "tables" / "published.csv")
    vec2vec = published[published["source"].str.startswith("vec2vec")]
    assert list(vec2vec["pair"]) == ["minilm-to-e5_small"] and list(vec2vec["translator"]) == ["procrustes (closed form)"]
    assert 0 < vec2vec["here_mean"].iloc[0] <= 1 and "tables/published.csv" in html
    assert "Not measured in this study: " in markdown and "0.871 ± 0.006 (3 seeds)" in markdown


def test_the_wandb_link_is_the_run_folder_not_wandbs_latest_run_link(tmp_path):
    from embtrans.report.inputs import wandb_run_dir

    assert wandb_run_dir(tmp_path) is None  # logged without W&B (logger=csv)
    folder = tmp_path / "wandb"
    (folder / "offline-run-20261125_134325-45wep0jc").mkdir(parents=True)
    (folder / "latest-run").symlink_to("offline-run-20261125_134325-45wep0jc")
    assert wandb_run_dir(tmp_path) == folder / "offline-run-20261125_134325-45wep0jc"
