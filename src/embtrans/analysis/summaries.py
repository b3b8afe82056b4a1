"""From one row per run to what a reviewer reads: each translator over its seeds with intervals, each
translator over pairs, and the paired comparisons the report's conclusion states.

Runs that differ only by seed are one translator (their ``translator`` label is the same; ``seed``
tells them apart). For every metric of the registry it gives the mean over seeds, their standard
deviation and a t interval over seeds; metrics that are means over test texts or queries also get
a bootstrap interval over those items (seeds averaged), and comparisons are paired bootstraps over
the same items and seeds (src/embtrans/stats/intervals.py). Translators with different seeds (a run interrupted,
damaged or deleted) are compared at the seeds both have, matched by value (src/embtrans/analysis/seeds.py), and
what that leaves out is listed (seeds_left_out_table).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd

from embtrans.analysis.identifiers import CLOSED_FORM, TRAINED, PairId, TranslatorId
from embtrans.analysis.seeds import SeedMatch, Seeds, ordered
from embtrans.metrics.registry import Metric, aggregated, metric_of, present, ranking_metric
from embtrans.stats.intervals import Interval, bootstrap, bootstrap_both, compare, seed_interval, seed_std

ID = ["dataset", "pair", "model_a", "model_b", "translator", "arch", "width", "hidden", "parameters", "kind"]
LSTSQ = TranslatorId("lstsq", kind=CLOSED_FORM).label


@dataclass
class Items:
    """Per-item scores: per (pair, run) of a translator, and per pair before translation (untranslated
    A, native B's and the floor's per-query search scores). Arrays of one pair share their items."""

    translators: dict[tuple[PairId, TranslatorId], dict[str, np.ndarray]] = field(default_factory=dict)
    references: dict[PairId, dict[str, np.ndarray]] = field(default_factory=dict)
    # Per pair, the cluster of each scored query (its relevant passage): queries about one passage are not
    # independent, so the bootstrap draws them together. Texts are drawn one by one.
    query_clusters: dict[PairId, np.ndarray] = field(default_factory=dict)

    def clusters_of(self, metric: Metric, pids: list[PairId]) -> list[np.ndarray | None] | None:
        """The cluster labels of each pair's items for a metric's bootstrap; None when items are independent."""
        if metric.items != "queries":
            return None
        return [self.query_clusters.get(pid) for pid in pids]

    def runs_of(self, pid: PairId, label: str) -> dict[int | None, dict[str, np.ndarray]]:
        """One translator's runs on one pair, by seed (None: a closed-form fit's one run)."""
        return {tid.seed: arrays for (p, tid), arrays in self.translators.items() if p == pid and tid.label == label}

    def seeds_of(self, pid: PairId, label: str) -> Seeds:
        return ordered(self.runs_of(pid, label))

    def stacked(self, pid: PairId, label: str, name: str, seeds: Seeds | None = None) -> np.ndarray | None:
        """(n_seeds, n_items) of one translator's per-item values: row i is seeds[i] (default: every seed it
        has, ascending). None when a run at one of those seeds is missing or lacks the values."""
        runs = self.runs_of(pid, label)
        seeds = ordered(runs) if seeds is None else seeds
        rows = [runs[seed][name] for seed in seeds if name in runs.get(seed, {})]
        if not rows or len(rows) < len(seeds) or len({len(row) for row in rows}) > 1:
            return None
        return np.vstack(rows)


@dataclass(frozen=True)
class Settings:
    replicates: int = 1000
    seed: int = 0
    level: float = 0.95


# -- what each metric is made of ------------------------------------------------------------------------------------

def metric_inputs(metric: Metric, column: str, items: Items, pid: PairId, label: str,
                  prefix: str = "", seeds: Seeds | None = None) -> dict[str, np.ndarray] | None:
    """The per-item arrays one translator's metric is computed from, named prefix + role; its own rows at
    ``seeds`` (default: all its seeds). The references and least squares have one row: the same for every seed."""
    k = metric.k_of(column)
    base = metric.at(k, metric.base) if metric.base else column
    own = items.stacked(pid, label, base, seeds)
    if own is None:
        return None
    arrays = {prefix + "x": own}
    reference = items.references.get(pid, {})
    if metric.statistic in ("retention", "gap_closed"):
        for role in ("native", "floor") if metric.statistic == "gap_closed" else ("native",):
            if f"{base}_{role}" not in reference:
                return None
            arrays[prefix + role] = np.asarray(reference[f"{base}_{role}"])
    elif metric.statistic == "vs_lstsq":
        lstsq = items.stacked(pid, LSTSQ, base)
        if lstsq is None:
            return None
        arrays[prefix + "lstsq"] = lstsq
    return arrays


def statistic_of(metric: Metric, prefix: str = "") -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """The metric from its arrays' (per-replicate) means."""
    x = prefix + "x"
    if metric.statistic == "retention":
        return lambda m: m[x] / m[prefix + "native"]
    if metric.statistic == "gap_closed":
        return lambda m: (m[x] - m[prefix + "floor"]) / (m[prefix + "native"] - m[prefix + "floor"])
    if metric.statistic == "vs_lstsq":
        return lambda m: m[x] / m[prefix + "lstsq"]
    return lambda m: m[x]


