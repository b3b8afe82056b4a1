"""One training job: seed -> data -> translator -> fit (Lightning, or closed form) -> test -> metrics.json."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.cli import in_multirun
from src.data.datamodule import PairedEmbeddingDataModule
from src.data.paired import load_paired_embeddings, split_table
from src.translators.baselines import baseline_scores
from src.translators.lit_module import TranslatorModule

log = logging.getLogger(__name__)


def instantiate_dict(node: DictConfig | None) -> list:
    """Callbacks and loggers are named entries, so `logger=none` or `callbacks=none` empties them."""
    return [instantiate(entry) for entry in (node or {}).values() if entry is not None]


def sweep_launcher() -> DictConfig | None:
    return HydraConfig.get().launcher if in_multirun() else None


def thread_count(cfg: DictConfig) -> int | None:
    """Parallel jobs share the cores: each gets cores / n_jobs threads unless `threads` says otherwise."""
    if cfg.get("threads") is not None:
        return int(cfg.threads)
    launcher = sweep_launcher()
    n_jobs = launcher.get("n_jobs") if launcher is not None else None
    if n_jobs:
        return max(1, (os.cpu_count() or 1) // (n_jobs if n_jobs > 0 else os.cpu_count() or 1))
    return None


def build_trainer(cfg: DictConfig) -> pl.Trainer:
    overrides = {}
    # On a multi-GPU machine, jobs of a sweep take the GPUs in turn.
    if cfg.trainer.accelerator in ("auto", "gpu", "cuda") and torch.cuda.device_count() > 1 and sweep_launcher():
        overrides["devices"] = [HydraConfig.get().job.num % torch.cuda.device_count()]
    loggers = instantiate_dict(cfg.get("logger"))
    trainer = instantiate(cfg.trainer, callbacks=instantiate_dict(cfg.get("callbacks")), logger=loggers, **overrides)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    return trainer


def train(cfg: DictConfig, fingerprint: str | None = None) -> dict:
    started = time.perf_counter()
    output_dir = Path(cfg.paths.output_dir)
    threads = thread_count(cfg)
    if threads:
        torch.set_num_threads(threads)
    pl.seed_everything(cfg.seed, workers=True)

    paired = load_paired_embeddings(cfg, show_progress=cfg.data.show_progress)
    datamodule = PairedEmbeddingDataModule(paired, cfg.data.batch_size, cfg.data.eval_batch_size, cfg.seed)
    train_pairs, val_pairs, test_pairs = (datamodule.pairs[s] for s in ("train", "val", "test"))
    in_dim, out_dim = datamodule.dims
    net = instantiate(cfg.arch.net, in_dim=in_dim, out_dim=out_dim)
    module = TranslatorModule(net, instantiate(cfg.optimizer), instantiate(cfg.scheduler), loss=cfg.loss)
    trainer = build_trainer(cfg)

    fit_info = {}
    if cfg.arch.get("closed_form"):
        fit_info = net.fit(train_pairs.source, train_pairs.target, val_pairs.source, val_pairs.target)
        tested = trainer.test(module, datamodule=datamodule, verbose=False)[0]
        best = output_dir / "checkpoints" / "best.ckpt"
        trainer.save_checkpoint(best, weights_only=True)
    else:
        trainer.fit(module, datamodule=datamodule)
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        tested = trainer.test(module, datamodule=datamodule, ckpt_path=best or None, verbose=False)[0]

    translated = translate(module, test_pairs.source, cfg.data.eval_batch_size)
    save_translated(output_dir, translated, paired.dataset.texts["id"].to_numpy()[paired.rows("test")])
    metrics = {
        "test/mse": tested["test/mse"],
        "test/cosine": tested["test/cosine"],
        "baselines": baseline_scores(train_pairs.source, train_pairs.target, val_pairs.source, val_pairs.target,
                                     test_pairs.source, test_pairs.target),
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
            "loss": cfg.loss,
            "fingerprint": fingerprint,
            "split_sizes": paired.split_sizes(),
            "epochs": None if cfg.arch.get("closed_form") else trainer.current_epoch,
            "fit": fit_info,
            "best_checkpoint": str(Path(best).relative_to(output_dir)) if best else None,
            "normalized": {"a": paired.source_manifest.get("normalized"), "b": paired.target_manifest.get("normalized")},
            "threads": torch.get_num_threads(),
            "seconds": round(time.perf_counter() - started, 2),
        },
    }
    split_table(paired).to_csv(output_dir / "split.csv", index=False)
    OmegaConf.save(cfg, output_dir / "config.yaml", resolve=True)
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    floor, lstsq = metrics["baselines"]["mean_vector"], metrics["baselines"]["lstsq"]
    log.info("%s: test MSE %.6f (lstsq %.6f, mean vector %.6f), cosine %.4f (lstsq %.4f, mean vector %.4f); in %s",
             cfg.arch.name, metrics["test/mse"], lstsq["test/mse"], floor["test/mse"], metrics["test/cosine"],
             lstsq["test/cosine"], floor["test/cosine"], output_dir)
    return metrics


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
