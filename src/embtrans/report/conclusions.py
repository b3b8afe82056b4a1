"""The conclusion, generated from the analysis' tables: each sentence is computed, and says nothing it cannot show.

Comparative sentences come from tables/comparisons.csv: paired bootstraps over the same test items
and seeds. A sentence says "beats" only when the 95 % interval of the difference excludes zero, and
"no clear difference" otherwise; it says "across pairs" only when the hierarchical interval (pairs
resampled first) excludes zero too, and "on these pairs", with how many pairs agree, when only the
items of the pairs studied do. Every one quotes the effect with its interval(s). Translators are
ranked by their mean over seeds, never by one seed when several exist.
"""

from __future__ import annotations

import math

import pandas as pd

from embtrans.analysis.identifiers import CLOSED_FORM, TRAINED
from embtrans.metrics.registry import metric_of, ranking_metric, title_of
from embtrans.report.content import Markdown, counted
from embtrans.report.data_curve_section import data_curve_finding
from embtrans.report.markup import escape_markdown
from embtrans.report.sections import ReportSections
from embtrans.report.values import formatted_together

FAMILY_ORDER = ["learned vs closed form", "against procrustes", "against linear_retrieval", "closed form", "depth", "width",
                "direction"]


def conclusions(sections: ReportSections) -> dict:
    """The generated findings and caveats; ``tldr``, the few the first screen shows, each with its interval;
    ``written``, the study's own conclusion (report.conclusion), when it has one."""
    findings = [f for f in (best_overall(sections), *compared(sections), neighbourhoods(sections),
                            cka_significance(sections)) if f]
    written = Markdown(sections.report.conclusion) if sections.report.conclusion else None
    return {"findings": findings, "caveats": caveats(sections), "tldr": tldr(sections), "written": written}


def tldr(sections: ReportSections) -> list[Markdown]:
    """The headline findings, short: the best translator by absolute search quality, the learned-vs-closed and
    closed-form comparisons with their claims' scope, and what a half-migrated index and B's classifier make
    of the translations."""
    chosen = validated_choice(sections)
    found = [data_curve_finding(sections.report, sections.sources),
             chosen_scores(sections, chosen) if chosen else best_overall(sections, short=True)]
    table = sections.report.comparisons
    if not table.empty:
        overall = table[(table["scope"] == "all pairs") & ~table["directions"].astype(bool)]
        ranking = ranking_column(sections)
        for family in ("learned vs closed form", "closed form"):
            rows = overall[(overall["family"] == family) & (overall["metric"] == ranking)]
            found += [short_comparison(sections, row) for row in rows.to_dict("records")[:1]]
    found += [migration_finding(sections, chosen), stitching_finding(sections, chosen)]
    return [f for f in found if f]


def validated_choice(sections: ReportSections) -> list[str]:
    """The translators the first screen singles out: the learned-vs-closed comparison's two sides, each
    picked by its validation score where the runs have one (never by the test split the page reports);
    [] when the study has no such comparison."""
    table = sections.report.comparisons
    if table.empty:
        return []
    rows = table[table["family"] == "learned vs closed form"]
    return [rows["first"].iat[0], rows["second"].iat[0]] if len(rows) else []


def chosen_scores(sections: ReportSections, chosen: list[str]) -> Markdown | None:
    column = ranking_column(sections)
    if not column:
        return None
    scores = [f"**{escape_markdown(row['translator'])}** {sections.sources.aggregated(row, column)}"
              for row in measured(sections, chosen, column)]
    return Markdown(f"{averaged_over(sections)}, {title_of(column)} of the translators chosen on validation: "
                    f"{' and '.join(scores)}.")


def averaged_over(sections: ReportSections) -> str:
    seeds = f", each pair's score the mean over {sections.seeds} seeds" if sections.seeds > 1 else ""
    return f"Averaged over {counted(len(sections.pairs), 'pair')}{seeds}"


def short_comparison(sections: ReportSections, row: dict) -> Markdown:
    claim = pairwise_claim(row)
    scope = scope_of_claim(row) if row["verdict"] in ("better", "worse") else ""
    return Markdown(f"{claim} on {title_of(row['metric'])}{scope}: {effect_text(sections, row)}{how_chosen(row)}.")


