"""The report's own HTML: the only HTML its Markdown carries into index.html.

index.html is rendered with markdown-it's raw HTML off, so a "<" in any text is shown, never parsed.
This plugin lets through exactly the fragments the report writes itself, each recognised by its
whole shape: figures (built by figure_html, every free part escaped), the appendix's anchors, the
placeholder marks and the introduction's <sub>. Anything else that looks like HTML stays text, a
figure whose caption was not escaped included. report.md carries the same fragments, for a blog engine.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markupsafe import escape

PLACEHOLDER_CLASS = "placeholder"
PLACEHOLDER_MARK = f'<mark class="{PLACEHOLDER_CLASS}" title="placeholder: synthetic number">'  # a Value's
PICTURE_MARK = f'<mark class="{PLACEHOLDER_CLASS}">placeholder picture</mark>'
# Whole inline tags as the report writes them (report.md.j2's <sub> and banner, values.Value's mark) ...
INLINE_TAGS = ("<sub>", "</sub>", f'<mark class="{PLACEHOLDER_CLASS}" id="placeholder-banner">', PLACEHOLDER_MARK,
               "</mark>")
# ... and an empty anchor to link to (anchor_html): an id as slug() makes it.
INLINE = re.compile("|".join(map(re.escape, INLINE_TAGS)) + r'|<a id="[a-z0-9-]+"></a>')
# A figure as figure_html writes it: no free part holds a quote or an angle bracket, so it adds no
# element or attribute; its picture is a relative path (quoted by values.relative_href: no scheme).
FIGURE = re.compile(rf'<figure(?: class="{PLACEHOLDER_CLASS}")?>\n<img src="[^"<>:]*" alt="[^"<>]*">\n'
                    rf'<figcaption>[^"<>]*(?: {re.escape(PICTURE_MARK)})?</figcaption>\n</figure>\n?')


def figure_html(figure) -> str:
    """A content.Figure as the block FIGURE recognises: its text escaped and on one line."""
    def text(value: str) -> str:
        return str(escape(" ".join(str(value).split())))

    marked = f' class="{PLACEHOLDER_CLASS}"' if figure.placeholder else ""
    mark = f" {PICTURE_MARK}" if figure.placeholder else ""
    return (f'<figure{marked}>\n<img src="{text(figure.src)}" alt="{text(figure.alt)}">\n'
            f"<figcaption>{text(figure.caption)}{mark}</figcaption>\n</figure>")


def anchor_html(anchor_id: str) -> str:
    """An empty anchor that a "#id" link lands on (the id as slug() makes it)."""
    if not re.fullmatch(r"[a-z0-9-]+", anchor_id):
        raise ValueError(f"{anchor_id!r} is no anchor id: make it with content.slug")
    return f'<a id="{anchor_id}"></a>'


def figure_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """A figure block, up to the blank line that ends it, as markdown-it's own html_block would take it."""
    if state.is_code_block(start) or not state.src.startswith("<figure", state.bMarks[start] + state.tShift[start]):
        return False
    after = start + 1
    while after < end and not state.isEmpty(after):
        after += 1
    content = state.getLines(start, after, state.blkIndent, True)
    if not FIGURE.fullmatch(content):
        return False
    if silent:  # like an HTML block, a figure may end a paragraph
        return True
    token = state.push("html_block", "", 0)
    token.map = [start, after]
    token.content = content
    state.line = after
    return True


def own_tag(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "<":
        return False
    match = INLINE.match(state.src, state.pos)
    if not match or match.end() > state.posMax:
        return False
    if not silent:
        state.push("html_inline", "", 0).content = match.group(0)
    state.pos = match.end()
    return True


def own_html_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before("html_block", "own_figure", figure_block, {"alt": ["paragraph", "reference", "blockquote"]})
    md.inline.ruler.before("html_inline", "own_tag", own_tag)


def raw_html(markdown: str) -> list[str]:
    """The raw HTML in a Markdown text (tags, comments; not code spans or autolinks), as CommonMark reads it."""
    found = []
    for token in MarkdownIt("commonmark", {"html": True}).enable("table").parse(markdown):
        found += [token.content] if token.type == "html_block" else []
        found += [child.content for child in token.children or [] if child.type == "html_inline"]
    return [tag.strip() for tag in found]
