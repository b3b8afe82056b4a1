"""A number in the report: its formatted text, the run it came from, and whether it is a placeholder.

Every number reaches the templates as a ``Value``, so none can be printed without its source link
or, in placeholder mode, without its visible mark.
"""

from __future__ import annotations

import html
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from embtrans.report.markup import escape_markdown
from embtrans.report.trusted_html import PLACEHOLDER_MARK


@dataclass(frozen=True)
class Value:
    number: float | None
    text: str
    href: str | None = None
    title: str = ""
    placeholder: bool = False

    def __str__(self) -> str:
        """The Markdown of this number: a link to its source, or a marked placeholder."""
        if self.placeholder:
            return f"{PLACEHOLDER_MARK}{escape_markdown(self.text)}</mark>"
        if self.href is None:
            return escape_markdown(self.text)
        # The title names labels and pairs: no quote or backslash to end it early, no tag should a renderer
        # ever read it as text, no "](" for publish.py to take for a link (entities and \] read as they show).
        title = html.escape(" ".join(self.title.replace('"', "'").replace("\\", "/").split()), quote=False)
        title = re.sub(r"([\[\]])", r"\\\1", title)
        return f'[{escape_markdown(self.text)}]({self.href} "{title}")'

    def __lt__(self, other: Value) -> bool:
        return (self.number if self.number is not None else math.inf) < (
            other.number if other.number is not None else math.inf)


# How each style of number reads: fractions to 3 decimals, MSE in scientific notation, counts with separators.
FORMATS = {"fraction": "{:.3f}", "mse": "{:.3e}", "count": "{:,.0f}", "rank": "{:.1f}", "signed": "{:+.3f}",
           "percent": "{:+.1%}", "ratio": "{:.2f}×", "statistic": "{:.2f}"}


def formatted(number, style: str = "fraction") -> str:
    """A number in its style (FORMATS); p-values below 0.001 as "< 0.001"; "n/a" for a missing one."""
    if number is None or (isinstance(number, float) and not math.isfinite(number)):
        return "n/a"
    number = float(number)
    if style == "p_value":
        return "< 0.001" if number < 0.001 else f"{number:.3f}"
    return FORMATS.get(style, FORMATS["fraction"]).format(number)


def formatted_together(numbers: list[float], style: str) -> list[str]:
    """Numbers read side by side (an effect and its interval's bounds) in one precision: the style's own, or
    up to two places more where it would print a non-zero bound as zero ("-0.000") or two different
    numbers alike ("-0.1% to -0.1%")."""
    patterns = {"signed": "{:+.%df}", "percent": "{:+.%d%%}"}
    if style not in patterns:
        return [formatted(n, style) for n in numbers]
    base = 3 if style == "signed" else 1
    for places in range(base, base + 3):
        texts = [formatted(n, style) if n is None or not math.isfinite(n) else (patterns[style] % places).format(n)
                 for n in numbers]
        shown_zero = any(n and math.isfinite(n) and not any(c in "123456789" for c in t) for n, t in zip(numbers, texts))
        if not shown_zero and len(set(texts)) == len(set(numbers)):
            break
    return texts


def relative_href(target: Path, report_dir: Path) -> str:
    """A link that works when index.html is opened from disk: relative to the report, URL-quoted."""
    return quote(Path(os.path.relpath(Path(target).resolve(), Path(report_dir).resolve())).as_posix())


class ValueMaker:
    """Makes Values for one report: real ones link to their source, placeholder ones are marked."""

    def __init__(self, report_dir: Path, placeholder: bool):
        self.report_dir = Path(report_dir)
        self.placeholder = placeholder

    def __call__(self, number, style: str = "fraction", source: Path | str | None = None, title: str = "",
                 text: str | None = None) -> Value:
        """``text``: what the number reads as, when more than the number itself (mean ± std [interval])."""
        number = None if number is None or (isinstance(number, float) and math.isnan(number)) else float(number)
        text = formatted(number, style) if text is None else text
        if self.placeholder:
            return Value(number, text, placeholder=True)
        if isinstance(source, Path):
            source = relative_href(source, self.report_dir)
        return Value(number, text, source, title)
