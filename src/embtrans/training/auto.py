"""arch=auto: fit a small menu of translators on the training split and keep, for this pair, the one whose
validation search scores best (nDCG@10 of B's validation queries over the translated validation passages).
The test split is never consulted: each candidate's test scores are computed, as every run's are, only
after all of them have been trained, and play no part in the choice.

With ``arch.max_cosine_drop`` (arch=auto_translation), only translations may be chosen: a candidate whose
mean cosine to the native B vectors of the validation texts is more than that below ``arch.cosine_reference``'s
(Procrustes) is left out first.

Each candidate is a whole run in ``candidates/<name>/`` (its metrics.json, checkpoint, translated vectors,
logs); the job's own files are the chosen one's, and its metrics.json says what was chosen and why
(``run.auto``). A killed job trains only the candidates it had not finished.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf, open_dict

from embtrans.data.paired import PairedEmbeddings, load_paired_embeddings
from embtrans.errors import UserError
from embtrans.run_files import DamagedFile, read_metrics, write_json
from embtrans.training.resume import resume_path
from embtrans.training.run import finish_wandb, train
from embtrans.training.validation_search import ValidationSearch
from embtrans.translators.artefact import Translator

log = logging.getLogger(__name__)

K = 10  # the choice's nDCG@k, the analysis' headline k
RULE = f"the highest validation nDCG@{K} (B's validation queries over the translated validation passages); " \
       "ties go to the earlier candidate of the menu; the test split is not consulted"
TRANSLATION_RULE = ", among the candidates that are translations: a validation mean cosine to B no more than " \
                   "arch.max_cosine_drop below arch.cosine_reference's"
# What the job's folder holds of the chosen candidate's run: what the analysis and Translator.from_run read.
CHOSEN_FILES = ("checkpoints/best.ckpt", "translated", "split.csv")


def candidate_config(cfg: DictConfig, name: str, output_dir: Path) -> DictConfig:
    """The config of the run ``python train.py <this job's settings> arch=<the candidate>`` would have,
    writing into ``output_dir``: the candidate's arch, loss and monitor (menu.<name>), everything else as the job's."""
    entry = cfg.arch.menu[name]
    child = cfg.copy()
    with open_dict(child):
        child.arch = entry.arch
        child.loss = entry.get("loss") or "mse"
        child.monitor = entry.get("monitor") or {"metric": "val/mse", "mode": "min"}
        child.paths.output_dir = str(output_dir)
    return child


def train_here(cfg: DictConfig) -> Path:
    """Run one candidate in its folder, or keep the run it already finished there: the folder. A sweep's job
    passes its own runner instead (sweep/job.py), which also reuses a twin finished elsewhere."""
    folder = Path(cfg.paths.output_dir)
    if (folder / "metrics.json").exists():
        try:
            read_metrics(folder)
            return folder
        except DamagedFile as damaged:
            log.warning("%s", damaged)
    if folder.exists() and not resume_path(folder).exists():
        shutil.rmtree(folder)  # an attempt that left no resume point: no result, nothing to go on from
    train(cfg)
    return folder


def validation_ndcg(metrics: dict) -> float:
    return float(metrics["run"]["validation"][f"ndcg@{K}"])


def check_menu(cfg: DictConfig) -> list[str]:
    menu = cfg.arch.get("menu") or {}
    if not menu:
        raise UserError("arch=auto needs at least one candidate in arch.menu")
    nested = [name for name, entry in menu.items() if entry.arch.get("menu")]
    if nested:
        raise UserError(f"arch.menu.{nested[0]} is itself an auto translator: list plain translators in the menu")
    return list(menu)


def train_auto(cfg: DictConfig, fingerprint: str | None = None,
               run_candidate: Callable[[DictConfig], Path] | None = None) -> dict:
    started = time.perf_counter()
    names = check_menu(cfg)
    # Before any training: without validation queries there is nothing to choose by.
    paired = load_paired_embeddings(cfg, show_progress=cfg.data.show_progress)
    drop, reference = cfg.arch.get("max_cosine_drop"), cfg.arch.get("cosine_reference", "procrustes")
    if drop is not None and reference not in names:
        raise UserError(f"arch.max_cosine_drop compares each candidate's validation cosine with {reference}'s "
                        f"(arch.cosine_reference), which is not in arch.menu ({', '.join(names)})")
    try:
        ValidationSearch.from_paired(paired, K)
    except UserError:
        raise UserError(f"arch=auto chooses by the validation search's nDCG@{K}, and the validation split of "
                        f"{cfg.dataset.name!r} has no query with a relevant validation passage: raise "
                        "dataset.val_fraction (or dataset.limit), or train one translator with arch=<name>") from None
    output_dir = Path(cfg.paths.output_dir)
    run_candidate = run_candidate or train_here
    folders, results = {}, {}
    for number, name in enumerate(names, 1):
        log.info("arch=auto: candidate %s (%d of %d)", name, number, len(names))
        try:
            folders[name] = run_candidate(candidate_config(cfg, name, output_dir / "candidates" / name))
        finally:
            finish_wandb()  # one W&B run per candidate
        results[name] = read_metrics(folders[name])
    scores = {name: validation_ndcg(metrics) for name, metrics in results.items()}
    eligible, translation = names, None
    if drop is not None:
        cosines = {name: validation_cosine(folders[name], paired) for name in names}
        floor = cosines[reference] - float(drop)
        eligible = [name for name in names if cosines[name] >= floor]
        translation = {"validation cosine": cosines, "reference": reference, "max_cosine_drop": float(drop),
                       "left out": [name for name in names if name not in eligible]}
    chosen = max(eligible, key=lambda name: (scores[name], -names.index(name)))
    log.info("arch=auto chose %s: validation nDCG@%d %s%s", chosen, K,
             ", ".join(f"{name} {score:.4f}" for name, score in scores.items()),
             f"; not translations (validation cosine more than {drop} below {reference}'s): "
             f"{', '.join(translation['left out']) or 'none'}" if translation else "")
    return adopt(cfg, output_dir, chosen, folders, results, scores, fingerprint, time.perf_counter() - started,
                 translation)


@torch.no_grad()
def validation_cosine(folder: Path, paired: PairedEmbeddings) -> float:
    """The mean cosine of a finished run's translations of the validation texts to their native B vectors."""
    rows = paired.rows("val")
    translated = Translator.from_run(folder).translate(torch.from_numpy(paired.source[rows]))
    return float(F.cosine_similarity(translated, torch.from_numpy(paired.target[rows]), dim=-1).mean())


