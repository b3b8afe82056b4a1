"""Render a report: the Markdown template filled from the sections, converted to one HTML page.

report.md (with front matter, for a blog engine) and index.html carry the same text; figures are
copied into figures/ beside them, so the folder opens from disk with no server and no network.
Every text the report did not write itself enters the Markdown escaped (markup.py), and index.html is
rendered with raw HTML off: only the report's own figures, anchors and marks pass (trusted_html.py).
Files are written only when their bytes change, like the rest of the analysis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin

from embtrans.files import write_if_changed
from embtrans.report.conclusions import conclusions
from embtrans.report.content import Figure, Markdown, slug
from embtrans.report.data_curve_section import data_curve_section
from embtrans.report.diagrams import draw_measurement_protocol, plain_text
from embtrans.report.inputs import ReportInput
from embtrans.report.markup import code_span, escape_markdown, markdown_text
from embtrans.report.published_section import published_section
from embtrans.report.sections import GLOSSARY, SECTIONS, ReportSections
from embtrans.report.transfer_section import transfer_section
from embtrans.report.trusted_html import figure_html, own_html_plugin
from embtrans.report.values import Value


@dataclass
class RenderedReport:
    folder: Path
    html: Path
    markdown: Path
    placeholder: bool


def cell(value) -> str:
    """A table cell as Markdown: Values link or are marked, tuples are mean ± spread, text is escaped."""
    if isinstance(value, tuple):
        return " ± ".join(str(v) for v in value)
    if isinstance(value, (Value, Markdown)):
        return str(value)
    return escape_markdown(value)


def environment() -> Environment:
    env = Environment(loader=PackageLoader("embtrans.report", "templates"), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      autoescape=lambda name: bool(name and name.endswith(".html.j2")))
    env.filters["cell"] = cell
    env.filters["md"] = markdown_text
    env.filters["code"] = code_span
    env.globals["figure"] = figure_html
    return env


def markdown_to_html(text: str) -> str:
    """The report's Markdown as HTML. Raw HTML is off: a tag in any text, the study's notes included
    (Markdown, written by the study's author), is shown as text; own_html_plugin passes the report's own."""
    ids = {section.title: section.id for section in SECTIONS}
    parser = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table").use(own_html_plugin)
    parser.use(anchors_plugin, min_level=2, max_level=3, slug_func=lambda title: ids.get(title, slug(title)))
    return parser.render(text)


def architecture_figures(sections: ReportSections, folder: Path) -> dict:
    """The measurement protocol's diagram (the report lists the translators in a table)."""
    report = sections.report
    first = sections.results.iloc[0]
    models = (plain_text(first["model_a"]), plain_text(first["model_b"]))
    protocol = report.protocol
    draw_measurement_protocol(folder / "figures" / "diagrams" / "protocol.png", models,
                              (1 - protocol.test_fraction, protocol.test_fraction),
                              val_fraction=protocol.val_fraction, placeholder=report.placeholder)
    return {"protocol": Figure(
        "figures/diagrams/protocol.png", "What is measured where",
        "What is measured where: both models embed every text once; the translator is fitted on the training "
        "pairs only; every score is taken on the held-out test texts.", report.placeholder)}


def render_report(report: ReportInput, folder: Path, examples_per_pair: int = 2,
                  analyze_command: str = "") -> RenderedReport:
    folder = Path(folder)
    sections = ReportSections(report, folder, examples_per_pair)
    title = report.title or ("Embedding translation: placeholder report" if report.placeholder
                             else f"Embedding translation: results of sweep {report.name}")
    context = {
        "title": title, "placeholder": report.placeholder, "sections": SECTIONS, "command": report.command,
        "intro": sections.introduction(), "architectures": architecture_figures(sections, folder),
        "kernels": sections.kernels(), "examples": sections.examples(), "aggregates": sections.aggregates(),
        "data_curve": data_curve_section(report, sections.sources), "published": published_section(report, sections.sources),
        "transfer": transfer_section(report, sections.sources),
        "umap": sections.umap(), "conclusion": conclusions(sections), "sources": sections.appendix(),
        "left_out": report.left_out, "seeds_left_out": report.seeds_left_out, "analyze_command": analyze_command,
        "glossary": GLOSSARY,
    }
    env = environment()
    body = env.get_template("report.md.j2").render(**context)
    front_matter = json.dumps({"title": title, "sweep": report.name, "draft": report.placeholder})
    markdown = f"---\n{front_matter}\n---\n\n{body}"  # JSON is valid YAML front matter
    css = (Path(__file__).parent / "templates" / "report.css").read_text()
    page = env.get_template("page.html.j2").render(title=title, css=Markup(css), body=Markup(markdown_to_html(body)),
                                                   sections=SECTIONS, placeholder=report.placeholder)
    html_path, markdown_path = folder / "index.html", folder / "report.md"
    write_if_changed(markdown_path, markdown)
    write_if_changed(html_path, page)
    return RenderedReport(folder, html_path, markdown_path, report.placeholder)