# -- one translator on one pair, over its seeds ----------------------------------------------------------------------

def translator_table(results: pd.DataFrame, items: Items, settings: Settings = Settings()) -> pd.DataFrame:
    """One row per (pair, translator): for each metric its mean over seeds, std, t interval over seeds
    (_seed_low/_seed_high), and for per-item metrics the bootstrap interval over test items (_boot_low/_boot_high)."""
    metrics = present(results.columns)
    rows = []
    for _, runs in results.groupby(["dataset", "pair", "translator"], sort=False):
        first = runs.iloc[0]
        pid = PairId(first["dataset"], first["model_a"], first["model_b"])
        seeds = sorted(int(s) for s in runs["seed"].dropna()) if "seed" in runs else []
        row = {key: first.get(key) for key in ID if key in runs}
        row.update(seeds=len(runs), seed_list=" ".join(str(s) for s in seeds))
        if "val_score" in runs:  # the validation score a trained translator's runs were selected by
            row["val_monitor"] = runs["val_monitor"].iloc[0]
            row["val_score"] = pd.to_numeric(runs["val_score"], errors="coerce").mean()
        for key in ("trained_on", "precision"):  # where and how it trained: every value its runs have
            if key in runs:
                row[key] = " / ".join(sorted({str(v) for v in runs[key].dropna()})) or None
        if "val_ndcg" in runs:  # the kept weights' validation search, whatever the monitor; every run's, or none
            values = pd.to_numeric(runs["val_ndcg"], errors="coerce")
            row["val_ndcg"] = values.mean() if values.notna().all() else math.nan
        for metric, column in metrics:
            values = pd.to_numeric(runs[column], errors="coerce").to_numpy(dtype=float)
            over_seeds = seed_interval(values, settings.level)
            row[column] = over_seeds.estimate
            row[f"{column}_std"] = seed_std(values)
            row[f"{column}_seed_low"], row[f"{column}_seed_high"] = over_seeds.low, over_seeds.high
            if metric.items:
                arrays = metric_inputs(metric, column, items, pid, first["translator"])
                over_items = (bootstrap([arrays], statistic_of(metric), replicates=settings.replicates,
                                        seed=settings.seed, level=settings.level, resample_seeds=False,
                                        clusters=items.clusters_of(metric, [pid]))
                              if arrays else Interval(math.nan, math.nan, math.nan))
                row[f"{column}_boot_low"], row[f"{column}_boot_high"] = over_items.low, over_items.high
        rows.append(row)
    return pd.DataFrame(rows)