def adopt(cfg: DictConfig, output_dir: Path, chosen: str, folders: dict[str, Path], results: dict, scores: dict,
          fingerprint: str | None, seconds: float, translation: dict | None = None) -> dict:
    """Make the job's folder the chosen candidate's run: its checkpoint, translated vectors and split, the
    job's config, and metrics.json with the choice (run.auto)."""
    source = folders[chosen]
    for name in CHOSEN_FILES:
        target = output_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        if (source / name).is_dir():
            shutil.copytree(source / name, target)
        elif (source / name).exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target)
    # The job's own settings: run.auto.chosen names the net in arch.menu (Translator.from_run reads it there),
    # so every seed's config is the same translator's, whichever candidate it chose.
    OmegaConf.save(cfg, output_dir / "config.yaml", resolve=True)
    metrics = results[chosen]
    chosen_run = metrics["run"]
    # The job's seed, not the candidate's: a closed form is one run at every seed, reused, and records the
    # seed of the job that fitted it first.
    metrics["run"] = {**chosen_run, "arch": cfg.arch.name, "seed": cfg.seed, "fingerprint": fingerprint,
                      "seconds": round(seconds, 2),
                      "best_checkpoint": "checkpoints/best.ckpt" if chosen_run.get("best_checkpoint") else None,
                      "auto": {"chosen": chosen, "chosen_arch": chosen_run["arch"], "loss": chosen_run.get("loss"),
                               "rule": RULE + (TRANSLATION_RULE if translation else ""),
                               f"validation ndcg@{K}": scores, "translation": translation,
                               "candidates": {name: os.path.relpath(folder, output_dir)
                                              for name, folder in folders.items()}}}
    write_json(output_dir / "metrics.json", metrics)  # last: its presence means the job finished
    return metrics
