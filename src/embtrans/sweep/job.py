"""One job of a sweep around train(): reuse a finished twin, record a failure, always close W&B."""

from __future__ import annotations

import copy
import logging
import math
import os
import shutil
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from embtrans.config_checks import TRAIN_RULES, check
from embtrans.data.paired import train_pairs_setting
from embtrans.errors import user_facing
from embtrans.paths import in_multirun
from embtrans.run_files import DamagedFile, read_metrics, reused_run, write_json
from embtrans.sweep.environment import set_project_env
from embtrans.sweep.faults import describe_fault
from embtrans.sweep.gpu_claim import claimed_device
from embtrans.sweep.orphan_guard import exit_when_orphaned
from embtrans.sweep.run_index import RunIndex, run_fingerprint, seed_matters
from embtrans.training.auto import train_auto
from embtrans.training.placement import slurm_job
from embtrans.training.resume import resume_path
from embtrans.training.run import finish_wandb, train

log = logging.getLogger(__name__)

# Sweep workers import this module to run a job: they need the same resolvers as the main process.
set_project_env()

# What an interrupted or failed attempt leaves in a job folder; cleared before the job trains again
# there, so the new attempt's checkpoint is best.ckpt and not best-v1.ckpt beside a stale one. An
# interrupted attempt's checkpoints stay when it left a resume point (checkpoints/last.ckpt): the
# run goes on from there.
ATTEMPT_FILES = ("failed.json", "checkpoints", "translated",
                 "skipped.json")  # a job once cut, now run (the cut lifted): no longer skipped


def run_job(cfg: DictConfig) -> float:
    """Train unless this exact run is already done; return test MSE (NaN for a skipped or failed job).

    In a sweep a failure is written to ``failed.json`` and the other jobs go on; the sweep's
    summary lists it. Outside a sweep it is raised.
    """
    output_dir = Path(cfg.paths.output_dir)
    if in_multirun():
        exit_when_orphaned()
    try:
        check(cfg, TRAIN_RULES)
        if cfg.model_a.name == cfg.model_b.name and cfg.get("skip_same_model"):
            return skip(output_dir, f"model_a and model_b are both {cfg.model_a.name!r}")
        index = RunIndex(Path(cfg.paths.log_dir) / "train" / "index")
        return run_once(cfg, index, run_fingerprint(cfg))
    except Exception as error:
        shown = user_facing(error)
        try:
            write_json(output_dir / "failed.json", {
                "error": type(shown or error).__name__,
                "message": str(shown or error),
                "traceback": None if shown else traceback.format_exc(),
            })
            details = f"details in {output_dir / 'failed.json'}"
        except OSError as unwritable:  # the fault itself may be the disk: say so, and let the sweep go on
            details = f"and failed.json could not be written: {describe_fault(unwritable, output_dir)}"
        if not in_multirun():
            raise
        log.error("job failed: %s (%s)", shown or describe_fault(error, output_dir), details)
        return math.nan
    finally:
        finish_wandb()


def run_once(cfg: DictConfig, index: RunIndex, fingerprint: str) -> float:
    """This folder's finished result, else a twin's (reused), else the cut's skip, else a new run: its test MSE."""
    output_dir = Path(cfg.paths.output_dir)
    with index.claim(fingerprint):
        # This folder's own finished result comes first, wherever the sweep was copied or moved:
        # the index is a cache of what is on disk, never the authority over it.
        resume = cfg.get("resume", True)
        done_here, done_metrics = finished_in(output_dir, fingerprint) if resume else (None, None)
        if done_here is not None:
            log.info("%s is already done in %s: nothing to train or write", cfg.arch.name, done_here)
            if done_here == output_dir and index.finished_run(fingerprint) is None:
                index.record(fingerprint, output_dir)  # the index forgot it (moved, or a fresh log dir)
            return done_metrics["test/mse"]
        earlier = index.finished_run(fingerprint) if resume else None
        # The cut saves training time: a run already finished (here or elsewhere) is still a result.
        if earlier is None and (reason := cut_reason(cfg)) is not None:
            return skip(output_dir, reason)
        # Only a job with no finished result of its own gets here: what it holds is an unfinished attempt.
        clear_attempt(output_dir, keep_resume_point=resume)
        if earlier is not None:
            return reuse(earlier, output_dir, cfg)
        with own_gpu(cfg) as cfg:
            if cfg.arch.get("menu"):
                metrics = train_auto(cfg, fingerprint=fingerprint,
                                     run_candidate=lambda child: run_candidate(child, index))
            else:
                metrics = train(cfg, fingerprint=fingerprint)
        index.record(fingerprint, output_dir)
    return metrics["test/mse"]


_held: list[int] = []  # the GPU this process's job holds: arch=auto's candidates train on it too


@contextmanager
def own_gpu(cfg: DictConfig) -> Iterator[DictConfig]:
    """In a sweep on a machine with several GPUs, the job trains on the one it claims (sweep/gpu_claim.py):
    ``cfg`` with trainer.devices set to it, for as long as the block runs. Else ``cfg`` as it is: also under a
    scheduler, which already gave the job its GPUs (CUDA_VISIBLE_DEVICES) and knows what other jobs hold."""
    count = torch.cuda.device_count() if str(cfg.trainer.accelerator) in ("auto", "gpu", "cuda") else 0
    if count <= 1 or not in_multirun() or slurm_job() is not None:
        yield cfg
        return
    if _held:
        yield on_device(cfg, _held[-1])
        return
    with claimed_device(Path(HydraConfig.get().sweep.dir), count) as device:
        log.info("training on GPU %d of %d (the least loaded by this sweep's running jobs)", device, count)
        _held.append(device)
        try:
            yield on_device(cfg, device)
        finally:
            _held.pop()


