"""What a report is made from: an analysis folder (analysis.json, examples, figures) and the runs it names.

The report reads only files, so it can be rebuilt from a finished analysis without re-scoring
anything; the placeholder report builds the same ``ReportInput`` from synthetic numbers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from embtrans.analysis.data_curve import split_sampled
from embtrans.analysis.identifiers import file_name
from embtrans.data.paired import UNUSED
from embtrans.errors import UserError
from embtrans.paths import CONFIG_DIR
from embtrans.translators.artefact import run_net_config


@dataclass
class Protocol:
    """How every run was trained and split: read from the runs' resolved configs."""

    test_fraction: float
    val_fraction: float
    split_seed: int
    loss: str
    max_epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float


@dataclass
class RunFacts:
    """What one trained run says about itself (metrics.json and config.yaml)."""

    run_dir: Path
    dims: dict  # {"a": d_A, "b": d_B}
    split_sizes: dict  # {"train": n, "val": n, "test": n}
    epochs: int | None
    seconds: float | None
    seed: int | None
    net: dict  # the arch's net config, to build the module for its diagram
    wandb_dir: Path | None = None
    stopped_by: str | None = None  # early stopping, epoch limit, time budget (metrics.json run.stopped_by)
    precision: str | None = None  # the training steps' number format (metrics.json run.precision)
    # Trained on another machine and brought here (its transport.json: tools/gpu_transport.py).
    transported: bool = False


@dataclass
class ReportInput:
    name: str
    results: pd.DataFrame  # one row per run (translator, seed) and pair, as analysis.json's "results"
    translators: pd.DataFrame  # tables/translators.csv: per translator and pair, over its seeds, with intervals
    aggregate: pd.DataFrame  # tables/aggregate.csv: per translator over pairs
    comparisons: pd.DataFrame  # tables/comparisons.csv: the paired tests the conclusion states
    references: dict  # per "<dataset>/<pair>": scores before translation
    examples: dict[str, list]  # per "<dataset>/<pair>/<translator>": worked searches
    figures: list[Path]  # absolute paths of the analysis' PNGs
    runs: dict[str, RunFacts]  # by run_dir
    protocol: Protocol
    models: dict[str, dict]  # name -> {"dim": d, "description": ...}
    datasets: dict[str, dict]  # tag -> {"name", "description", "limit", "texts"}
    placeholder: bool = False
    sweep_dir: Path | None = None
    analysis_dir: Path | None = None
    command: str = ""
    left_out: list[str] = field(default_factory=list)
    # runs a comparison left out because the other translator lacks their seed (tables/seeds_left_out.csv)
    seeds_left_out: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: str = ""  # the study's own notes (report.notes: a Markdown file, no raw HTML: build.read_notes), section 1
    conclusion: str = ""  # the study's written conclusion (report.conclusion: a Markdown file), atop the generated one
    title: str = ""  # report.title; empty: "Embedding translation: results of sweep <name>"
    # What a paired text buys (analysis/data_curve.py): the curves, the unpaired fits' worth in pairs, and the
    # unpaired fits that found no alignment. Empty when the sweep holds no such runs.
    data_curve: pd.DataFrame = field(default_factory=pd.DataFrame)
    pairs_worth: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Runs fitted on a sample of their pair's training texts: on the data curves, not in the per-pair tables.
    sampled_runs: int = 0
    # Each MLP's score minus each linear map's at the same number of paired texts, paired by seed.
    data_gaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    unpaired_failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    # This study's figures beside published ones (analysis/published.py); empty in older analyses.
    published: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Translators fitted on one corpus, scored on another (analysis/transfer.py); empty without two corpora.
    transfer: pd.DataFrame = field(default_factory=pd.DataFrame)


def config_description(group: str, name: str) -> str:
    """The first comment line of conf/<group>/<name>.yaml: the one place a model or dataset is described."""
    path = Path(CONFIG_DIR) / group / f"{name}.yaml"
    if not path.exists():
        return name
    lines = []
    for line in path.read_text().splitlines():  # the comment block at the top of the file
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").strip())
    return " ".join(lines) or name


def wandb_run_dir(run_dir: Path) -> Path | None:
    """The W&B run folder the job logged to (offline-run-* until synced, run-* when online)."""
    found = sorted(p for p in (Path(run_dir) / "wandb").glob("*run-*")
                   if p.is_dir() and not p.is_symlink())  # not wandb's latest-run link
    return found[-1] if found else None  # names start with the run's start time: the newest


def read_run(run_dir: Path) -> tuple[RunFacts, dict]:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = OmegaConf.to_container(OmegaConf.load(run_dir / "config.yaml"), resolve=False)
    info = metrics["run"]
    facts = RunFacts(run_dir, info["dims"], info["split_sizes"], info.get("epochs"), info.get("seconds"),
                     info.get("seed"), run_net_config(config, info), wandb_run_dir(run_dir), info.get("stopped_by"),
                     info.get("precision"), (run_dir / "transport.json").exists())
    return facts, config


