"""One training job: seed -> data -> translator -> fit (Lightning, or closed form) -> test -> metrics.json."""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import Timer

from embtrans.data.datamodule import PairedEmbeddingDataModule
from embtrans.data.paired import load_paired_embeddings, split_table, train_pairs_setting
from embtrans.errors import RunFailed
from embtrans.files import cached_json, content_hash
from embtrans.paths import in_multirun
from embtrans.run_files import non_finite, write_json
from embtrans.training.lit_module import TranslatorModule
from embtrans.training.placement import allotted_cpus, placement
from embtrans.training.precision import resolve_precision
from embtrans.training.resume import resume_path
from embtrans.training.validation_search import ValidationSearch, validation_search
from embtrans.translators.baselines import baseline_scores, closed_form_maps
from embtrans.translators.initialise import start_from_closed_form

log = logging.getLogger(__name__)


def instantiate_dict(node: DictConfig | None) -> list:
    """Callbacks and loggers are named entries, so `logger=none` or `callbacks=none` empties them."""
    return [instantiate(entry) for entry in (node or {}).values() if entry is not None]


def sweep_launcher() -> DictConfig | None:
    return HydraConfig.get().launcher if in_multirun() else None


def thread_count(cfg: DictConfig) -> int | None:
    """Parallel jobs share the cores: each gets cores / n_jobs threads unless `threads` says otherwise; a job a
    scheduler runs gets the cores it was given (hydra.launcher.cpus_per_task)."""
    if cfg.get("threads") is not None:
        return int(cfg.threads)
    if (cpus := allotted_cpus()) is not None:
        return cpus
    launcher = sweep_launcher()
    n_jobs = launcher.get("n_jobs") if launcher is not None else None
    if n_jobs:
        return max(1, (os.cpu_count() or 1) // (n_jobs if n_jobs > 0 else os.cpu_count() or 1))
    return None


def build_trainer(cfg: DictConfig) -> pl.Trainer:
    # On a machine with several GPUs a sweep's job arrives with trainer.devices set to the GPU it claimed
    # (sweep/job.py own_gpu).
    loggers = instantiate_dict(cfg.get("logger"))
    trainer = instantiate(cfg.trainer, callbacks=instantiate_dict(cfg.get("callbacks")), logger=loggers)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    return trainer


def warn_if_underdetermined(cfg: DictConfig, net, n_train: int, out_dim: int) -> None:
    """Say so when the training split gives fewer target numbers (texts x B's dimension) than the net
    has weights: a split such as test_fraction=0.9 val_fraction=0.9 leaves a handful of texts."""
    weights = sum(p.numel() for p in net.parameters())
    if n_train * out_dim < weights:
        log.warning(f"the training split has {n_train:,} texts ({n_train:,} x {out_dim} = {n_train * out_dim:,} "
                    f"target numbers) to fit {weights:,} weights of {cfg.arch.name}: expect it to overfit; raise "
                    f"dataset.limit or lower dataset.test_fraction ({cfg.dataset.test_fraction}) or "
                    f"dataset.val_fraction ({cfg.dataset.val_fraction})")


def train(cfg: DictConfig, fingerprint: str | None = None) -> dict:
    started = time.perf_counter()
    output_dir = Path(cfg.paths.output_dir)
    threads = thread_count(cfg)
    if threads:
        torch.set_num_threads(threads)
    pl.seed_everything(cfg.seed, workers=True)

    paired = load_paired_embeddings(cfg, show_progress=cfg.data.show_progress)
    trainer = build_trainer(cfg)
    datamodule = PairedEmbeddingDataModule(paired, cfg.data.batch_size, cfg.data.eval_batch_size, cfg.seed,
                                           device=trainer.strategy.root_device)
    train_pairs, val_pairs, test_pairs = (datamodule.pairs[s] for s in ("train", "val", "test"))
    in_dim, out_dim = datamodule.dims
    net = instantiate(cfg.arch.net, in_dim=in_dim, out_dim=out_dim)
    warn_if_underdetermined(cfg, net, len(train_pairs), out_dim)
    started_from = {}
    precision = resolve_precision(cfg.get("precision", "32"), trainer.strategy.root_device.type)
    objective = cfg.get("objective")
    monitor = cfg.get("monitor") or OmegaConf.create({"metric": "val/mse", "mode": "min"})
    # Scored whatever the monitor: a run selected by validation MSE still records its validation nDCG, so
    # the analysis can choose among translators without the test split. Required only by monitor=ndcg.
    search = validation_search(paired, monitor.get("k"))
    module = TranslatorModule(net, instantiate(cfg.optimizer), instantiate(cfg.scheduler), loss=cfg.loss,
                              objective=OmegaConf.to_container(objective, resolve=True) if objective else None,
                              monitor=monitor.metric, precision=precision, lr_rule=cfg.get("lr_rule", "constant"),
                              validation_search=search)
    if module.objective.needs_target_mean:
        module.objective.set_target_mean(train_pairs.target)

    fit_info = {}
    if cfg.arch.get("closed_form"):
        fit_info = net.fit(train_pairs.source, train_pairs.target, val_pairs.source, val_pairs.target)
        tested = trainer.test(module, datamodule=datamodule, verbose=False)[0]
        best = output_dir / "checkpoints" / "best.ckpt"
        trainer.save_checkpoint(best, weights_only=True)
    else:
        # Measured before any closed-form start: the divergence check asks whether training beat a random
        # net, not whether it improved on least squares (that comparison is the analysis' to make).
        untrained = (search.ndcg(net) if monitor.get("k") is not None else
                     mean_squared_error(module, val_pairs.source, val_pairs.target, cfg.data.eval_batch_size))
        started_from = start_from_closed_form(net, cfg.closed_form, train_pairs, val_pairs)
        resume_from, resumed_after = resume_point(output_dir)
        trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from)
        check_training(trainer, untrained, monitor.metric, monitor.mode)
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        tested = trainer.test(module, datamodule=datamodule, ckpt_path=best or None, verbose=False)[0]

    translated = translate(module, test_pairs.source, cfg.data.eval_batch_size)
    check_result(module, tested, translated)
    validation = validation_scores(module, search)
    save_translated(output_dir, translated, paired.dataset.texts["id"].to_numpy()[paired.rows("test")])
    metrics = {
        "test/mse": tested["test/mse"],
        "test/cosine": tested["test/cosine"],
        "baselines": baselines(cfg, train_pairs, val_pairs, test_pairs),
        "run": {
            "dataset": cfg.dataset.name,
            "model_a": cfg.model_a.name,
            "model_b": cfg.model_b.name,
            "arch": cfg.arch.name,
            "width": cfg.width if cfg.arch.get("uses_width", True) else None,
            "hidden": getattr(net, "hidden", None),
            "dims": {"a": in_dim, "b": out_dim},
            "parameters": sum(p.numel() for p in net.parameters()),
            "seed": cfg.seed,
            # How many paired texts the fit read: an unsupervised translator reads none (arch.paired: false);
            # dataset.train_pairs fits on a sample of the training texts.
            "paired_texts": len(train_pairs) if cfg.arch.get("paired", True) else 0,
            "train_pairs": train_pairs_setting(cfg),
            "loss": cfg.loss,
            # what chose the kept epoch, and its best validation value
            "monitor": None if cfg.arch.get("closed_form") else {"metric": monitor.metric, "best": best_score(trainer)},
            # the kept weights' validation search, whatever the monitor (None where the split has no queries)
            "validation": validation,
            "fingerprint": fingerprint,
            "split_sizes": paired.split_sizes(),
            "epochs": None if cfg.arch.get("closed_form") else trainer.current_epoch,
            # the epoch whose weights were kept (1-based): how long it took to converge
            "best_epoch": None if cfg.arch.get("closed_form") or not best else epochs_done(best),
            "stopped_by": None if cfg.arch.get("closed_form") else stop_reason(trainer),
            "resumed_from_epoch": None if cfg.arch.get("closed_form") else resumed_after,
            "precision": None if cfg.arch.get("closed_form") else precision,
            "lr_rule": None if cfg.arch.get("closed_form") else cfg.get("lr_rule", "constant"),
            "fit": fit_info,
            "init": started_from or None,  # the closed-form map training started from, and what its fit chose
            "best_checkpoint": str(Path(best).relative_to(output_dir)) if best else None,
            "normalized": {"a": paired.source_manifest.get("normalized"), "b": paired.target_manifest.get("normalized")},
            "threads": torch.get_num_threads(),
            # host, device (the GPU a sweep's job claimed) and, under SLURM, the job: what produced these numbers
            "placement": placement(trainer.strategy.root_device),
            "seconds": round(time.perf_counter() - started, 2),
        },
    }
    split_table(paired).to_csv(output_dir / "split.csv", index=False)
    OmegaConf.save(cfg, output_dir / "config.yaml", resolve=True)
    bad = non_finite(metrics)
    if bad:
        raise RunFailed(f"the run's {bad} is not a finite number: its results are not trustworthy")
    write_json(output_dir / "metrics.json", metrics)  # last: its presence means the run finished
    resume_path(output_dir).unlink(missing_ok=True)  # a finished run is never resumed
    floor, lstsq = metrics["baselines"]["mean_vector"], metrics["baselines"]["lstsq"]
    log.info("%s: test MSE %.6f (lstsq %.6f, mean vector %.6f), cosine %.4f (lstsq %.4f, mean vector %.4f); in %s",
             cfg.arch.name, metrics["test/mse"], lstsq["test/mse"], floor["test/mse"], metrics["test/cosine"],
             lstsq["test/cosine"], floor["test/cosine"], output_dir)
    return metrics


