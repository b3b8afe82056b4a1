"""Text from a config, a path or a dataset reaches the report as text, never as markup (issue 23).

A value swept on train.py's command line (``'+note="<img src=x onerror=alert(1)>"'``) becomes part
of a translator's label. Here the placeholder study's input (the analysis' own tables and plots over
synthetic scores) is built twice, once with its ordinary names and once renamed with hostile ones: a
label, a model, a dataset, example texts, the sweep's name and commands, a failed job, the notes.
index.html may hold no element or attribute the ordinary twin lacks, and shows each name as written.
"""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from omegaconf import OmegaConf

from embtrans.analysis.identifiers import file_name
from embtrans.errors import UserError
from embtrans.paths import ROOT
from embtrans.report.build import read_notes
from embtrans.report.content import Figure
from embtrans.report.markup import code_span, escape_markdown
from embtrans.report.placeholder import placeholder_input
from embtrans.report.render import markdown_to_html, render_report
from embtrans.report.sections import SECTIONS
from embtrans.report.trusted_html import anchor_html, figure_html
from tests.tiny_sweep import compose_analyze

# HTML, Markdown that would split a table cell, link, emphasise or quote, an entity, an attribute break-out,
# and mathtext that matplotlib cannot parse (the diagrams' titles name the label).
HOSTILE = ('<img src=x onerror=alert(1)><script>alert(2)</script> | ](javascript:alert(3)) [x](javascript:alert(4)) '
           r'*em* _u_ `c` &amp; x" onfocus="alert(5) $\foo{$')
LABEL = f"mlp1-x1@note={HOSTILE}"  # a variant told apart from another run's note (src/embtrans/analysis/pipeline.py)
MODEL = "minilm<b onmouseover=alert(6)>"
DATASET = "rotten<svg onload=alert(7)>"
TEXT = "A review <iframe src=javascript:alert(8)></iframe> | with `code` and **bold**"
NAME = "sweep<details open ontoggle=alert(9)>"
COMMAND = "python train.py -m '+note=a,`<img src=x onerror=alert(10)>`' arch=linear,mlp1"
ANALYZE = "python analyze.py sweep_dir=outputs/`<img src=x onerror=alert(11)>`"
LEFT_OUT = "mlp1-x1_note=<img src=x onerror=alert(12)>_seed=2: failed ``(see failed.json)``"
NOTES = "The study's notes, *in Markdown*: `<img src=x onerror=alert(13)>` is a tag, shown as code."
OPTIMIZER = "Adam<img src=x onerror=alert(14)>"
PLAIN_COMMAND = "python train.py -m arch=linear,mlp1"
PLAIN_NOTES = "The study's notes, *in Markdown*."


class Page(HTMLParser):
    """Every element with its attributes, and the visible text under each section heading."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.sections: dict[str, str] = {}
        self.heading: str | None = None
        self.in_heading = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "h2":
            self.in_heading, self.heading = True, ""

    def handle_endtag(self, tag):
        if tag == "h2" and self.in_heading:
            self.in_heading = False
            self.sections[self.heading] = ""

    def handle_data(self, data):
        if self.in_heading:
            self.heading += data
        elif self.heading in self.sections:
            self.sections[self.heading] += data

    def vocabulary(self) -> set[tuple[str, str]]:
        """(tag, attribute name) pairs, and (tag, "") for every tag."""
        return {(tag, name) for tag, attrs in self.elements for name in ("", *attrs)}


def renamed(text: str) -> str:
    """The placeholder study's names replaced by the hostile ones, wherever a name is part of a text."""
    text = re.sub(r"(?<![\w-])mlp1-x1(?=@|$)", lambda _: LABEL, text)
    return re.sub(r"(?<!\w)minilm(?!\w)", lambda _: MODEL, text)


