"""analyze.py's last step: the report of the analysed sweep, or the placeholder report when there is none."""

from __future__ import annotations

import logging
import shlex
from pathlib import Path

from omegaconf import DictConfig

from embtrans.errors import UserError
from embtrans.paths import ROOT
from embtrans.report.inputs import from_analysis
from embtrans.report.publish import publish
from embtrans.report.render import RenderedReport, render_report
from embtrans.report.trusted_html import raw_html

log = logging.getLogger(__name__)


def study_texts(cfg: DictConfig) -> dict[str, str]:
    """The study's notes and written conclusion (report.notes, report.conclusion), read and checked: each a
    Markdown file without raw HTML. analyze.py reads them before analysing, so a wrong path costs seconds."""
    texts = {}
    for key, what in (("notes", "the study's notes"), ("conclusion", "the study's written conclusion")):
        value = cfg.report.get(key)
        if value:
            if not Path(value).is_file():
                raise UserError(f"report.{key}={value} is no file: name a Markdown file of {what}, or leave it null")
            texts[key] = read_notes(Path(value), f"report.{key}")
    return texts


def build_report(cfg: DictConfig, analysis_dir: Path) -> RenderedReport:
    """The real report, read back from the analysis folder's files (so it is reproducible from them)."""
    folder = Path(cfg.report.dir) if cfg.report.get("dir") else Path(analysis_dir) / "report"
    report = from_analysis(analysis_dir)
    destination = cfg.report.get("publish")
    command = f"python analyze.py sweep_dir={shown_path(report.sweep_dir)}"
    texts = study_texts(cfg)
    report.notes, report.conclusion = texts.get("notes", ""), texts.get("conclusion", "")
    for key in texts:
        command += f" report.{key}={cfg.report[key]}"
    if cfg.report.get("title"):
        report.title = str(cfg.report.title)
        command += " " + shlex.quote(f"report.title={report.title}")
    if destination:
        command += f" report.publish={destination}"
    rendered = render_report(report, folder, cfg.report.examples_per_pair, analyze_command=command)
    log.info("report written to %s", rendered.html)
    if destination:
        published = publish(folder, analysis_dir, report.sweep_dir, Path(destination))
        log.info("report published to %s", published)
        return RenderedReport(published, published / "index.html", published / "report.md", False)
    return rendered


def read_notes(path: Path, key: str = "report.notes") -> str:
    """The study's notes (or written conclusion): Markdown without raw HTML, which index.html would show as
    text (it renders no HTML but its own) while a blog engine rendered it from report.md: refused, so both
    read the same."""
    text = path.read_text().strip()
    if found := raw_html(text):
        raise UserError(f"{key}={path} holds raw HTML ({found[0][:60]!r}): the notes are Markdown, and "
                        "the report shows no HTML but its own; write it as Markdown (in `code` to show a tag)")
    return text


def shown_path(path: Path) -> str:
    """A path as a reader can reuse it: relative to the project when inside it (no machine's home in a report)."""
    path = Path(path).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def build_placeholder_report(cfg: DictConfig) -> RenderedReport:
    """The real layout with synthetic, visibly marked numbers, texts and pictures."""
    from embtrans.report.placeholder import placeholder_input

    folder = Path(cfg.report.placeholder_dir)
    report = placeholder_input(folder, cfg.report.placeholder_study, seed=cfg.report.seed)
    rendered = render_report(report, folder, cfg.report.examples_per_pair)
    log.info("placeholder report written to %s", rendered.html)
    return rendered


def describe(rendered: RenderedReport) -> str:
    kind = "placeholder report" if rendered.placeholder else "report"
    return (f"{kind}:   {rendered.html} (open it in a browser, no server needed; {rendered.markdown.name} beside it "
            "is the same text for a blog engine)")