def finish_wandb() -> None:
    """Close this run's W&B run: joblib reuses worker processes (and arch=auto trains several runs in one),
    and an open run would swallow the next one's."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None:
        wandb.finish()


def validation_scores(module: TranslatorModule, search: ValidationSearch | None) -> dict | None:
    """The kept weights' validation nDCG@k: what the analysis selects translators by."""
    if search is None:
        return None
    return {f"ndcg@{search.k}": search.ndcg(module.eval().to("cpu"), "cpu")}  # as translate() runs it


def resume_point(output_dir: Path) -> tuple[str | None, int | None]:
    """The resume point an interrupted attempt of this very run left (job.py keeps it only then) and
    the epochs it had done, or (None, None)."""
    path = resume_path(output_dir)
    if not path.exists():
        return None, None
    done = epochs_done(str(path))
    log.info("resuming the interrupted run after epoch %s from %s", done, path)
    return str(path), done


def epochs_done(path: str | None) -> int | None:
    """How many epochs a checkpoint's weights had trained (it records its 0-based epoch): for a resume
    point, the epochs a resumed run skips; for the best checkpoint, the epoch it was taken at."""
    if path is None:
        return None
    try:
        return int(torch.load(path, map_location="cpu", weights_only=False, mmap=True)["epoch"]) + 1
    except (OSError, KeyError, RuntimeError, ValueError):
        return None