# -- one translator over every pair ----------------------------------------------------------------------------------

def aggregate_table(translators: pd.DataFrame, results: pd.DataFrame, items: Items,
                    settings: Settings = Settings()) -> pd.DataFrame:
    """Per translator, each comparable metric over pairs (each pair's seed mean counts once): mean, std,
    min and max over pairs, and two 95 % intervals of the mean. On these pairs (_low, _high): a bootstrap
    over every pair's test items (queries in clusters) and seeds for per-item metrics, a t interval over
    seeds (of the mean over pairs) for the others. Across pairs (_across_low, _across_high): a hierarchical
    bootstrap, the pairs resampled first, for per-item metrics with enough pairs; nan otherwise.
    ``seeds`` is the most seeds it has on a pair, ``seeds_fewest`` the fewest (they differ when a run is missing)."""
    metrics = aggregated(translators.columns)
    rows = []
    for label, group in translators.groupby("translator", sort=False):
        row = {"translator": label, "kind": group["kind"].iloc[0], "pairs": len(group),
               "seeds": int(group["seeds"].max()), "seeds_fewest": int(group["seeds"].min())}
        runs = results[results["translator"] == label]
        for metric, column in metrics:
            values = pd.to_numeric(group[column], errors="coerce")
            row.update({f"{column}_mean": values.mean(), f"{column}_std": values.std(),
                        f"{column}_min": values.min(), f"{column}_max": values.max()})
            interval, across = over_pairs(metric, column, group, runs, items, settings)
            row[f"{column}_low"], row[f"{column}_high"] = interval.low, interval.high
            row[f"{column}_across_low"], row[f"{column}_across_high"] = across.low, across.high
        rows.append(row)
    return pd.DataFrame(rows)


def over_pairs(metric: Metric, column: str, group: pd.DataFrame, runs: pd.DataFrame, items: Items,
               settings: Settings) -> tuple[Interval, Interval]:
    """The interval of the mean over pairs on these pairs, and across pairs (nan where there is none)."""
    none = Interval(math.nan, math.nan, math.nan)
    if metric.items:  # each pair is resampled over its own items and seeds: pairs need not share seeds
        pids = [PairId(d, a, b) for d, a, b in group[["dataset", "model_a", "model_b"]].itertuples(index=False)]
        strata = [metric_inputs(metric, column, items, pid, label) for pid, label in zip(pids, group["translator"])]
        if all(strata):
            within, across, _ = bootstrap_both(strata, statistic_of(metric), replicates=settings.replicates,
                                               seed=settings.seed, level=settings.level,
                                               clusters=items.clusters_of(metric, pids))
            return within, across
    if "seed" in runs and len(runs) and runs["seed"].notna().all():
        # The mean over pairs per seed needs that seed on every pair: the seeds they all have (a pair with a
        # seed missing would otherwise pull that seed's mean towards the other pairs).
        by_pair = runs.groupby(["dataset", "pair"])["seed"].apply(frozenset)
        on_every_pair = frozenset.intersection(*by_pair)
        per_seed = runs[runs["seed"].isin(on_every_pair)].groupby("seed")[column].mean()
        return seed_interval(per_seed.to_numpy(dtype=float), settings.level), none
    return none, none


