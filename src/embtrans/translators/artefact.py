"""A translator as a small folder any program can load, with no Hydra and no run directory:

    weights.safetensors   the net's weights and buffers
    translator.json       how to rebuild the net (its class and arguments), the two models (name, dim,
                          prefixes, whether their vectors are L2-normalised), where it came from

    from embtrans.translators.artefact import Translator
    translator = Translator.load("exports/minilm-to-mpnet")
    vectors_b = translator.translate(vectors_a)      # numpy in, numpy out; a tensor gives a tensor

Loading builds the net from the class named in translator.json (one of this project's translator
modules, never an arbitrary import) and refuses vectors of the wrong dimension in one line.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from embtrans.errors import UserError

FORMAT = 1
WEIGHTS, INFO = "weights.safetensors", "translator.json"
# Only this project's translators are rebuilt from a translator.json.
ALLOWED_MODULE = "embtrans.translators."


class Translator:
    def __init__(self, net: nn.Module, info: dict[str, Any]) -> None:
        self.net = net.eval().float()
        self.info = info

    @property
    def in_dim(self) -> int:
        return int(self.info["model_a"]["dim"])

    @property
    def out_dim(self) -> int:
        return int(self.info["model_b"]["dim"])

    def __repr__(self) -> str:
        a, b = self.info["model_a"], self.info["model_b"]
        return f"Translator({a['name']} ({a['dim']}) -> {b['name']} ({b['dim']}), {self.info['net']['_target_']})"

    @torch.no_grad()
    def translate(self, vectors: np.ndarray | torch.Tensor, batch_size: int = 8192) -> np.ndarray | torch.Tensor:
        """Vectors of model A's space (rows) into model B's: an (n, d_B) array of the input's kind."""
        as_tensor = isinstance(vectors, torch.Tensor)
        source = vectors if as_tensor else torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        single = source.ndim == 1  # one vector in, one vector out
        if single:
            source = source[None]
        if source.ndim != 2 or source.shape[1] != self.in_dim:
            raise UserError(f"this translator takes {self.info['model_a']['name']}'s {self.in_dim}-dimensional "
                            f"vectors, not vectors of shape {tuple(vectors.shape)}: embed with "
                            f"{self.info['model_a']['name']}, or use a translator made for your model")
        device = next(iter(self.net.parameters()), torch.empty(0)).device
        parts = [self.net(source[i:i + batch_size].to(device, torch.float32)) for i in range(0, len(source), batch_size)]
        out = torch.cat(parts) if parts else torch.empty(0, self.out_dim)
        result = out.to(source.device) if as_tensor else out.cpu().numpy()
        return result[0] if single else result

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {name: tensor.detach().cpu().contiguous() for name, tensor in self.net.state_dict().items()}
        save_file(state, str(path / WEIGHTS))
        (path / INFO).write_text(json.dumps({"format": FORMAT, **self.info}, indent=2, default=str) + "\n")
        return path

    @classmethod
    def load(cls, path: Path | str) -> Translator:
        path = Path(path)
        if not (path / INFO).is_file() or not (path / WEIGHTS).is_file():
            raise UserError(f"{path} is not a translator: it needs {INFO} and {WEIGHTS} (made by "
                            "python migrate.py ... export_dir=<folder>, or Translator.save)")
        try:
            info = json.loads((path / INFO).read_text())
            if info.get("format") != FORMAT:
                raise UserError(f"{path / INFO} has format {info.get('format')!r}; this code reads format {FORMAT}")
            net = build_net(info["net"], int(info["model_a"]["dim"]), int(info["model_b"]["dim"]))
            net.load_state_dict(load_file(str(path / WEIGHTS)))
        except (KeyError, ValueError, RuntimeError, OSError, SafetensorError) as error:
            raise UserError(f"{path} holds a damaged translator ({type(error).__name__}: "
                            f"{str(error).splitlines()[0][:200]}): export it again") from None
        return cls(net, {k: v for k, v in info.items() if k != "format"})

    @classmethod
    def from_run(cls, run_dir: Path | str) -> Translator:
        """The translator a finished training run kept (its best checkpoint), with its run's facts."""
        run_dir = Path(run_dir)
        metrics_path, config_path = run_dir / "metrics.json", run_dir / "config.yaml"
        if not metrics_path.is_file():
            raise UserError(f"{run_dir} is not a finished run (it has no metrics.json): "
                            "point run_dir at a folder python train.py finished")
        try:
            metrics = json.loads(metrics_path.read_text())
            run = metrics["run"]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
            raise UserError(f"{metrics_path} is damaged ({type(error).__name__}): train the run again") from None
        # A job that reused an identical run records it as metrics.json's reused_from, relative to the job.
        if reused := metrics.get("reused_from") or run.get("reused_from"):
            return cls.from_run(Path(os.path.normpath(run_dir / reused)))
        if not config_path.is_file():
            raise UserError(f"{run_dir} is not a finished run (it has no config.yaml): "
                            "point run_dir at a folder python train.py finished")
        config = OmegaConf.to_container(OmegaConf.load(config_path), resolve=False)
        net_config = run_net_config(config, run)
        checkpoint = run_dir / (run.get("best_checkpoint") or "checkpoints/best.ckpt")
        if not checkpoint.is_file():
            raise UserError(f"{run_dir} has no kept checkpoint ({checkpoint.name} is missing): train the run again")
        net = build_net(net_config, run["dims"]["a"], run["dims"]["b"])
        try:
            state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
            net.load_state_dict({k.removeprefix("net."): v for k, v in state.items() if k.startswith("net.")})
        except (RuntimeError, OSError, EOFError, KeyError, TypeError, pickle.UnpicklingError) as error:
            raise UserError(f"{checkpoint} is damaged ({type(error).__name__}: {str(error).splitlines()[0][:160]}): "
                            "train the run again") from None
        info = {
            "net": net_config,
            "model_a": model_facts(config["model_a"], run["dims"]["a"], run.get("normalized", {}).get("a")),
            "model_b": model_facts(config["model_b"], run["dims"]["b"], run.get("normalized", {}).get("b")),
            "source": {"run_dir": str(run_dir), "fingerprint": run.get("fingerprint"), "arch": run["arch"],
                       "loss": run.get("loss"), "seed": run.get("seed"), "dataset": run.get("dataset"),
                       "test/mse": metrics.get("test/mse")},
        }
        return cls(net, info)


