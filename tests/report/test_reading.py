"""The report a person reads to the end (issue 25): at 1,400 px in headless Chromium, the findings with their
intervals fill the first screen, nothing is wider than the page, and the evaluation's tables are there."""

from __future__ import annotations

import pytest

from embtrans.paths import ROOT
from embtrans.report.build import build_placeholder_report
from tests.tiny_sweep import compose_analyze, run_analyze

VIEWPORT = {"width": 1400, "height": 900}
# Gathered in the browser once every image has loaded: the first screen's findings, and anything that pokes out.
READING_FACTS = """() => {
  const width = document.documentElement.clientWidth;
  const heading = Array.from(document.querySelectorAll('main p strong')).find(s => s.innerText === 'In short.');
  const list = heading ? heading.closest('p').nextElementSibling : null;
  const findings = list ? Array.from(list.querySelectorAll(':scope > li')) : [];
  return {
    width, pageWidth: document.documentElement.scrollWidth, height: window.innerHeight,
    findings: findings.map(li => ({text: li.innerText, bottom: li.getBoundingClientRect().bottom})),
    tooWide: Array.from(document.querySelectorAll('main table, main img, main figure, main p, main pre, main ul'))
                  .filter(e => e.getBoundingClientRect().right > width + 1).map(e => e.tagName),
    images: Array.from(document.images).map(i => i.complete && i.naturalWidth > 0),
    headings: Array.from(document.querySelectorAll('main h2, main h3')).map(h => h.innerText),
  };
}"""


def read(browser, index):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(index.resolve().as_uri(), wait_until="load")
    facts = page.evaluate(READING_FACTS)
    page.close()
    return facts


def assert_readable(facts):
    first_screen = [f for f in facts["findings"] if f["bottom"] <= facts["height"]]
    assert len(first_screen) >= 3, facts["findings"]
    with_interval = [f for f in first_screen if "[" in f["text"] or "interval" in f["text"]]
    assert len(with_interval) >= 3, first_screen
    assert facts["pageWidth"] <= facts["width"], "the page scrolls sideways"
    assert not facts["tooWide"], facts["tooWide"]
    assert facts["images"] and all(facts["images"])
    for heading in ("Search quality, absolute: nDCG@", "The migration as users run it: a half-migrated index",
                    "Stitching: B's classifier on translated vectors", "Hubness", "Glossary"):
        assert any(h.startswith(heading) for h in facts["headings"]), heading


def test_the_placeholder_reads_findings_first_and_fits_the_page(browser, tmp_path):
    report = build_placeholder_report(compose_analyze(f"paths.log_dir={tmp_path}"))
    assert_readable(read(browser, report.html))


@pytest.mark.slow
def test_the_real_report_reads_findings_first_with_its_title_and_written_conclusion(tiny_sweep, browser, tmp_path):
    log_dir, sweep_dir, env = tiny_sweep
    conclusion = tmp_path / "conclusion.md"
    conclusion.write_text("We conclude that *nothing* here generalises: a tiny sweep.\n")
    # the sweep's usual analysis folder (its scores cached by the other tests), the report written apart
    result = run_analyze([f"sweep_dir={sweep_dir}", f"report.dir={tmp_path / 'report'}",
                          f"report.conclusion={conclusion}", "report.title=A tiny study"], env, log_dir)
    assert result.returncode == 0, result.stderr
    index = tmp_path / "report" / "index.html"
    assert_readable(read(browser, index))
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "\n# A tiny study\n" in markdown
    conclusion_section = markdown.split("## 3. Conclusion")[1].split("\n## ")[0]
    assert "We conclude that *nothing* here generalises" in conclusion_section
    assert "report.conclusion=" in markdown and "'report.title=A tiny study'" in markdown  # the rebuild command


@pytest.mark.slow
def test_a_written_conclusion_that_is_no_file_is_one_line_before_any_analysis(tiny_sweep, tmp_path):
    log_dir, sweep_dir, env = tiny_sweep
    missing = tmp_path / "missing.md"
    result = run_analyze([f"sweep_dir={sweep_dir}", f"output_dir={tmp_path / 'analysis'}",
                          f"report.conclusion={missing}"], env, log_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"report.conclusion={missing} is no file" in result.stderr
    assert not (tmp_path / "analysis").exists()  # refused before analysing


@pytest.mark.parametrize("study", ["reference_study", "general_study"])
def test_the_checked_in_study_reads_findings_first_and_fits_the_page(browser, study):
    if not (ROOT / "results" / study / "index.html").exists():
        pytest.skip(f"no {study} checked in")
    facts = read(browser, ROOT / "results" / study / "index.html")
    assert_readable(facts)
    for heading in ("Neighbourhoods: k-NN Jaccard@", "Matching"):  # edit similarity; MRR and mean rank
        assert any(h.startswith(heading) for h in facts["headings"]), heading