def rename_input(report) -> None:
    """Rename every name the analysis wrote, the figure files named after them included."""
    def swap(value):
        return renamed(value) if isinstance(value, str) else value

    stems = {file_name(label): file_name(renamed(label)) for label in report.results["run_label"]}
    for table in (report.results, report.translators, report.aggregate, report.comparisons):
        for column in table.columns:
            table[column] = table[column].map(swap)
    report.examples = {swap(key): [hostile_example(e) for e in queries] for key, queries in report.examples.items()}
    report.runs = {swap(key): dataclasses.replace(facts, run_dir=Path(swap(str(facts.run_dir))))
                   for key, facts in report.runs.items()}
    report.models = {swap(name): {**model, "description": f"{model['description']} {HOSTILE}"}
                     for name, model in report.models.items()}
    for info in report.datasets.values():
        info["name"], info["description"] = DATASET, f"{info['description']} {HOSTILE}"
    moved = []
    for path in report.figures:  # <kind>/<dataset>/<pair>/<run label as a file name>.png, or one per dataset
        target = path.parent.parent / swap(path.parent.name) / f"{stems[path.stem]}.png" if path.stem in stems else path
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
        moved.append(target)
    report.figures = moved
    report.name, report.command, report.left_out = NAME, COMMAND, [LEFT_OUT]
    report.protocol = dataclasses.replace(report.protocol, loss=HOSTILE, optimizer=OPTIMIZER)


def hostile_example(example: dict) -> dict:
    sides = ("relevant", "both", "only_native", "only_translated")
    return {**example, "query": TEXT, **{side: [{**d, "text": TEXT} for d in example[side]] for side in sides}}


def build(folder: Path, hostile: bool, placeholder: bool):
    """The placeholder study's input, rendered as a real (linked, unmarked) report unless ``placeholder``."""
    cfg = compose_analyze(f"paths.log_dir={folder}")
    study = OmegaConf.merge(cfg.report.placeholder_study, {"archs": ["linear", "mlp1"], "widths": [1], "seeds": [0, 1]})
    report = placeholder_input(folder / "analysis", study, seed=0)
    report.placeholder = placeholder
    if hostile:
        rename_input(report)
        (folder / "notes.md").write_text(NOTES)
        report.notes = read_notes(folder / "notes.md")
        return render_report(report, folder / "report", analyze_command=ANALYZE)
    # The same structure with ordinary names: the elements a report may hold.
    report.command, report.left_out, report.notes = PLAIN_COMMAND, ["mlp1-x1_seed=2: failed"], PLAIN_NOTES
    return render_report(report, folder / "report", analyze_command="python analyze.py sweep_dir=outputs/s")


@pytest.fixture(scope="module", params=[False, True], ids=["real", "placeholder"])
def reports(request, tmp_path_factory):
    """(ordinary report, hostile report), each as its Page and its report.md (less the front matter)."""
    built = []
    for hostile in (False, True):
        rendered = build(tmp_path_factory.mktemp("hostile" if hostile else "plain"), hostile, request.param)
        built.append((Page(rendered.html.read_text()), rendered.markdown.read_text().split("---\n", 2)[2]))
    return built


def assert_no_markup_from_names(page: Page, plain: Page) -> None:
    assert page.vocabulary() <= plain.vocabulary(), sorted(page.vocabulary() - plain.vocabulary())
    tags = [tag for tag, _ in page.elements]
    for tag in ("script", "iframe", "svg", "details", "b"):
        assert tag not in tags
    for tag, attrs in page.elements:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert not [url for name, url in attrs.items() if name in ("href", "src") and ":" in (url or "")], (tag, attrs)
    images = [attrs for tag, attrs in page.elements if tag == "img"]
    assert images and len(images) == tags.count("figure")
    assert all(image["src"].startswith("figures/") for image in images)


def test_hostile_names_reach_the_page_as_text_and_never_as_markup(reports):
    (plain, _), (page, _) = reports
    assert_no_markup_from_names(page, plain)
    text = {s.id: page.sections[s.title] for s in SECTIONS}
    for section, shown in text.items():  # the label wherever a translator is named: tables, captions, sentences
        if section != "glossary":  # the report's own words only
            assert LABEL in shown, section
    for section in ("introduction", "results", "kernels", "examples", "umap", "sources"):
        assert MODEL in text[section], section
    intro, measured = text["introduction"], text["measured"]
    assert DATASET in intro and HOSTILE.upper() in measured and OPTIMIZER in measured and COMMAND in measured
    assert NOTES.replace("*", "").replace("`", "") in intro  # the notes are Markdown, and render so
    assert TEXT in text["examples"]
    assert ANALYZE in text["sources"] and LEFT_OUT in text["sources"]


