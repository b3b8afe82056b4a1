"""Publishing a report into the repository (report.publish): every link and image of the published copy
resolves inside it, it holds no run folder, checkpoint or vector file, and publishing again writes the
same bytes. Also the checked-in studies under results/, opened from disk in headless Chromium."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from embtrans.errors import UserError
from embtrans.paths import ROOT
from embtrans.report.publish import HTML_LINK, MARKDOWN_LINK, MARKER, publish, published_files
from tests.report.test_report import ARTIFACTS, open_report
from tests.tiny_sweep import run_analyze

RESULTS = ROOT / "results"
STUDIES = sorted(p.parent for p in RESULTS.glob("*/index.html"))


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def local_links(folder: Path) -> list[tuple[str, str]]:
    """(document, link target without its #fragment) of every link and image that is not an anchor or URL."""
    found = []
    for name, pattern in (("index.html", HTML_LINK), ("report.md", MARKDOWN_LINK)):
        for href in pattern.findall((folder / name).read_text()):
            path = href.split("#", 1)[0]
            if path and not re.match(r"^[a-z][a-z0-9+.-]*:", path):
                found.append((name, unquote(path)))
    return found


def assert_self_contained(folder: Path) -> None:
    links = local_links(folder)
    assert links
    for document, path in links:
        target = (folder / path).resolve()
        assert target.is_relative_to(folder.resolve()), (document, path)
        assert target.exists(), (document, path)
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".ckpt", ".npy", ".safetensors", ".pt")]
    assert not [p for p in files if "checkpoints" in p.parts or "translated" in p.parts]


@pytest.fixture
def fake_report(tmp_path):
    """A report folder inside its analysis, linking a table, a run folder, a run file and a figure."""
    sweep = tmp_path / "train" / "multiruns" / "s"
    run = sweep / "data" / "a-to-b" / "linear_seed=0_x"
    (run / "checkpoints").mkdir(parents=True)
    (run / "translated").mkdir()
    (run / "metrics.json").write_text('{"run": {}}')
    (run / "config.yaml").write_text("seed: 0\n")
    (run / "checkpoints" / "best.ckpt").write_bytes(b"weights")
    (run / "translated" / "test.npy").write_bytes(b"vectors")
    analysis = tmp_path / "analysis" / "s"
    (analysis / "tables").mkdir(parents=True)
    (analysis / "tables" / "aggregate.csv").write_text("a,b\n1,2\n")
    (analysis / "tables" / "mse.md").write_text("| a |\n")
    report = analysis / "report"
    (report / "figures").mkdir(parents=True)
    (report / "figures" / "f.png").write_bytes(b"\x89PNG")
    to_run = "../../../train/multiruns/s/data/a-to-b/linear_seed%3D0_x"
    (report / "index.html").write_text(
        f'<a href="#sources">appendix</a> <a href="{to_run}">run</a> <a href="{to_run}/metrics.json">0.5</a>'
        '<a href="../tables/aggregate.csv">table</a> <img src="figures/f.png"> <a href="https://example.org">x</a>')
    (report / "report.md").write_text(
        f'[run]({to_run}) [0.5]({to_run}/metrics.json "linear, a-to-b") ![f](figures/f.png) [t](../tables/aggregate.csv)')
    return report, analysis, sweep


def test_publishing_copies_what_the_links_reach_and_nothing_else(fake_report, tmp_path):
    report, analysis, sweep = fake_report
    published = publish(report, analysis, sweep, tmp_path / "results" / "study")
    assert_self_contained(published)
    run = published / "runs" / "s" / "data" / "a-to-b" / "linear_seed=0_x"
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml", "metrics.json"]
    assert (published / "analysis" / "tables" / "mse.md").exists()  # every table, linked or not
    html = (published / "index.html").read_text()
    assert 'href="runs/s/data/a-to-b/linear_seed%3D0_x/metrics.json"' in html and 'href="https://example.org"' in html
    assert '"linear, a-to-b")' in (published / "report.md").read_text()  # titles survive
    first = tree_digest(published)
    # A file an earlier publish wrote (its marker lists it) that the report no longer links goes.
    marker = json.loads((published / MARKER).read_text())
    (published / "stale.txt").write_text("from an earlier publish")
    (published / MARKER).write_text(json.dumps({**marker, "files": marker["files"] + ["stale.txt"]}))
    publish(report, analysis, sweep, published)
    assert tree_digest(published) == first  # same bytes, and nothing left over
    assert not [p for p in published.parent.iterdir() if p.name != "study"]  # no staging or old copy left