def stop_reason(trainer: pl.Trainer) -> str:
    """Why fitting ended: early stopping (converged by its rule), the epoch limit, or the time budget
    (trainer.max_time): the last two are not convergence, and the report says so."""
    stopping = trainer.early_stopping_callback
    if stopping is not None and stopping.stopped_epoch > 0:
        return "early stopping"
    timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)
    if timer is not None and (timer.time_remaining("train") or 0) <= 0:
        return "time budget"
    if trainer.max_epochs is not None and trainer.max_epochs >= 0 and trainer.current_epoch >= trainer.max_epochs:
        return "epoch limit"
    return "stopped"


def baselines(cfg: DictConfig, train_pairs, val_pairs, test_pairs) -> dict:
    """The references of metrics.json, fitted once per pair and split: every job of a sweep over one
    pair reads the scores the first one stored (keyed by a hash of the vectors and the maps' configs)."""
    splits = (train_pairs.source, train_pairs.target, val_pairs.source, val_pairs.target, test_pairs.source,
              test_pairs.target)
    configs = OmegaConf.to_container(cfg.closed_form, resolve=True)
    key = content_hash(*(t.numpy() for t in splits), extra=configs)
    in_dim, out_dim = train_pairs.source.shape[1], train_pairs.target.shape[1]
    return cached_json(Path(cfg.paths.log_dir) / "train" / "baselines" / f"{key}.json", key,
                       lambda: baseline_scores(*splits, closed_form_maps(cfg.closed_form, in_dim, out_dim)))