def protocol_of(config: dict) -> Protocol:
    optimizer = config.get("optimizer") or {}
    return Protocol(
        test_fraction=config["dataset"]["test_fraction"], val_fraction=config["dataset"]["val_fraction"],
        split_seed=config["dataset"]["split_seed"], loss=config.get("loss", "mse"),
        max_epochs=config["trainer"].get("max_epochs"), batch_size=config["data"]["batch_size"],
        optimizer=str(optimizer.get("_target_", "?")).rsplit(".", 1)[-1], learning_rate=optimizer.get("lr", math.nan),
    )


def sweep_command(sweep_dir: Path) -> str:
    """The train.py command that made the sweep, from Hydra's record of its overrides."""
    record = sweep_dir / "multirun.yaml"
    if not record.exists():
        return ""
    task = OmegaConf.load(record).hydra.overrides.task
    return "python train.py -m " + " ".join(str(o) for o in task if not str(o).startswith("paths."))


def without_translators(table: pd.DataFrame, labels: set[str]) -> pd.DataFrame:
    """The table's rows that name none of ``labels`` in a translator column."""
    if table.empty or not labels:
        return table
    keep = pd.Series(True, index=table.index)
    for column in ("translator", "first", "second"):
        if column in table:
            keep &= ~table[column].isin(labels)
    return table[keep].reset_index(drop=True)


def from_analysis(analysis_dir: Path) -> ReportInput:
    analysis_dir = Path(analysis_dir)
    summary_path = analysis_dir / "analysis.json"
    if not summary_path.exists():
        raise UserError(f"{analysis_dir} has no analysis.json: run python analyze.py first (it writes the "
                        "report at its end), or point report.analysis_dir at a finished analysis")
    summary = json.loads(summary_path.read_text())
    results = pd.DataFrame(summary["results"])
    if results.empty:
        raise UserError(f"{summary_path} lists no results: the sweep it analysed had no finished run")
    results, sampled = split_sampled(results)
    runs, configs = {}, {}
    for run_dir in dict.fromkeys(results.loc[results["kind"] == "trained", "run_dir"]):
        runs[run_dir], configs[run_dir] = read_run(Path(run_dir))
    if not configs:
        raise UserError(f"{summary_path} holds no trained run: the report needs at least one")
    models, datasets = {}, {}
    for config in configs.values():
        for side in ("model_a", "model_b"):
            model = config[side]
            models.setdefault(model["name"], {"dim": model["dim"],
                                              "description": config_description("model_a", model["name"])})
    for tag, rows in results.groupby("dataset", sort=True):
        # the split as a run that read every training text saw it (not a dataset.train_pairs sample)
        read_all = [d for d in rows["run_dir"] if d in runs and UNUSED not in runs[d].split_sizes]
        run_dir = next(iter(read_all), next((d for d in rows["run_dir"] if d in runs), None))
        run, config = runs.get(run_dir), configs.get(run_dir)
        if config is None:  # a corpus with sample fits only (a data-scale sweep): one of them tells its split
            trained_sampled = sampled.loc[(sampled["dataset"] == tag) & (sampled["kind"] == "trained"), "run_dir"]
            if len(trained_sampled) and Path(trained_sampled.iloc[0]).exists():
                run, config = read_run(Path(trained_sampled.iloc[0]))
        config = config or next(iter(configs.values()))
        name = config["dataset"]["name"]
        sizes = dict(run.split_sizes) if run else {}
        sizes["train"] = sizes.get("train", 0) + sizes.pop(UNUSED, 0)  # a sample's unused texts are training texts
        datasets[tag] = {"name": name, "description": config_description("dataset", name),
                         "limit": config["dataset"].get("limit"),
                         "split_sizes": sizes if run else {}}
    examples = {}
    for key in summary.get("examples", []):
        path = analysis_dir / "examples" / f"{file_name(key)}.json"
        if path.exists():
            examples[key] = json.loads(path.read_text())
    sweep_dir = Path(summary["sweep_dir"])
    tables = {}
    for name in ("translators", "aggregate", "comparisons"):
        path = analysis_dir / "tables" / f"{name}.csv"
        if not path.exists():
            raise UserError(f"{path} is missing: re-run python analyze.py, which writes it")
        try:
            tables[name] = pd.read_csv(path)
        except pd.errors.EmptyDataError:  # no comparison could be made: a header-less empty table
            tables[name] = pd.DataFrame()
    # optional: older analyses lack them
    for name in ("data_curve", "pairs_worth", "data_gaps", "unpaired_failures", "published", "transfer"):
        path = analysis_dir / "tables" / f"{name}.csv"
        try:
            tables[name] = pd.read_csv(path) if path.exists() else pd.DataFrame()
        except pd.errors.EmptyDataError:
            tables[name] = pd.DataFrame()
    for name in ("translators", "aggregate", "comparisons"):
        tables[name] = without_translators(tables[name], set(sampled["translator"]))
    return ReportInput(
        name=sweep_dir.name, results=results, sampled_runs=len(sampled), **tables,
        references=summary.get("references", {}), examples=examples,
        figures=[analysis_dir / f for f in summary.get("figures", [])], runs=runs,
        protocol=protocol_of(next(iter(configs.values()))),
        models=models, datasets=datasets, sweep_dir=sweep_dir, analysis_dir=analysis_dir,
        command=sweep_command(sweep_dir), left_out=summary.get("left_out", []),
        seeds_left_out=summary.get("seeds_left_out", []), skipped=summary.get("skipped", []),
    )