def test_publishing_refuses_a_folder_it_did_not_write_and_changes_nothing(fake_report, tmp_path):
    """Issue 23: publishing above a sweep deleted the sweep; now only a new, empty or earlier
    publication's folder is written, and a refusal leaves no staging folder behind."""
    report, analysis, sweep = fake_report
    above = tmp_path / "P"
    (above / "sweeps").mkdir(parents=True)
    shutil.copytree(sweep, above / "sweeps" / "S")
    user = tmp_path / "mine"
    user.mkdir()
    (user / "thesis.tex").write_text("months of work")
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("x")
    with pytest.raises(UserError, match="holds the sweep folder"):  # the case: the sweep inside it
        publish(report, analysis, above / "sweeps" / "S", above)
    cases = [(above, "holds files no earlier publish wrote"), (user, r"holds files no earlier publish wrote \(thesis.tex\)"),
             (tmp_path, "holds the report folder"), (sweep, "holds the sweep folder"),
             (a_file, "is a file, not a folder")]
    for destination, message in cases:
        before = tree_digest(tmp_path)
        with pytest.raises(UserError, match=message):
            publish(report, analysis, sweep, destination)
        assert tree_digest(tmp_path) == before, destination
        assert not list(tmp_path.rglob(".*publishing*")), destination
    # An earlier publication with a file of the user's added to it is refused too: that file is not ours.
    published = publish(report, analysis, sweep, tmp_path / "results" / "study")
    (published / "my-notes.md").write_text("keep me")
    with pytest.raises(UserError, match="my-notes.md"):
        publish(report, analysis, sweep, published)
    assert (published / "my-notes.md").read_text() == "keep me"
    # An empty folder is fine.
    (tmp_path / "empty").mkdir()
    assert_self_contained(publish(report, analysis, sweep, tmp_path / "empty"))


