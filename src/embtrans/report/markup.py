"""How any text that the report did not write itself enters its Markdown: as text, never as markup.

Labels carry swept config values, model and dataset names come from configs, paths from the command
line, example texts from the dataset: any of them may hold "<img ...>", "|", "](" or backticks.
Every one goes through escape_markdown (shown as written, in prose and table cells alike) or
code_span (a command or a path, shown verbatim as inline code).
"""

from __future__ import annotations

import html
import numbers
import re

# Escaped wherever they stand: what starts code, emphasis, a link, a table cell, a strikethrough or
# (for a blog engine such as kramdown) an attribute list. "<", ">" and "&" become entities first.
INLINE_SPECIALS = re.compile(r"([\\`*_\[\]{}|~])")
# Escaped where the text starts, the one place it could open a block (a heading, a list item, a rule) or
# extend a link of the Markdown just before it: "(" right after "]". Further in, "-" or "(" is only text
# (every "[" and "]" of the text itself is escaped), so a label such as "lstsq (closed form)" stays as written.
LEADING = re.compile(r"^(?:[#+=(-]|\d{1,9}(?=[.)](?:\s|$)))")  # "1. " opens an ordered list, "0.5" nothing


def escape_markdown(text) -> str:
    """Plain text for Markdown and HTML alike: no tag, entity or Markdown syntax survives, in prose or in a
    table cell (and no line break, which could end the paragraph or table row it stands in)."""
    text = INLINE_SPECIALS.sub(r"\\\1", html.escape(" ".join(str(text).split()), quote=False))
    return LEADING.sub(lambda m: m[0] + "\\" if m[0][0].isdigit() else "\\" + m[0], text, count=1)


def markdown_text(value) -> str:
    """A template's value as Markdown text: a number as it prints (no markup can hide in it, and
    "1e-05" needs no backslash), anything else escaped."""
    if isinstance(value, numbers.Number):
        return str(value)
    return escape_markdown(value)


def code_span(text) -> str:
    """``text`` verbatim as inline code: fenced by more backticks than any run inside it, padded where
    it starts or ends with a backtick or a space (CommonMark strips one space each side), and on one
    line, since a blank line would end the span's paragraph and let the rest be read as Markdown."""
    text = re.sub(r"\r\n?|\n", " ", str(text))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ") and text.strip()):
        text = f" {text} "
    return f"{fence}{text}{fence}"