def best_score(trainer: pl.Trainer) -> float | None:
    """The kept checkpoint's value of the monitored metric (None without a checkpoint callback)."""
    callback = trainer.checkpoint_callback
    score = callback.best_model_score if callback is not None else None
    return None if score is None else float(score)


def check_training(trainer: pl.Trainer, untrained: float, metric: str = "val/mse", mode: str = "min") -> None:
    """A run that trained no epoch, or whose best monitored validation score is no better than the untrained
    translator's (the loss blew up from the first steps), is a failed run, not a result. A smoke run
    (debug=fdr: one batch, no checkpoint, nothing logged) has nothing to judge by."""
    if trainer.fast_dev_run:
        return
    if trainer.current_epoch == 0:
        raise RunFailed("training ended before its first epoch finished: nothing was learned; "
                        "raise trainer.max_epochs (or the time budget)")
    best = best_score(trainer)
    if best is None:
        best = trainer.callback_metrics.get(metric)
    best = float(best) if best is not None else math.nan
    name = "validation MSE" if metric == "val/mse" else f"validation {metric.removeprefix('val/')}"
    if not math.isfinite(best):
        raise RunFailed(f"training diverged: the {name} became {best}; lower optimizer.lr")
    if best >= untrained if mode == "min" else best <= untrained:
        blew_up = best > 10 * untrained if mode == "min" else False
        verdict = "diverged" if blew_up else "did not improve"
        raise RunFailed(f"training {verdict}: the best {name}, {best:.4g}, is no better than the untrained "
                        f"translator's {untrained:.4g}; "
                        + ("lower optimizer.lr" if verdict == "diverged" else "check optimizer.lr and the data"))


def check_result(module: TranslatorModule, tested: dict, translated: np.ndarray) -> None:
    """Non-finite weights, test scores or translated vectors make a failed run."""
    if not all(torch.isfinite(p).all() for p in module.parameters()):
        raise RunFailed("the translator's weights hold NaN or infinite values: training diverged; lower optimizer.lr")
    bad = [key for key in ("test/mse", "test/cosine") if not math.isfinite(tested[key])]
    if bad or not np.isfinite(translated).all():
        what = f"{bad[0]} is {tested[bad[0]]}" if bad else "the translated test vectors are not all finite"
        raise RunFailed(f"{what}: training diverged or the data holds non-finite values; lower optimizer.lr")


@torch.no_grad()
def mean_squared_error(module: TranslatorModule, source: torch.Tensor, target: torch.Tensor, batch_size: int) -> float:
    was_training = module.training
    predicted = torch.from_numpy(translate(module, source, batch_size))
    module.train(was_training)  # Lightning leaves the mode as it finds it
    return float(torch.nn.functional.mse_loss(predicted.double(), target.double()))


@torch.no_grad()
def translate(module: TranslatorModule, source: torch.Tensor, batch_size: int) -> np.ndarray:
    module.eval().to("cpu")
    return torch.cat([module(source[i:i + batch_size]) for i in range(0, len(source), batch_size)]).numpy()


def save_translated(output_dir: Path, vectors: np.ndarray, ids: np.ndarray) -> None:
    """The translated test vectors, row i for the text ids[i] (the test rows of split.csv, in order)."""
    folder = output_dir / "translated"
    folder.mkdir(exist_ok=True)
    np.save(folder / "test.npy", vectors.astype(np.float32))
    (folder / "test_ids.txt").write_text("\n".join(map(str, ids)) + "\n")
