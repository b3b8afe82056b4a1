"""What a paired text buys: closed forms fitted on n paired texts, beside translators fitted on none.

A sweep over ``dataset.train_pairs`` (see conf/sweep/pairs_worth.yaml) gives, per pair of models, Procrustes and
least squares at several n and seeds (each seed its own nested sample of texts); an unsupervised translator
(``arch.paired: false``, e.g. mini_vec2vec) sits at n = 0, each seed its own halves and restarts. A trained
translator swept over n too (conf/sweep/wordnet_scale.yaml: linear maps and MLPs) draws a curve of its own, one
per arch and width, so the curves show where, if anywhere, an MLP pulls ahead of a linear map.

``curve_table``: per pair, translator and n, each metric's mean over seeds with its t interval over seeds
(the sample of pairs, or the unsupervised fit's draws). ``worth_table``: per pair and metric, the number of
paired texts at which the supervised curve reaches the unsupervised translator's score, interpolated in log n
between the two sampled sizes around it; "worth" is read per seed (seed s of each side) and given as the
median with the seeds' range.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from embtrans.analysis.identifiers import CLOSED_FORM
from embtrans.analysis.pairs import data_tag
from embtrans.stats.intervals import seed_interval
from embtrans.sweep.summary import job_table

# The supervised translators a curve is drawn for: the closed forms, which need no tuning at any n.
SUPERVISED = ("procrustes", "lstsq")
# What the curve and the worth are read on: vec2vec's metrics (top-1 and mean rank of the true target among the
# test pool, mean cosine to it), and this project's search quality and its retention.
CURVE_METRICS = ("top1_accuracy", "mean_rank", "mean_cosine", "ndcg@10", "ndcg@10_retention")
# Which way is better, for reading "reaches"
LOWER_IS_BETTER = {"mean_rank"}


def curve_name(arch: str, translator: str) -> str:
    """The curve a result lies on: its translator without the data size. A closed form is one curve whether the
    analysis fitted it or a sweep job did ("procrustes (closed form)", "procrustes@train_pairs=100"); a trained
    translator keeps its width and any other setting ("mlp2-x8@train_pairs=1000" -> "mlp2-x8")."""
    if arch in SUPERVISED:
        return arch
    name, _, variant = translator.partition("@")
    rest = [part for part in variant.split(",") if part and not part.startswith("train_pairs=")]
    return f"{name}@{','.join(rest)}" if rest else name


def curve_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The results rows on a curve, with their curve's name (``curve``): every translator fitted on two or more
    sizes of paired texts in a pair, and unpaired translators at 0. A closed form the analysis fitted itself (on
    every training text) counts only where no sweep run of that arch and pair fitted on all of them: they are the
    same fit."""
    if results.empty or "paired_texts" not in results:
        return results[:0].assign(curve=pd.Series(dtype=str))
    rows = results[results["paired_texts"].notna()].copy()
    rows["paired_texts"] = rows["paired_texts"].astype(int)
    rows["curve"] = [curve_name(a, t) for a, t in zip(rows["arch"], rows["translator"])]
    sweep = rows[rows["kind"] != CLOSED_FORM]
    have = set(zip(sweep["dataset"], sweep["pair"], sweep["arch"], sweep["paired_texts"]))
    duplicate = (rows["kind"] == CLOSED_FORM) & np.array([(d, p, a, n) in have for d, p, a, n in zip(
        rows["dataset"], rows["pair"], rows["arch"], rows["paired_texts"])], dtype=bool)
    rows = rows[~duplicate]
    # A curve needs two sizes or more (or to read none); a closed form is drawn wherever another curve of its
    # pair is, as the reference every translator is read against.
    sized = rows["paired_texts"].where(rows["paired_texts"] > 0)
    sizes = sized.groupby([rows["dataset"], rows["pair"], rows["curve"]]).transform("nunique")
    drawn = ((sizes >= 2) | (rows["paired_texts"] == 0)).to_numpy()
    pairs = set(zip(rows.loc[drawn, "dataset"], rows.loc[drawn, "pair"]))
    in_pair = np.array([(d, p) in pairs for d, p in zip(rows["dataset"], rows["pair"])], dtype=bool)
    return rows[in_pair & (drawn | rows["arch"].isin(SUPERVISED).to_numpy())]