def how_chosen(row: dict) -> str:
    """How a comparison's sides were picked among several, in brackets (" (linear: the trained translator with
    the highest validation nDCG; procrustes (closed form): the closed form with ...)"), or "" when neither was."""
    parts = []
    for side, what in (("first", "trained translator"), ("second", "closed form")):
        how = row.get(f"{side}_chosen_by")
        if isinstance(how, str) and how and not row.get("directions"):
            parts.append(f"{escape_markdown(row[side])}: the {what} with the {escape_markdown(how)}")
    return f" ({'; '.join(parts)})" if parts else ""


def measured(sections: ReportSections, chosen: list[str], column: str) -> list[dict]:
    """The aggregate rows of the chosen translators that have ``column`` measured."""
    aggregate = sections.report.aggregate
    if f"{column}_mean" not in aggregate:
        return []
    rows = aggregate.dropna(subset=[f"{column}_mean"])
    return [row for row in rows.to_dict("records") if row["translator"] in chosen]


def migration_finding(sections: ReportSections, chosen: list[str]) -> Markdown | None:
    """The chosen translators' half-migrated index against native B's search, with how much of its top k
    the translated half takes."""
    k = sections.retrieval_k
    column, share = f"mixed50_ndcg@{k}", f"mixed50_translated_share@{k}"
    rows = measured(sections, chosen, column) if k and share in sections.summary else []
    if not rows:
        return None
    native = sections.sources.mean(sections.pair_rows(), f"ndcg@{k}_native", anchor="sources")
    each = []
    for row in rows:
        taken = sections.sources.mean(sections.summary[sections.summary["translator"] == row["translator"]], share)
        each.append(f"with **{escape_markdown(row['translator'])}** nDCG@{k} "
                    f"{sections.sources.aggregated(row, column)}, translated passages {taken} of the top {k}")
    return Markdown(f"Half-migrated index (half the passages translated, half native B), against {native} for "
                    f"native B alone: {'; '.join(each)} (0.5 would mean they rank like native ones).")


def stitching_finding(sections: ReportSections, chosen: list[str]) -> Markdown | None:
    rows = measured(sections, chosen, "stitch_accuracy") if "stitch_accuracy_native" in sections.results else []
    if not rows:
        return None
    native = sections.sources.mean(sections.pair_rows(), "stitch_accuracy_native", anchor="sources")
    each = [f"**{escape_markdown(row['translator'])}**'s {sections.sources.aggregated(row, 'stitch_accuracy')}"
            for row in rows]
    return Markdown(f"Stitching: B's own classifier, {native} accurate on native B vectors, labels translations "
                    f"with accuracy {' and '.join(each)}.")


def ranking_column(sections: ReportSections) -> str | None:
    """The score translators are ranked by (the registry's rule), among the aggregate's measured columns."""
    aggregate = sections.report.aggregate
    return ranking_metric([c.removesuffix("_mean") for c in aggregate.columns
                           if c.endswith("_mean") and aggregate[c].notna().any()])


def best_overall(sections: ReportSections, short: bool = False) -> Markdown | None:
    column = ranking_column(sections)
    if not column:
        return None
    aggregate = sections.report.aggregate.dropna(subset=[f"{column}_mean"])
    best = aggregate.loc[aggregate[f"{column}_mean"].idxmax()]
    value = sections.sources.aggregated(best.to_dict(), column)
    text = (f"{averaged_over(sections)}, **{escape_markdown(best['translator'])}** has "
            f"the highest {title_of(column)}: {value}")
    others = aggregate[aggregate["kind"] != best["kind"]]
    if len(others):
        runner = others.loc[others[f"{column}_mean"].idxmax()]
        kind = "closed-form map" if runner["kind"] == CLOSED_FORM else "trained translator"
        text += (f"; the best {kind}, {escape_markdown(runner['translator'])}, reaches "
                 f"{sections.sources.aggregated(runner.to_dict(), column)}")
    if short:
        return Markdown(text + ".")
    return Markdown(text + " (mean ± standard deviation over pairs [95 % interval on these pairs]).")


def compared(sections: ReportSections) -> list[Markdown]:
    """One sentence per comparison the analysis tested: over all pairs, and each direction of a pair."""
    table = sections.report.comparisons
    if table.empty:
        return []
    rows = table[(table["scope"] == "all pairs") | table["directions"].astype(bool)]
    order = {family: i for i, family in enumerate(FAMILY_ORDER)}
    rows = rows.assign(order=rows["family"].map(lambda f: order.get(f, len(order)))).sort_values("order", kind="stable")
    return [comparison_sentence(sections, row) for row in rows.to_dict("records")]