def test_analyze_refuses_a_folder_it_may_not_publish_into_before_analysing(tiny_sweep, tmp_path):
    log_dir, sweep_dir, env = tiny_sweep
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("months of work")
    result = run_analyze([f"sweep_dir={sweep_dir}", f"report.publish={mine}", f"output_dir={tmp_path / 'analysis'}"],
                         env, log_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"error: report.publish={mine} holds files no earlier publish wrote (thesis.tex)" in result.stderr
    assert not (tmp_path / "analysis").exists()  # refused before the analysis, not after it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"] and (mine / "thesis.tex").read_text() == "months of work"


def test_a_publish_that_fails_part_way_leaves_no_staging_folder(fake_report, tmp_path):
    report, analysis, sweep = fake_report
    (report / "report.md").write_text("[x](../tables/gone.csv)")
    with pytest.raises(UserError, match="does not exist"):
        publish(report, analysis, sweep, tmp_path / "results" / "study")
    assert not (tmp_path / "results" / "study").exists()
    assert list((tmp_path / "results").iterdir()) == []


def test_a_link_outside_the_study_or_to_nothing_is_refused_and_leaves_the_old_copy(fake_report, tmp_path):
    report, analysis, sweep = fake_report
    published = publish(report, analysis, sweep, tmp_path / "results" / "study")
    before = tree_digest(published)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("?")
    (report / "report.md").write_text("[x](../../../elsewhere.txt)")
    with pytest.raises(UserError, match="outside the report, the analysis and the sweeps"):
        publish(report, analysis, sweep, published)
    (report / "report.md").write_text("[x](../tables/gone.csv)")
    with pytest.raises(UserError, match="does not exist"):
        publish(report, analysis, sweep, published)
    assert tree_digest(published) == before


def test_analyze_publishes_a_report_that_opens_from_its_new_place(tiny_sweep, browser, tmp_path):
    log_dir, sweep_dir, env = tiny_sweep
    published = tmp_path / "results" / "tiny"
    notes = tmp_path / "notes.md"
    notes.write_text("Trained on a laptop, *for the test*.\n")
    args = [f"sweep_dir={sweep_dir}", f"report.publish={published}", f"report.notes={notes}"]
    result = run_analyze(args, env, log_dir)
    assert result.returncode == 0, result.stderr
    assert str(published / "index.html") in result.stdout
    assert_self_contained(published)
    facts = open_report(browser, published / "index.html", ARTIFACTS / "published.png")
    assert facts["images"] and all(image["loaded"] for image in facts["images"]), facts["images"]
    assert not facts["failed"] and facts["markers"] == 0
    assert "Trained on a laptop, for the test." in facts["text"]
    markdown = (published / "report.md").read_text()
    assert f"report.publish={published}" in markdown and "**Translators.**" in markdown
    first = tree_digest(published)
    again = run_analyze(args, env, log_dir)
    assert again.returncode == 0, again.stderr
    assert tree_digest(published) == first


@pytest.mark.skipif(not STUDIES, reason="no study is checked in under results/")
@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_the_checked_in_study_opens_from_a_checkout_with_every_link_inside_it(study, browser):
    assert_self_contained(study)
    # Its marker lists every file, so publishing it again replaces exactly the publication.
    files = {p.relative_to(study).as_posix() for p in study.rglob("*") if p.is_file()}
    assert published_files(study) == files - {MARKER}
    if (ROOT / ".git").exists():  # every file is one a commit keeps: none under an ignore pattern
        ignored = subprocess.run(["git", "ls-files", "--others", "--ignored", "--exclude-standard", str(study)],
                                 cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
        assert not ignored, ignored[:5]
    size = sum(p.stat().st_size for p in study.rglob("*") if p.is_file())
    # a six-pair study holds about 15 MiB; the general study's 24 pairs and 140 data-curve runs about 33
    assert size < 40 * 2**20, f"{study} holds {size / 2**20:.1f} MiB"
    markdown = (study / "report.md").read_text()
    assert markdown.startswith("---\n") and '"draft": false' in markdown.split("---")[1]
    assert "placeholder" not in markdown.lower()
    facts = open_report(browser, study / "index.html", ARTIFACTS / f"results-{study.name}.png")
    assert len(facts["images"]) >= 5 and all(image["loaded"] for image in facts["images"]), facts["images"]
    assert not facts["failed"] and facts["markers"] == 0
    for href in facts["links"]:
        if href.startswith("#"):
            assert href[1:] in facts["ids"], href
        elif not re.match(r"^[a-z][a-z0-9+.-]*:", href):
            assert (study / unquote(href.split("#")[0])).resolve().is_relative_to(study.resolve()), href


README_NUMBER = re.compile(r"(?<![\w.])[−+-]?(\d+\.\d+)\s?(%?)")
NUMBER_TEXT = r"[−+-]?(\d+\.\d+)"


def numbers_in(text: str) -> list[float]:
    return [float(m) for m in re.findall(r"\d+\.\d+(?:e[-+]?\d+)?", text)]


# Each section of docs/results.md that states a checked-in study's findings: the study, the section's heading,
# and how many numbers and "x [low, high]" triples it must quote at least (so that a section emptied of them fails).
FINDINGS = [("general_study", "## The general study", 30, 8),
            ("reference_study", "## The reference study", 40, 20),
            ("translator_choice", "## Which translator for my pair?", 30, 10),
            ("pairs_worth", "## What a paired text buys", 20, 5)]


@pytest.mark.parametrize("name, heading, at_least, triples_at_least", FINDINGS, ids=[f[0] for f in FINDINGS])
def test_every_number_of_the_docs_findings_is_in_the_checked_in_study(name, heading, at_least, triples_at_least):
    """The findings the docs state (docs/results.md; the README links there) quote the checked-in tables
    and report, rounded, never a number of their own."""
    study = RESULTS / name
    if not (study / "index.html").exists():
        pytest.skip(f"no {name} study checked in")
    results = (ROOT / "docs" / "results.md").read_text()
    findings = results.split(heading, 1)[1].split("**How it was made", 1)[0]
    corpus = [(study / "report.md").read_text()] + [p.read_text() for p in sorted((study / "analysis" / "tables").iterdir())]
    known = [abs(x) for text in corpus for x in numbers_in(text)]
    quoted = README_NUMBER.findall(findings)
    assert len(quoted) > at_least
    for digits, _ in quoted:
        assert any(rounds_to(x, digits) for x in known), digits
    # A number quoted with its interval, "x [low, high]", must come from one row (or one sentence) that
    # holds all three: a table row's mean and bounds, or a comparison's effect and interval.
    rows = [numbers_in(line) for text in corpus for line in text.splitlines()]
    triples = re.findall(rf"{NUMBER_TEXT}\s?%?\s*\[{NUMBER_TEXT}\s?%?,\s*{NUMBER_TEXT}\s?%?\]", findings)
    assert len(triples) > triples_at_least
    for triple in triples:
        assert any(all(any(rounds_to(abs(x), d) for x in row) for d in triple) for row in rows), triple


def rounds_to(x: float, digits: str) -> bool:
    places = len(digits.split(".")[1])
    return abs(round(abs(x), places) - float(digits)) < 10 ** -(places + 3)
