"""The report's building blocks: tables of linked values, figures copied beside the report, and sources.

Sources decide where each number links: a trained translator's run directory, the analysis' cached
scores for a closed-form map or a before-translation reference, or the appendix row listing every
run a mean was taken over.
"""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from embtrans.analysis.identifiers import file_name
from embtrans.report.inputs import ReportInput
from embtrans.report.markup import escape_markdown
from embtrans.report.values import Value, ValueMaker, formatted, relative_href


class Markdown(str):
    """Text that is already Markdown (links, anchors, marked placeholders): rendered as it is."""


@dataclass
class Table:
    header: list[str]
    rows: list[list]  # each cell: a str (escaped when rendered), a Value, or a tuple of Values
    caption: str = ""


@dataclass
class Figure:
    src: str  # relative to the report
    alt: str
    caption: str
    placeholder: bool = False


@dataclass
class Section:
    id: str
    title: str
    figures: list[Figure] = field(default_factory=list)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


class Sources:
    """Where each number of one report links, and the Values that carry those links."""

    def __init__(self, report: ReportInput, report_dir: Path):
        self.report = report
        self.report_dir = Path(report_dir)
        self.make = ValueMaker(report_dir, report.placeholder)

    def of_row(self, row) -> Path | None:
        if self.report.placeholder:
            return None
        if row["kind"] == "trained" and row.get("run_dir"):
            return Path(row["run_dir"])
        return self.cache_file(row["dataset"], row["pair"], file_name(row.get("run_label") or row["translator"]))

    def cache_file(self, dataset: str, pair: str, name: str) -> Path | None:
        if self.report.analysis_dir is None:
            return None
        return self.report.analysis_dir / "cache" / dataset / pair / f"{name}.json"

    def value(self, row, metric: str, style: str = "fraction") -> Value:
        """One translator's score on one pair, linked to the run (or fit) that produced it."""
        where = "its run" if row["kind"] == "trained" else "fitted during analysis"
        return self.make(row.get(metric), style, self.of_row(row), f"{row['translator']}, {row['pair']}: {metric} ({where})")

    def reference(self, row, metric: str, style: str = "fraction") -> Value:
        """A before-translation score of a pair (untranslated A, mean vector, native search)."""
        source = None if self.report.placeholder else self.cache_file(row["dataset"], row["pair"], "untranslated")
        return self.make(row.get(metric), style, source, f"{row['pair']}: {metric} before translation")

    def mean(self, rows: pd.DataFrame, metric: str, style: str = "fraction", anchor: str | None = None) -> Value:
        """A mean over pairs, linked to the appendix rows that list every run it was taken over."""
        values = pd.to_numeric(rows[metric], errors="coerce") if metric in rows else pd.Series(dtype=float)
        anchor = anchor or source_anchor(str(rows["translator"].iloc[0]))
        return self.make(values.mean() if values.notna().any() else None, style, f"#{anchor}",
                         f"mean over {counted(int(values.notna().sum()), 'pair')}; the appendix lists each run")

    def spread(self, rows: pd.DataFrame, metric: str, style: str = "fraction",
               anchor: str | None = None) -> tuple[Value, Value] | Value:
        """Mean ± standard deviation over pairs (the mean alone for one pair)."""
        mean = self.mean(rows, metric, style, anchor)
        values = pd.to_numeric(rows[metric], errors="coerce").dropna() if metric in rows else pd.Series(dtype=float)
        if len(values) < 2:
            return mean
        std = self.make(values.std(), style, mean.href, f"standard deviation over {len(values)} pairs")
        return (mean, std)

    def summarised(self, row, metric: str, style: str = "fraction") -> Value:
        """One translator on one pair over its seeds: mean (± std over seeds) [95 % interval], linked to its
        run when it is one run, else to the appendix rows of its runs."""
        seeds = int(row.get("seeds") or 1)
        low = row.get(f"{metric}_boot_low", row.get(f"{metric}_seed_low"))
        high = row.get(f"{metric}_boot_high", row.get(f"{metric}_seed_high"))
        text = with_interval(row.get(metric), row.get(f"{metric}_std") if seeds > 1 else None, low, high, style)
        if seeds > 1:
            source, where = f"#{source_anchor(row['translator'])}", f"mean over {seeds} seeds; the appendix lists each run"
        else:
            runs = self.report.results
            run = runs[(runs["dataset"] == row["dataset"]) & (runs["pair"] == row["pair"])
                       & (runs["translator"] == row["translator"])]
            source = self.of_row(run.iloc[0]) if len(run) else None
            where = "its run" if row["kind"] == "trained" else "fitted during analysis"
        interval = ("95 % bootstrap interval over test items" if f"{metric}_boot_low" in row
                    else "95 % t interval over seeds")
        return self.make(row.get(metric), style, source,
                         f"{row['translator']}, {row['pair']}: {metric} ({where}); in brackets the {interval}", text)

    def aggregated(self, row: dict, column: str, style: str = "fraction") -> Value:
        """A translator over every pair (tables/aggregate.csv): mean ± std over pairs [95 % interval of the mean]."""
        text = with_interval(row.get(f"{column}_mean"), row.get(f"{column}_std"), row.get(f"{column}_low"),
                             row.get(f"{column}_high"), style)
        source = self.report.analysis_dir / "tables" / "aggregate.csv" if self.report.analysis_dir else None
        return self.make(row.get(f"{column}_mean"), style, None if self.report.placeholder else source,
                         f"{row['translator']}: {column} over {counted(int(row['pairs']), 'pair')} (tables/aggregate.csv)", text)

    def link(self, text: str, target: Path) -> Markdown:
        return Markdown(f"[{escape_markdown(text)}]({relative_href(target, self.report_dir)})")

    def figure(self, path: Path, alt: str, caption: str) -> Figure:
        """Copy a PNG beside the report (so the report folder stands alone) and describe it."""
        path = Path(path)
        root = self.report.analysis_dir / "figures" if self.report.analysis_dir else path.parent
        relative = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
        target = self.report_dir / "figures" / relative
        copy_if_changed(path, target)
        return Figure(relative_href(target, self.report_dir), alt, caption, self.report.placeholder)

    def text(self, text: str) -> Markdown:
        """A dataset text or label as Markdown; in placeholder mode visibly marked."""
        if self.report.placeholder:
            return Markdown(Value(None, str(text), placeholder=True))
        return Markdown(escape_markdown(text))


def finite(number) -> bool:
    return number is not None and not (isinstance(number, float) and math.isnan(number)) and not pd.isna(number)


def with_interval(mean, std, low, high, style: str) -> str:
    """mean ± std [low, high], each part only when it is a number."""
    text = formatted(mean, style)
    if finite(mean) and finite(std):
        text += f" ± {formatted(std, style)}"
    if finite(mean) and finite(low) and finite(high):
        text += f" [{formatted(low, style)}, {formatted(high, style)}]"
    return text


def source_anchor(translator: str) -> str:
    return f"source-{slug(translator)}"


def copy_if_changed(source: Path, target: Path) -> None:
    if target.exists() and target.read_bytes() == source.read_bytes():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def counted(n: int, word: str, plural: str | None = None) -> str:
    """'1 pair', '6 pairs': a count with its noun in the right number."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"
