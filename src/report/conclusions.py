"""The conclusion, generated from the numbers: each sentence is computed, and says nothing it cannot show.

A finding is made only when its inputs exist (two widths of an arch, both directions of a pair,
retrieval scores...), and its wording follows the sign and size of the numbers it quotes.
"""

from __future__ import annotations

import pandas as pd

from src.report.content import Markdown, source_anchor
from src.report.sections import ReportSections
from src.analysis.tables import with_mse_ratio

# A mean relative change in test MSE smaller than this is called "no clear effect".
CLEAR_CHANGE = 0.02


def conclusions(sections: ReportSections) -> dict[str, list[Markdown]]:
    findings = [f for f in (best_overall(sections), learned_vs_closed_form(sections), *width_effects(sections),
                            depth_effect(sections), *directions(sections), neighbourhoods(sections),
                            cka_significance(sections)) if f]
    return {"findings": findings, "caveats": caveats(sections)}


def gap_metric(sections: ReportSections) -> tuple[str, str] | None:
    """The scale-free score the comparisons rank by: retrieval gap closed when measured, else top-1 matching."""
    if sections.retrieval_k and f"ndcg@{sections.retrieval_k}_gap_closed" in sections.results:
        return f"ndcg@{sections.retrieval_k}_gap_closed", f"share of the nDCG@{sections.retrieval_k} gap closed"
    if "top1_accuracy" in sections.results:
        return "top1_accuracy", "top-1 matching accuracy"
    return None


def translator_means(sections: ReportSections, metric: str) -> pd.Series:
    return sections.results.groupby("translator", sort=False)[metric].mean().dropna()


def best_overall(sections: ReportSections) -> Markdown | None:
    found = gap_metric(sections)
    if not found:
        return None
    metric, name = found
    means = translator_means(sections, metric)
    if means.empty:
        return None
    best = means.idxmax()
    value = sections.sources.mean(sections.rows_of(best), metric)
    closed = [t for t in means.index if "(closed form)" in t]
    text = f"Averaged over {len(sections.pairs)} pair(s), **{best}** has the highest {name}: {value}"
    if closed and best not in closed:
        reference = max(closed, key=lambda t: means[t])
        text += f", against {sections.sources.mean(sections.rows_of(reference), metric)} for {reference}"
    elif closed:
        trained = [t for t in means.index if t not in closed]
        if trained:
            runner = max(trained, key=lambda t: means[t])
            text += (f"; no trained translator beats it (the best, {runner}, reaches "
                     f"{sections.sources.mean(sections.rows_of(runner), metric)})")
    return Markdown(text + ".")


def learned_vs_closed_form(sections: ReportSections) -> Markdown | None:
    results = with_mse_ratio(sections.results)
    trained = results[results["kind"] == "trained"]
    means = trained.groupby("translator", sort=False)["mse_vs_lstsq"].mean().dropna()
    if means.empty:
        return None
    best = means.idxmin()
    ratio = sections.sources.mean(trained[trained["translator"] == best], "mse_vs_lstsq", "ratio")
    if means[best] < 1 - CLEAR_CHANGE:
        verdict = "below"
    elif means[best] > 1 + CLEAR_CHANGE:
        verdict = "above"
    else:
        verdict = "level with"
    return Markdown(f"The lowest test MSE among trained translators is **{best}**'s, at {ratio} the least-squares "
                    f"map's on average: {verdict} the closed-form solution fitted on the same training pairs.")


def relative_change(sections: ReportSections, translator_from: str, translator_to: str) -> pd.DataFrame:
    """Per pair: test MSE of ``translator_to`` relative to ``translator_from`` (negative: lower error)."""
    results = sections.results
    low = results[results["translator"] == translator_from].set_index(["dataset", "pair"])["test_mse"]
    high = results[results["translator"] == translator_to].set_index(["dataset", "pair"])["test_mse"]
    both = low.index.intersection(high.index)
    return pd.DataFrame({"change": high[both] / low[both] - 1}).reset_index()


def verdict(changes: pd.Series, unit: str = "pair(s)") -> str:
    improved, n = int((changes < 0).sum()), len(changes)
    mean = changes.mean()
    if mean < -CLEAR_CHANGE and improved > n / 2:
        return f"it pays: lower error in {improved} of {n} {unit}"
    if mean > CLEAR_CHANGE and improved < n / 2:
        return f"it does not pay: higher error in {n - improved} of {n} {unit}"
    return f"no clear effect (lower error in {improved} of {n} {unit}; we call a mean change under {CLEAR_CHANGE:.0%} none)"


def change_value(sections: ReportSections, changes: pd.DataFrame, translator: str):
    frame = changes.assign(translator=translator)
    return sections.sources.mean(frame, "change", "percent", anchor=source_anchor(translator))


def width_effects(sections: ReportSections) -> list[Markdown]:
    trained = sections.results[(sections.results["kind"] == "trained") & sections.results["width"].notna()]
    found = []
    for arch, rows in trained.groupby("arch", sort=False):
        widths = sorted(pd.to_numeric(rows["width"]).unique())
        if len(widths) < 2:
            continue
        narrow, wide = (rows[rows["width"] == w]["translator"].iloc[0] for w in (widths[0], widths[-1]))
        changes = relative_change(sections, narrow, wide)
        if changes.empty:
            continue
        found.append(Markdown(
            f"Widening {arch}'s hidden layers from ×{widths[0]:g} to ×{widths[-1]:g} the full rank changes test MSE "
            f"by {change_value(sections, changes, wide)} on average; {verdict(changes['change'])}."))
    return found