def curve_table(results: pd.DataFrame) -> pd.DataFrame:
    rows = curve_rows(results)
    columns = ["dataset", "pair", "translator", "arch", "paired_texts", "seeds", "metric", "mean", "low", "high"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for (dataset, pair, curve, n), group in rows.groupby(["dataset", "pair", "curve", "paired_texts"], sort=True):
        for metric in (m for m in CURVE_METRICS if m in group):
            interval = seed_interval(pd.to_numeric(group[metric], errors="coerce"))
            out.append([dataset, pair, curve, group["arch"].iloc[0], int(n), int(group[metric].notna().sum()),
                        metric, interval.estimate, interval.low, interval.high])
    return pd.DataFrame(out, columns=columns)


def crossing(sizes: np.ndarray, scores: np.ndarray, level: float, lower_is_better: bool = False) -> tuple[float, str]:
    """The n where a curve (scores at increasing sizes) first reaches ``level``, interpolated in log n, and how
    it was read: 'between' sampled sizes, or 'below' the smallest (the level is reached at the first size
    already) or 'above' the largest (never reached); the number is then that edge size."""
    sign = -1.0 if lower_is_better else 1.0
    reached = np.flatnonzero(sign * scores >= sign * level)
    if reached.size == 0:
        return float(sizes[-1]), "above"
    first = reached[0]
    if first == 0:
        return float(sizes[0]), "below"
    n0, n1, s0, s1 = sizes[first - 1], sizes[first], scores[first - 1], scores[first]
    t = (level - s0) / (s1 - s0) if s1 != s0 else 1.0
    return float(math.exp(math.log(n0) + t * (math.log(n1) - math.log(n0)))), "between"


def worth_table(results: pd.DataFrame, supervised: str = "procrustes") -> pd.DataFrame:
    """Per pair, unpaired translator and metric: how many paired texts ``supervised`` needs to match it."""
    rows = curve_rows(results)
    columns = ["dataset", "pair", "translator", "against", "metric", "seeds", "unpaired_mean", "worth_median",
               "worth_low", "worth_high", "read", "sizes"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for (dataset, pair), group in rows.groupby(["dataset", "pair"], sort=True):
        curve = group[(group["arch"] == supervised) & (group["paired_texts"] > 0)]
        if curve["paired_texts"].nunique() < 2:
            continue
        for translator, unpaired in group[group["paired_texts"] == 0].groupby("translator", sort=True):
            for metric in (m for m in CURVE_METRICS if m in group):
                worth, reads = [], []
                for seed, own in unpaired.groupby("seed"):
                    by_size = curve_at_seed(curve, seed, metric)
                    value = float(pd.to_numeric(own[metric], errors="coerce").mean())
                    if by_size.empty or math.isnan(value):
                        continue
                    n, read = crossing(by_size.index.to_numpy(float), by_size.to_numpy(float), value,
                                       metric in LOWER_IS_BETTER)
                    worth.append(n)
                    reads.append(read)
                if not worth:
                    continue
                out.append([dataset, pair, translator, supervised, metric, len(worth),
                            float(pd.to_numeric(unpaired[metric], errors="coerce").mean()), float(np.median(worth)),
                            float(min(worth)), float(max(worth)), ",".join(sorted(set(reads))),
                            "/".join(str(int(n)) for n in sorted(curve["paired_texts"].unique()))])
    return pd.DataFrame(out, columns=columns)


def curve_at_seed(curve: pd.DataFrame, seed, metric: str) -> pd.Series:
    """The supervised curve drawn with seed ``seed`` (its nested samples), by size; a size fitted on every
    training text is one fit for every seed, so it stands in at any seed that lacks its own."""
    own = curve[curve["seed"] == seed]
    shared = curve[~curve["paired_texts"].isin(own["paired_texts"])
                   & (curve.groupby("paired_texts")["seed"].transform("nunique") == 1)]
    both = pd.concat([own, shared])
    return pd.to_numeric(both[metric], errors="coerce").groupby(both["paired_texts"]).mean().dropna().sort_index()


def unpaired_failures(sweep_dir: Path) -> pd.DataFrame:
    """The sweep's failed jobs of unpaired translators (arch.paired: false), with their seed and reason: a fit
    that found no alignment is a result of the study ("worth no pairs here"), not a run to average over."""
    columns = ["dataset", "pair", "translator", "seed", "reason", "job"]
    rows = []
    table = job_table(sweep_dir)
    for job, note in table.loc[table["status"] == "failed", ["job", "note"]].itertuples(index=False) if len(table) else ():
        config_path = Path(sweep_dir) / job / ".hydra" / "config.yaml"
        if not config_path.exists():
            continue
        config = OmegaConf.load(config_path)
        if config.arch.get("paired", True):
            continue
        rows.append([data_tag(config), f"{config.model_a.name}-to-{config.model_b.name}", config.arch.name,
                     config.get("seed"), note, job])
    return pd.DataFrame(rows, columns=columns)


# What a nonlinear translator is measured against on a curve: the linear maps, closed or trained.
LINEAR = ("lstsq", "procrustes", "linear", "orthogonal")
# What its gap is read on: search quality, and how close each vector lands to its target.
GAP_METRICS = ("ndcg@10", "mean_cosine")


def gap_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per pair, size and metric: each MLP curve's score minus each linear curve's at the same n, paired by
    seed (seed s of both fitted on the same sample of texts; a fit on every text is one fit for every seed),
    with the 95 % t interval over those seeds' differences: whether, at this n, the MLP pulls ahead."""
    rows = curve_rows(results)
    columns = ["dataset", "pair", "paired_texts", "metric", "translator", "against", "seeds", "difference", "low",
               "high"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows[rows["paired_texts"] > 0]
    out = []
    for (dataset, pair), group in rows.groupby(["dataset", "pair"], sort=True):
        curves = {name: curve for name, curve in group.groupby("curve", sort=True)}
        nonlinear = [name for name, curve in curves.items() if str(curve["arch"].iloc[0]).startswith("mlp")]
        linear = [name for name in curves if name.split("@")[0].split("-x")[0] in LINEAR]
        for name in nonlinear:
            for against in linear:
                for metric in (m for m in GAP_METRICS if m in group):
                    for n in sorted(set(curves[name]["paired_texts"]) & set(curves[against]["paired_texts"])):
                        differences = []
                        for seed, own in curves[name][curves[name]["paired_texts"] == n].groupby("seed"):
                            reference = curve_at_seed(curves[against], seed, metric)
                            value = float(pd.to_numeric(own[metric], errors="coerce").mean())
                            if n in reference.index and not math.isnan(value):
                                differences.append(value - float(reference.loc[n]))
                        if differences:
                            interval = seed_interval(differences)
                            out.append([dataset, pair, int(n), metric, name, against, len(differences),
                                        interval.estimate, interval.low, interval.high])
    return pd.DataFrame(out, columns=columns)


def split_sampled(results: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs fitted on every training text of their pair, and the ones fitted on a sample of them
    (dataset.train_pairs): a data-scale sweep's many sizes are drawn as curves (tables/data_curve.csv), so the
    per-pair tables list each translator once, as fitted on all the pair's paired texts."""
    if "paired_texts" not in results:
        return results, results[:0]
    texts = pd.to_numeric(results["paired_texts"], errors="coerce")
    most = texts.groupby([results["dataset"], results["pair"]]).transform("max")
    # a translator is sampled when none of its runs read all of them (unpaired ones read none: not sampled)
    sampled_run = (texts < most) & (texts > 0)
    sampled = sampled_run.groupby(results["translator"]).transform("all")
    return results[~sampled].reset_index(drop=True), results[sampled].reset_index(drop=True)