def effect_text(sections: ReportSections, row: dict) -> str:
    """The effect with its interval, linked to the comparisons table."""
    style = "percent" if row["effect_kind"] == "relative change" else "signed"
    sides = ["effect", "low", "high"] + (["across_low", "across_high"] if pd.notna(row.get("across_low", math.nan))
                                         else [])
    # one precision for the effect and its bounds, fine enough that none reads as zero or as its neighbour
    texts = dict(zip(sides, formatted_together([float(row[side]) for side in sides], style)))
    effect = sections.sources.make(row["effect"], style, comparisons_file(sections), row["method"], text=texts["effect"])
    low, high = (sections.sources.make(row[side], style, text=texts[side]) for side in ("low", "high"))
    what = "relative change" if row["effect_kind"] == "relative change" else "difference"
    text = f"{what} {effect} (95 % interval on these pairs {low} to {high}"
    if "across_low" in texts:
        across_low, across_high = (sections.sources.make(row[side], style, text=texts[side])
                                   for side in ("across_low", "across_high"))
        text += f"; across pairs {across_low} to {across_high}"
    return text + ")"


def comparisons_file(sections: ReportSections):
    folder = sections.report.analysis_dir
    return None if folder is None or sections.report.placeholder else folder / "tables" / "comparisons.csv"


def support(row: dict) -> str:
    """What the interval rests on, and how many pairs agree."""
    seeds = f" and {int(row['seeds'])} seeds" if int(row["seeds"]) > 1 else ""
    text = f"paired bootstrap over the same test items{seeds}"
    # Compared at the seeds both sides have (a run missing on one side): say which, and where the rest is listed.
    if isinstance(row.get("seeds_left_out"), str) and row["seeds_left_out"]:
        text += (f", at seed {escape_markdown(row['seed_list'])} only, those both were run at "
                 "(section 1 lists what was left out)")
    pairs = int(row["pairs"])
    if pairs > 1 and not row["directions"]:
        text += f"; better in {int(row['pairs_first_better'])} of {pairs} pairs"
        if pd.notna(row.get("sign_p_value", math.nan)):
            text += f" (sign test over pairs p = {float(row['sign_p_value']):.2f})"
    return text


def scope_of_claim(row: dict) -> str:
    """" across pairs" when the hierarchical interval excludes zero; else " on these pairs" (the tables'
    claim column says how many pairs agree). One pair: nothing to add."""
    if int(row["pairs"]) < 2:
        return ""
    if str(row.get("claim", "")).endswith("across pairs"):
        return ", across pairs"
    return ", on these pairs (not across pairs)"


def pairwise_claim(row: dict) -> str:
    """"**a** beats **b**", "**a** does worse than **b**" or "No clear difference between **a** and **b**"."""
    # Labels come from the sweep's configs (a swept value is part of a label): text only.
    first, second = (f"**{escape_markdown(row[side])}**" for side in ("first", "second"))
    verb = {"better": "beats", "worse": "does worse than"}.get(row["verdict"])
    return f"{first} {verb} {second}" if verb else f"No clear difference between {first} and {second}"


def comparison_sentence(sections: ReportSections, row: dict) -> Markdown:
    # Labels and pair titles come from the sweep's configs (a swept value is part of a label): text only.
    first, second = (f"**{escape_markdown(row[side])}**" for side in ("first", "second"))
    verdict = row["verdict"]
    if row["directions"]:
        forward, backward = (escape_markdown(pair) for pair in row["scope"].split(" vs "))
        subject = f"For {first}, {forward} against {backward}"
        if verdict == "no clear difference":
            claim = f"{subject}: no clear difference between the two directions"
        else:
            easier, harder = (forward, backward) if verdict == "better" else (backward, forward)
            claim = f"{subject}: {easier} is the easier direction (than {harder})"
    else:
        claim = pairwise_claim(row)
    lower_better = metric_of(row["metric"]) is not None and not metric_of(row["metric"]).higher_is_better
    direction = " (lower is better)" if lower_better else ""
    scope = scope_of_claim(row) if verdict in ("better", "worse") and not row["directions"] else ""
    confounded = (f" Read with care: it {escape_markdown(row['confound'])}." if isinstance(row.get("confound"), str)
                  and row["confound"] else "")
    return Markdown(f"{claim} on {title_of(row['metric'])}{direction}{scope}: {effect_text(sections, row)}; "
                    f"{support(row)}{how_chosen(row)}.{confounded}")