def depth_effect(sections: ReportSections) -> Markdown | None:
    labels = set(sections.translators)
    pairs = [(t, t.replace("mlp1", "mlp2", 1)) for t in sections.translators
             if t.startswith("mlp1") and t.replace("mlp1", "mlp2", 1) in labels]
    if not pairs:
        return None
    changes = pd.concat([relative_change(sections, one, two) for one, two in pairs], ignore_index=True)
    if changes.empty:
        return None
    return Markdown(f"A second hidden layer (mlp2 against mlp1 at the same width, {len(changes)} comparisons) "
                    f"changes test MSE by {change_value(sections, changes, pairs[0][1])} on average; "
                    f"{verdict(changes['change'], 'comparisons')}.")


def directions(sections: ReportSections) -> list[Markdown]:
    """For pairs measured both ways: which direction the best translator handles better."""
    found_metric = gap_metric(sections)
    if not found_metric:
        return []
    metric, name = found_metric
    found, done = [], set()
    for dataset, pair in sections.pairs:
        model_a, model_b = pair.split("-to-")
        back = f"{model_b}-to-{model_a}"
        if (dataset, back) not in sections.pairs or (dataset, back) in done:
            continue
        done.add((dataset, pair))
        best = {}
        for p in (pair, back):
            rows = sections.results[(sections.results["dataset"] == dataset) & (sections.results["pair"] == p)
                                    & sections.results[metric].notna()]
            if rows.empty:
                break
            best[p] = rows.loc[rows[metric].idxmax()]
        if len(best) < 2:
            continue
        forward, backward = (sections.sources.value(best[p], metric) for p in (pair, back))
        difference = best[pair][metric] - best[back][metric]
        if abs(difference) < CLEAR_CHANGE:
            lead = f"{model_a} ↔ {model_b} is about as hard both ways"
        elif difference > 0:
            lead = f"{model_a} → {model_b} is the easier direction"
        else:
            lead = f"{model_b} → {model_a} is the easier direction"
        found.append(Markdown(
            f"{lead}: the best translator's {name} is {forward} for {model_a} → {model_b} "
            f"({best[pair]['translator']}) and {backward} for {model_b} → {model_a} ({best[back]['translator']})."))
    return found


def neighbourhoods(sections: ReportSections) -> Markdown | None:
    k = sections.knn_k
    metric, reference = f"jaccard@{k}", f"untranslated_jaccard@{k}"
    if not k or reference not in sections.results:
        return None
    means = translator_means(sections, metric)
    if means.empty:
        return None
    best = means.idxmax()
    first_rows = sections.pair_rows()
    raw = sections.sources.mean(first_rows, reference, anchor="sources")
    chance = sections.sources.mean(first_rows, f"untranslated_chance_jaccard@{k}", anchor="sources")
    translated = sections.sources.mean(sections.rows_of(best), metric)
    relation = ("above" if means[best] > first_rows[reference].mean() + CLEAR_CHANGE else
                "below" if means[best] < first_rows[reference].mean() - CLEAR_CHANGE else "about level with")
    return Markdown(f"Neighbourhoods: the best translator for Jaccard@{k} ({best}) shares {translated} of each "
                    f"text's {k} nearest neighbours with native B, {relation} the {raw} that raw A already shares "
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
    return Markdown(f"Kernel matrices: {above} of {len(rows)} translated spaces have a linear CKA with native B "
                    f"above the 95th percentile of their permutation null; the mean linear CKA is {translated} "
                    f"after translation against {raw} between raw A and B.")


def caveats(sections: ReportSections) -> list[Markdown]:
    report, found = sections.report, []
    seeds = {facts.seed for facts in report.runs.values()}
    trained = sections.results[sections.results["kind"] == "trained"]
    per_setting = trained.groupby(["dataset", "pair", "arch", "width"], dropna=False).size()
    if len(per_setting) and per_setting.max() == 1:
        found.append(Markdown(f"Each setting was trained once (seed{'s' if len(seeds) > 1 else ''} "
                              f"{', '.join(str(s) for s in sorted(seeds, key=str))}): differences smaller than "
                              "run-to-run variation cannot be told apart here."))
    epochs = [facts.epochs for facts in report.runs.values() if facts.epochs is not None]
    if epochs and report.protocol.max_epochs and max(epochs) >= report.protocol.max_epochs:
        stopped = sum(e >= report.protocol.max_epochs for e in epochs)
        found.append(Markdown(f"{stopped} of {len(epochs)} run(s) reached the epoch limit "
                              f"({report.protocol.max_epochs}) before early stopping: they may be undertrained."))
    if report.left_out:
        found.append(Markdown(f"{len(report.left_out)} job(s) of the sweep failed or did not finish and are not "
                              "in any number here (listed in the appendix)."))
    return found