def test_report_md_is_as_safe_for_a_blog_engine_that_renders_raw_html(reports):
    """report.md is meant for a blog engine, which may well render raw HTML: rendered so, it stays text."""
    (_, plain_md), (_, markdown) = reports
    permissive = MarkdownIt("commonmark", {"html": True}).enable("table")
    assert_no_markup_from_names(Page(permissive.render(markdown)), Page(permissive.render(plain_md)))


def test_the_renderer_keeps_raw_html_off_but_the_reports_own_figures_and_anchors():
    html = markdown_to_html("<img src=x onerror=alert(1)>\n\nA <script>alert(2)</script> and <b>bold</b>\n")
    assert "<img" not in html and "<script" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    figure = Figure("figures/a.png", 'alt "quoted" <b>', "caption <img src=x onerror=alert(3)>\n\nsplit", True)
    page = Page(markdown_to_html(f"{figure_html(figure)}\n\nz<sub>A</sub> | {anchor_html('source-linear')}\n"))
    assert [tag for tag, _ in page.elements] == ["figure", "img", "figcaption", "mark", "p", "sub", "a"]
    assert page.elements[1][1] == {"src": "figures/a.png", "alt": 'alt "quoted" <b>'}
    # Built by hand, not by figure_html: an unescaped caption is no trusted figure, only text.
    forged = '<figure>\n<img src="a.png" alt="a">\n<figcaption><img src=x onerror=alert(4)></figcaption>\n</figure>'
    assert "<img" not in markdown_to_html(forged) and "<figure" not in markdown_to_html(forged)


def test_notes_are_markdown_and_raw_html_in_them_is_refused_naming_it(tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("Markdown: *emphasis*, `<b>` in code, a link <https://example.org>.\n")
    assert read_notes(notes).startswith("Markdown")
    notes.write_text("Trained on a laptop.\n\nThen <img src=x onerror=alert(1)> in the text.\n")
    with pytest.raises(UserError, match="holds raw HTML .*<img src=x onerror"):
        read_notes(notes)
    study = ROOT / "results" / "notes" / "reference_study.md"
    assert not study.exists() or read_notes(study)  # the checked-in study's notes still build


@pytest.mark.parametrize("text", ["# heading", "- item", "+ item", "1. one", "7) seven", "===", "---", "> quote",
                                  "    code", "(http://example.org)", "a | b", "*a* _b_ ~~c~~ `d` [e](f) ![g](h) <i>",
                                  "&amp; &lt;", "back\\slash\\", "two\n\nparagraphs", "{: onclick=x}"])
def test_escaped_text_keeps_its_place_at_the_start_of_a_line_after_a_link_or_in_a_cell(text):
    """Where a template puts a text at a line's start (after a line of prose), straight after a link's "]",
    or in a table cell, it is one piece of text: no block, link, cell or element of its own."""
    shown = html_text(" ".join(text.split()))
    assert markdown_to_html(f"Seed\n{escape_markdown(text)}\n") == f"<p>Seed\n{shown}</p>\n"
    assert markdown_to_html(f"[a]{escape_markdown(text)}\n") == f"<p>[a]{shown}</p>\n"
    cell = markdown_to_html(f"| a | b |\n|---|---|\n| {escape_markdown(text)} | x |\n")
    assert f"<td>{shown}</td>\n<td>x</td>" in cell


def html_text(text: str) -> str:
    """Text as markdown-it writes it into HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@pytest.mark.parametrize("text", ["plain", "a `tick`", "``double`` and `", "`edge`", " spaced ", "two\n\nlines"])
def test_a_code_span_shows_any_text_as_written_on_one_line(text):
    html = markdown_to_html(f"- {code_span(text)}\n")
    assert re.fullmatch(r"<ul>\n<li><code>[^<]*</code></li>\n</ul>\n", html), html
    code = Page(f"<h2>x</h2>{html}").sections["x"].strip("\n")
    assert code == text.replace("\n", " ")