def neighbourhoods(sections: ReportSections) -> Markdown | None:
    k = sections.knn_k
    column, reference = f"jaccard@{k}", f"untranslated_jaccard@{k}"
    aggregate = sections.report.aggregate
    if not k or reference not in sections.results or f"{column}_mean" not in aggregate:
        return None
    ranked = aggregate.dropna(subset=[f"{column}_mean"])
    if ranked.empty:
        return None
    best = ranked.loc[ranked[f"{column}_mean"].idxmax()]
    first_rows = sections.pair_rows()
    raw_mean = first_rows[reference].mean()
    raw = sections.sources.mean(first_rows, reference, anchor="sources")
    chance = sections.sources.mean(first_rows, f"untranslated_chance_jaccard@{k}", anchor="sources")
    low, high = best.get(f"{column}_low", math.nan), best.get(f"{column}_high", math.nan)
    if pd.notna(low) and low > raw_mean:
        relation = "clearly above"
    elif pd.notna(high) and high < raw_mean:
        relation = "clearly below"
    else:
        relation = "not clearly different from"
    label = escape_markdown(best["translator"])
    return Markdown(f"Neighbourhoods: for the best translator by Jaccard@{k} ({label}), each text's "
                    f"{k} nearest neighbours and its native B ones have a Jaccard index (shared over either) of "
                    f"{sections.sources.aggregated(best.to_dict(), column)}, {relation} raw A's {raw} "
                    f"(chance: {chance}).")


def cka_significance(sections: ReportSections) -> Markdown | None:
    results = sections.results
    if "cka_linear" not in results or "cka_linear_null_p95" not in results:
        return None
    rows = results[results["cka_linear"].notna()]
    if rows.empty:
        return None
    above = int((rows["cka_linear"] > rows["cka_linear_null_p95"]).sum())
    first_rows = sections.pair_rows()
    raw = sections.sources.mean(first_rows, "untranslated_cka_linear", anchor="sources")
    translated = sections.sources.mean(rows.assign(translator="all"), "cka_linear", anchor="sources")
    return Markdown(f"Kernel matrices: {above} of {len(rows)} translated spaces (runs) have a linear CKA with native B "
                    f"above the 95th percentile of their permutation null; the mean linear CKA is {translated} "
                    f"after translation against {raw} between raw A and B.")


def caveats(sections: ReportSections) -> list[Markdown]:
    report, found = sections.report, []
    trained = sections.results[sections.results["kind"] == TRAINED]
    seeds = sorted({int(s) for s in trained["seed"].dropna()}) if "seed" in trained else []
    if len(trained) and sections.summary[sections.summary["kind"] == TRAINED]["seeds"].max() == 1:
        found.append(Markdown(f"Each setting was trained once (seed{'s' if len(seeds) > 1 else ''} "
                              f"{', '.join(str(s) for s in seeds)}): the intervals cover which test texts were "
                              "drawn, not run-to-run variation; run the study preset (+sweep=study) for several seeds."))
    elif len(trained):
        found.append(Markdown(f"Trained translators were run at seeds {', '.join(str(s) for s in seeds)}: every number "
                              "is the mean over seeds, ± their standard deviation; worked examples and pictures show "
                              "one seed's run (named in their titles)."))
    epochs = [facts.epochs for facts in report.runs.values() if facts.epochs is not None]
    if epochs and report.protocol.max_epochs and max(epochs) >= report.protocol.max_epochs:
        stopped = sum(e >= report.protocol.max_epochs for e in epochs)
        found.append(Markdown(f"{stopped} of {counted(len(epochs), 'run')} reached the epoch limit "
                              f"({report.protocol.max_epochs}) before early stopping: they may be undertrained."))
    budget = [facts for facts in report.runs.values() if facts.stopped_by == "time budget"]
    if budget:
        found.append(Markdown(f"{len(budget)} of {counted(len(report.runs), 'run')} were stopped by their time budget "
                              "(trainer.max_time) before early stopping: not converged, so they understate what "
                              "their translator can do."))
    if report.left_out:
        found.append(Markdown(f"{counted(len(report.left_out), 'job')} of the sweep failed or did not finish and are not "
                              "in any number here (listed in the appendix)."))
    return found