def on_device(cfg: DictConfig, device: int) -> DictConfig:
    cfg = copy.deepcopy(cfg)  # the caller's config stays as it was
    with open_dict(cfg):
        cfg.trainer.devices = [device]
    return cfg


def run_candidate(cfg: DictConfig, index: RunIndex) -> Path:
    """One candidate of arch=auto, run as a job of its own would be (so a sweep holding arch=auto beside
    arch=orthogonal trains that translator once): the folder that holds its finished run."""
    fingerprint = run_fingerprint(cfg)
    run_once(cfg, index, fingerprint)
    return finished_in(Path(cfg.paths.output_dir), fingerprint)[0]


def skip(output_dir: Path, reason: str) -> float:
    if not (output_dir / "skipped.json").exists():  # a re-run in place rewrites nothing
        write_json(output_dir / "skipped.json", {"reason": reason})
    log.info("skipping: %s", reason)
    return math.nan


def cut_reason(cfg: DictConfig) -> str | None:
    """Why the sweep's cut leaves this job out; None: it runs. Two cuts, both for the translators it names
    (cut.archs; null: those that use width, the MLPs): at one of cut.widths, only the seeds in cut.seeds run;
    and fitted on more paired texts than cut.train_pairs_above (every training text, train_pairs null, counts
    as more), none runs."""
    cut = cfg.get("cut") or {}
    archs = cut.get("archs")
    if not (cfg.arch.get("uses_width", True) if archs is None else cfg.arch.name in archs):
        return None
    if cut.get("seeds") is not None and cfg.width in cut.get("widths", []) and cfg.seed not in cut.seeds:
        seeds = ", ".join(map(str, cut.seeds)) or "none"
        what = f"width {cfg.width}" if cfg.arch.get("uses_width", True) else cfg.arch.name
        return f"cut: {what} runs only at seed(s) {seeds} (cut.seeds; this job's seed is {cfg.seed})"
    most, pairs = cut.get("train_pairs_above"), (cfg.get("dataset") or {}).get("train_pairs")
    if most is not None and (pairs is None or pairs > most):
        fitted = "every training text" if pairs is None else f"{pairs:,}"
        return (f"cut: {'width-using translators' if archs is None else ', '.join(archs)} fit on at most "
                f"{most:,} paired texts (cut.train_pairs_above; this job's is {fitted})")
    return None


def clear_attempt(output_dir: Path, keep_resume_point: bool = False) -> None:
    """Remove what an earlier, unfinished attempt left here (it is no result: a finished run would
    have been reused). With ``keep_resume_point``, an attempt that was interrupted (not failed) keeps
    its checkpoints, so training resumes from checkpoints/last.ckpt. The folder's name holds the run's
    fingerprint, so a resume point found here is of this very run."""
    interrupted = not (output_dir / "failed.json").exists() and resume_path(output_dir).exists()
    for name in ATTEMPT_FILES:
        if name == "checkpoints" and keep_resume_point and interrupted:
            continue
        path = output_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def finished_in(output_dir: Path, fingerprint: str) -> tuple[Path, dict] | tuple[None, None]:
    """The finished run this job's folder holds, with its metrics: the folder itself, when its metrics.json
    is a result of this fingerprint, or the run its reuse pointer names, while that run is still there and
    still this fingerprint's. (None, None) when it holds no finished result (a damaged file is logged)."""
    if not (output_dir / "metrics.json").exists():
        return None, None
    try:
        metrics = read_metrics(output_dir, "training the run again")
        reused = reused_run(output_dir, metrics)
        if reused is not None:
            if not (reused / "metrics.json").exists():
                return None, None
            metrics, output_dir = read_metrics(reused, "training the run again"), reused
    except DamagedFile as damaged:
        log.warning("%s", damaged)
        return None, None
    return (output_dir, metrics) if metrics["run"].get("fingerprint") == fingerprint else (None, None)


def reuse(earlier: Path, output_dir: Path, cfg: DictConfig) -> float:
    metrics = read_metrics(earlier)
    why = "the same run is already done"
    if not cfg.arch.get("uses_width", True):
        why += f" ({cfg.arch.name} does not depend on width, so every width is the same run)"
    if cfg.dataset.get("train_pairs") is not None and train_pairs_setting(cfg) is None:
        why += f" ({cfg.arch.name} reads no pairs, so dataset.train_pairs does not change it)"
    if not seed_matters(cfg):
        why += f" ({cfg.arch.name} is fitted in closed form, so every seed is the same run)"
    # Relative to this job's folder, so a sweep moved together with the run it reuses still finds it.
    metrics["reused_from"] = os.path.relpath(earlier.resolve(), output_dir.resolve())
    write_json(output_dir / "metrics.json", metrics)
    log.info("not training %s: %s; its results are in %s", cfg.arch.name, why, earlier)
    return metrics["test/mse"]


