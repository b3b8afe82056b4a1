"""One training job: seed -> data -> translator -> Lightning fit -> test on the best checkpoint -> metrics.json."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.analysis.regression import mean_vector_scores
from src.data.datamodule import PairedEmbeddingDataModule
from src.data.paired import load_paired_embeddings, split_table
from src.translators.lit_module import TranslatorModule

log = logging.getLogger(__name__)


def instantiate_dict(node: DictConfig | None) -> list:
    """Callbacks and loggers are named entries, so `logger=none` or `callbacks=none` empties them."""
    return [instantiate(entry) for entry in (node or {}).values() if entry is not None]


def train(cfg: DictConfig) -> dict:
    started = time.perf_counter()
    output_dir = Path(cfg.paths.output_dir)
    if cfg.get("threads") is not None:
        torch.set_num_threads(int(cfg.threads))
    pl.seed_everything(cfg.seed, workers=True)

    paired = load_paired_embeddings(cfg, show_progress=cfg.data.show_progress)
    datamodule = PairedEmbeddingDataModule(paired, cfg.data.batch_size, cfg.data.eval_batch_size, cfg.seed)
    in_dim, out_dim = datamodule.dims
    net = instantiate(cfg.arch.net, in_dim=in_dim, out_dim=out_dim)
    module = TranslatorModule(net, instantiate(cfg.optimizer), instantiate(cfg.scheduler), loss=cfg.loss)
    loggers = instantiate_dict(cfg.get("logger"))
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=instantiate_dict(cfg.get("callbacks")), logger=loggers)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))

    trainer.fit(module, datamodule=datamodule)
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    tested = trainer.test(module, datamodule=datamodule, ckpt_path=best or None, verbose=False)[0]

    train_target = datamodule.pairs["train"].target
    test_target = datamodule.pairs["test"].target
    metrics = {
        "test/mse": tested["test/mse"],
        "test/cosine": tested["test/cosine"],
        "baselines": {"mean_vector": {f"test/{k}": v for k, v in mean_vector_scores(train_target, test_target).items()}},
        "run": {
            "dataset": cfg.dataset.name,
            "model_a": cfg.model_a.name,
            "model_b": cfg.model_b.name,
            "arch": cfg.arch.name,
            "dims": {"a": in_dim, "b": out_dim},
            "parameters": sum(p.numel() for p in net.parameters()),
            "seed": cfg.seed,
            "split_sizes": paired.split_sizes(),
            "epochs": trainer.current_epoch,
            "best_checkpoint": str(Path(best).relative_to(output_dir)) if best else None,
            "normalized": {"a": paired.source_manifest.get("normalized"), "b": paired.target_manifest.get("normalized")},
            "seconds": round(time.perf_counter() - started, 2),
        },
    }
    split_table(paired).to_csv(output_dir / "split.csv", index=False)
    OmegaConf.save(cfg, output_dir / "config.yaml", resolve=True)
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    log.info("test MSE %.6f (mean-vector baseline %.6f), test cosine %.4f (baseline %.4f); written to %s",
             metrics["test/mse"], metrics["baselines"]["mean_vector"]["test/mse"], metrics["test/cosine"],
             metrics["baselines"]["mean_vector"]["test/cosine"], output_dir)
    return metrics