def run_net_config(config: dict, run: dict) -> dict:
    """The net a finished run kept, from its config.yaml: the arch's own, or for arch=auto the chosen
    candidate's (metrics.json's run.auto.chosen names it in arch.menu); {} for a config without one."""
    if chosen := (run.get("auto") or {}).get("chosen"):
        return dict(config["arch"]["menu"][chosen]["arch"]["net"])
    return dict(config["arch"].get("net") or {})


def build_net(net_config: dict, in_dim: int, out_dim: int) -> nn.Module:
    """The translator module named by ``_target_``, built with the config's arguments (no Hydra)."""
    # Runs and exports from before the package was renamed name their classes src.translators.<...>.
    target = str(net_config["_target_"])
    if target.startswith("src.translators."):
        target = ALLOWED_MODULE + target.removeprefix("src.translators.")
    module_name, _, class_name = target.rpartition(".")
    if not module_name.startswith(ALLOWED_MODULE):
        raise UserError(f"the translator's class {target!r} is not one of this project's translators")
    kwargs = {k: v for k, v in net_config.items() if not k.startswith("_")}
    return getattr(importlib.import_module(module_name), class_name)(in_dim=in_dim, out_dim=out_dim, **kwargs)


def model_facts(model_config: dict, dim: int, normalized: bool | None) -> dict:
    encoder = model_config.get("encoder") or {}
    return {"name": model_config["name"], "dim": int(dim), "normalized": normalized,
            "query_prefix": encoder.get("query_prefix", ""), "passage_prefix": encoder.get("passage_prefix", "")}