# -- paired comparisons ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    """Does ``first`` score better than ``second``? On every pair both were measured on, or between the
    two directions of each pair (``directions``: first is A → B, second B → A, same translator)."""

    family: str
    first: str
    second: str
    directions: bool = False
    chosen_by: str = ""  # how ``first`` was picked among several, when it was
    second_chosen_by: str = ""  # and ``second``


# Translators set against Procrustes and linear_retrieval on every pair: the geometry-preserving map and the
# per-pair choices by validation (any candidate, or translations only).
CHALLENGERS = ("orthogonal", "auto", "auto_translation")


def questions(translators: pd.DataFrame) -> list[Question]:
    """The comparisons a study of this codebase asks, for the translators this analysis has:
    depth (mlp1 against linear, mlp2 against mlp1 at one width), width (each next width of an arch),
    Procrustes against least squares, the orthogonal and auto translators against Procrustes and
    linear_retrieval, the best trained translator against the best closed-form map, and the two directions
    of every pair measured both ways."""
    labels = list(dict.fromkeys(translators["translator"]))
    trained = translators[translators["kind"] == TRAINED]
    by_arch_width = {(a, None if pd.isna(w) else int(w)): label for a, w, label in
                     trained[["arch", "width", "translator"]].drop_duplicates().itertuples(index=False)}
    found = []
    linear = by_arch_width.get(("linear", None))
    for (arch, width), label in by_arch_width.items():
        if arch == "mlp1" and linear:
            found.append(Question("depth", label, linear))
        if arch == "mlp2" and ("mlp1", width) in by_arch_width:
            found.append(Question("depth", label, by_arch_width[("mlp1", width)]))
    for arch in dict.fromkeys(a for a, w in by_arch_width if w is not None):
        widths = sorted(w for a, w in by_arch_width if a == arch and w is not None)
        found += [Question("width", by_arch_width[(arch, wide)], by_arch_width[(arch, narrow)])
                  for narrow, wide in pairwise(widths)]
    closed = {row.arch: row.translator for row in translators[translators["kind"] == CLOSED_FORM].itertuples()}
    if "procrustes" in closed and "lstsq" in closed:
        found.append(Question("closed form", closed["procrustes"], closed["lstsq"]))
    # The retrieval translators against the two they are meant to beat on every pair (issue 26's targets).
    rivals = [closed.get("procrustes"), by_arch_width.get(("linear_retrieval", None))]
    for arch in CHALLENGERS:
        if (label := by_arch_width.get((arch, None))) is not None:
            found += [Question("against " + rival.removesuffix(" (closed form)"), label, rival)
                      for rival in rivals if rival is not None]
    metric = ranking_metric(translators.columns)
    if metric and closed and len(trained):
        means = translators.groupby("translator", sort=False)[metric].mean()
        best_trained, chosen_by = best_trained_translator(trained, means, metric)
        best_closed, closed_chosen_by = best_closed_form(translators[translators["kind"] == CLOSED_FORM], means, metric)
        found.append(Question("learned vs closed form", best_trained, best_closed, chosen_by=chosen_by,
                              second_chosen_by=closed_chosen_by))
        pairs = {(r.dataset, r.model_a, r.model_b) for r in translators.itertuples()}
        if any((d, b, a) in pairs for d, a, b in pairs):
            found += [Question("direction", label, label, directions=True) for label in [best_trained, best_closed]]
    return [q for q in dict.fromkeys(found) if q.first in labels and q.second in labels]


def best_trained_translator(trained: pd.DataFrame, test_means: pd.Series, metric: str) -> tuple[str, str]:
    """The trained translator to set against the closed forms, and how it was chosen, never on the test split
    the comparison is made on when a validation score exists: by its mean validation nDCG@k (every run
    records it, whatever its monitor) when every trained translator has one; for older runs, by the
    monitor's validation nDCG (monitor=ndcg); else by validation MSE (each pair's relative to its best,
    since raw MSE depends on B's scale). Only without any, by the test ranking score, which favours the
    winner of many (the comparison's chosen_by says so)."""
    if (label := highest_validation_ndcg(trained)) is not None:
        return label, "highest validation nDCG"
    monitors = set(trained.get("val_monitor", pd.Series(dtype=object)).dropna())
    scores = pd.to_numeric(trained.get("val_score", pd.Series(dtype=float)), errors="coerce")
    if len(monitors) == 1 and scores.notna().all() and len(scores) == len(trained):
        monitor = next(iter(monitors))
        if monitor.startswith("val/ndcg"):
            by_validation = scores.groupby(trained["translator"], sort=False).mean()
            return by_validation.idxmax(), f"highest validation {monitor.removeprefix('val/')}"
        if monitor == "val/mse":
            relative = scores / scores.groupby([trained["dataset"], trained["pair"]]).transform("min")
            return relative.groupby(trained["translator"], sort=False).mean().idxmin(), "lowest validation MSE"
    return test_means[trained["translator"].unique()].idxmax(), f"highest test {metric}"


def highest_validation_ndcg(rows: pd.DataFrame) -> str | None:
    """The translator among ``rows`` with the highest mean validation nDCG@k, or None unless every row has one."""
    ndcg = pd.to_numeric(rows.get("val_ndcg", pd.Series(index=rows.index, dtype=float)), errors="coerce")
    if len(ndcg) and ndcg.notna().all():
        return ndcg.groupby(rows["translator"], sort=False).mean().idxmax()
    return None


def best_closed_form(closed: pd.DataFrame, test_means: pd.Series, metric: str) -> tuple[str, str]:
    """The closed-form map to set against the best trained translator, and how it was chosen: by its mean
    validation nDCG@k over the pairs (the analysis scores each fitted map on the validation split's search),
    by the test ranking score only where a pair has no validation search (the comparison says so)."""
    if (label := highest_validation_ndcg(closed)) is not None:
        return label, "highest validation nDCG"
    return test_means[closed["translator"].unique()].idxmax(), f"highest test {metric}"


@dataclass(frozen=True)
class Pairing:
    """One pair a question is asked on: first's pair, second's (the reverse one for directions), the scope the
    comparisons table names it by, and the seeds the two are compared at there."""

    first: PairId
    second: PairId
    scope: str
    seeds: SeedMatch

    @property
    def note(self) -> str:
        """What the comparison on this pair leaves out; "" when nothing."""
        # a directions question's sides already name their pairs ("linear on a → b"); others need the pair
        return self.seeds.note("" if self.first != self.second else self.scope)


def pairings(question: Question, translators: pd.DataFrame, items: Items) -> list[Pairing]:
    """The pairs a question concerns, with the seeds each side has there (from the per-item scores): every pair
    either translator was measured on; for directions, each pair first was measured on both ways, once, in the
    A → B order it sorts first in. Pairs without per-item scores of either side have nothing to compare."""
    def measured(label):
        rows = translators[translators["translator"] == label]
        return [PairId(d, a, b) for d, a, b in rows[["dataset", "model_a", "model_b"]].itertuples(index=False)]

    if question.directions:
        both_ways = set(measured(question.second))
        wanted = [(pid, pid.reversed()) for pid in measured(question.first)
                  if (pid.model_a, pid.model_b) <= (pid.model_b, pid.model_a) and pid.reversed() in both_ways]
    else:
        wanted = [(pid, pid) for pid in dict.fromkeys(measured(question.first) + measured(question.second))]
    found = []
    for pid, other in wanted:
        first, second = items.seeds_of(pid, question.first), items.seeds_of(other, question.second)
        if not (first or second):
            continue
        names = ((f"{question.first} on {pid.title}", f"{question.second} on {other.title}") if question.directions
                 else (question.first, question.second))
        scope = pid.title + (f" vs {other.title}" if question.directions else "")
        found.append(Pairing(pid, other, scope, SeedMatch(*names, first, second)))
    return found


def strata_of(metric: Metric, column: str, question: Question, pairs: list[Pairing],
              items: Items) -> list[tuple[Pairing, dict]]:
    """(pairing, arrays) per pair the question can be answered on: first's arrays as a., second's as b., each
    at the seeds both have, in the same order, so row i of every array is one seed."""
    found = []
    for pairing in pairs:
        if not pairing.seeds.compared:
            continue
        first = metric_inputs(metric, column, items, pairing.first, question.first, "a.", pairing.seeds.rows("first"))
        second = metric_inputs(metric, column, items, pairing.second, question.second, "b.",
                               pairing.seeds.rows("second"))
        if first and second and len({v.shape[-1] for v in (*first.values(), *second.values())}) == 1:
            found.append((pairing, first | second))
    return found


def difference_of(metric: Metric) -> Callable:
    """first - second; for a lower-is-better error, first's relative change against second (-0.1: 10 % lower)."""
    first, second = statistic_of(metric, "a."), statistic_of(metric, "b.")
    if metric.higher_is_better:
        return lambda m: first(m) - second(m)
    return lambda m: first(m) / second(m) - 1


def confound(question: Question, translators: pd.DataFrame) -> str:
    """What else than the translator differs between the two sides: the machine or number format they trained
    in (a closed-form map, fitted during the analysis, has neither); "" when nothing does."""
    def setting(label):
        rows = translators[translators["translator"] == label]
        values = {key: " / ".join(sorted({str(v) for v in rows[key].dropna()})) for key in ("trained_on", "precision")
                  if key in rows}
        return values if any(values.values()) else None

    first, second = setting(question.first), setting(question.second)
    if not first or not second or first == second:
        return ""
    return (f"compares machines or number formats too: {question.first} trained on {first.get('trained_on')} in "
            f"{first.get('precision')}, {question.second} on {second.get('trained_on')} in {second.get('precision')}")


def comparison_table(translators: pd.DataFrame, items: Items, settings: Settings = Settings()) -> pd.DataFrame:
    """One row per question, metric and scope ("all pairs", then each pair): the effect (first minus
    second; relative change for MSE), its paired-bootstrap interval over test items and seeds, and
    whether first is better, worse, or not clearly different. Two translators are compared at the seeds
    both have (``seeds``: how many, ``seed_list``: which), never by position; a pair where they share none
    is left out, and ``seeds_left_out`` says what was (seeds_left_out_table lists it per pair)."""
    metric_columns = [c for c in (ranking_metric(translators.columns), "test_mse") if c and c in translators]
    rows = []
    for question in questions(translators):
        pairs = pairings(question, translators, items)
        mixed = confound(question, translators)
        for column in metric_columns:
            metric = metric_of(column)
            if question.directions and metric.column == "test_mse":
                continue  # raw MSE depends on B's scale: not comparable between directions
            strata = strata_of(metric, column, question, pairs, items)
            if not strata:
                continue
            statistic = difference_of(metric)
            kwargs = dict(replicates=settings.replicates, seed=settings.seed, level=settings.level)
            if not question.directions:  # a pooled "A → B minus B → A" over different pairs would mean nothing
                overall = compare([arrays for _, arrays in strata], statistic,
                                  clusters=items.clusters_of(metric, [p.first for p, _ in strata]), **kwargs)
                rows.append(comparison_row(question, column, metric, "all pairs", [p for p, _ in strata], overall,
                                           "; ".join(p.note for p in pairs if p.note)) | {"confound": mixed})
            for pairing, arrays in strata if len(strata) > 1 or question.directions else []:
                # both directions' queries are the same texts, so the first pair's clusters label them
                rows.append(comparison_row(question, column, metric, pairing.scope, [pairing],
                                           compare([arrays], statistic, clusters=items.clusters_of(metric, [pairing.first]),
                                                   **kwargs), pairing.note) | {"confound": mixed})
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


COMPARISON_COLUMNS = ["family", "first", "second", "first_chosen_by", "second_chosen_by", "directions", "metric",
                      "effect_kind", "scope", "pairs", "seeds",
                      "effect", "low", "high", "verdict", "first_better", "pairs_first_better", "pairs_second_better",
                      "sign_p_value", "across_low", "across_high", "across_verdict", "claim", "method",
                      "across_method", "seed_list", "seeds_left_out", "confound"]


def seed_list(pairs: list[Pairing]) -> str:
    """The seeds compared: "0 1", or per pair when pairs differ ("a → b: 0 1; b → a: 1")."""
    lists = {p.scope: " ".join(str(s) for s in p.seeds.shared) for p in pairs}
    if len(set(lists.values())) == 1:
        return next(iter(lists.values()))
    return "; ".join(f"{scope}: {seeds}" for scope, seeds in lists.items())


def comparison_row(question: Question, column: str, metric: Metric, scope: str, pairs: list[Pairing],
                   comparison, left_out: str) -> dict:
    effect = comparison.difference
    better = {"higher": metric.higher_is_better, "lower": not metric.higher_is_better}.get(comparison.verdict)
    across = {"higher": metric.higher_is_better, "lower": not metric.higher_is_better}.get(comparison.across_verdict)
    first_wins, second_wins = ((comparison.strata_higher, comparison.strata_lower) if metric.higher_is_better
                               else (comparison.strata_lower, comparison.strata_higher))
    return {"family": question.family, "first": question.first, "second": question.second,
            "first_chosen_by": question.chosen_by, "second_chosen_by": question.second_chosen_by,
            "directions": question.directions, "metric": column,
            "effect_kind": "difference" if metric.higher_is_better else "relative change",
            "scope": scope, "pairs": len(pairs),
            # the fewest seeds any pair's comparison rests on: what every pair's part of the claim has
            "seeds": min(p.seeds.count for p in pairs), "effect": effect.estimate, "low": effect.low,
            "high": effect.high,
            "verdict": "no clear difference" if better is None else ("better" if better else "worse"),
            "first_better": better, "pairs_first_better": first_wins, "pairs_second_better": second_wins,
            "sign_p_value": comparison.sign_p_value,
            "across_low": comparison.across.low, "across_high": comparison.across.high,
            "across_verdict": "no clear difference" if across is None else ("better" if across else "worse"),
            "claim": claim(better, across, first_wins, second_wins, len(pairs)),
            "method": f"paired {effect.method}", "across_method": f"paired {comparison.across.method}",
            "seed_list": seed_list(pairs), "seeds_left_out": left_out}


def claim(better: bool | None, across: bool | None, first_wins: int, second_wins: int, pairs: int) -> str:
    """What the comparison licenses: "across pairs" only when the interval across pairs excludes zero (and
    agrees with the one on these pairs); "on these pairs" when only the items of the pairs studied do."""
    if better is None:
        return "no clear difference"
    word = "better" if better else "worse"
    if across is better:
        return f"{word} across pairs"
    agree = first_wins if better else second_wins
    return f"{word} on these pairs" + (f" ({agree} of {pairs} pairs agree)" if pairs > 1 else "")


LEFT_OUT_COLUMNS = ["family", "first", "second", "directions", "dataset", "scope", "first_seeds", "second_seeds",
                    "shared", "compared", "note"]


def seeds_left_out_table(translators: pd.DataFrame, items: Items) -> pd.DataFrame:
    """One row per question and pair whose comparison leaves runs out: seeds only one side has, or the whole
    pair when the two share no seed (``compared`` false: no comparison drawn there). ``note`` says it in words."""
    def listed(seeds):
        return " ".join("closed form" if s is None else str(s) for s in seeds)

    rows = []
    for question in questions(translators):
        for pairing in pairings(question, translators, items):
            if pairing.note:
                rows.append({"family": question.family, "first": question.first, "second": question.second,
                             "directions": question.directions, "dataset": pairing.first.dataset,
                             "scope": pairing.scope, "first_seeds": listed(pairing.seeds.first_seeds),
                             "second_seeds": listed(pairing.seeds.second_seeds),
                             "shared": listed(pairing.seeds.shared), "compared": pairing.seeds.compared,
                             "note": pairing.note})
    return pd.DataFrame(rows, columns=LEFT_OUT_COLUMNS)
