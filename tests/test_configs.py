"""Every option of every config group under conf/ composes, passes the value checks and instantiates.

The options are found by listing conf/, so a new encoder, dataset, arch, optimiser, scheduler, trainer,
callbacks or logger file is composed and built here without editing this file.
"""

import inspect

import pytest
import torch
from hydra.utils import get_method, instantiate

from embtrans.config_checks import TRAIN_RULES, check
from embtrans.paths import ROOT
from embtrans.training.run import instantiate_dict

CONF = ROOT / "conf"
# conf/encoder is offered as model_a and model_b (links to it); conf/hydra belongs to Hydra's own node.
AS_GROUP = {"encoder": None, "hydra": None}


def options():
    for folder in sorted(p for p in CONF.iterdir() if p.is_dir() and not p.is_symlink()):
        group = AS_GROUP.get(folder.name, folder.name)
        for option in sorted(folder.glob("*.yaml")):
            if folder.name == "encoder":
                yield from (("model_a", option.stem), ("model_b", option.stem))
            elif group is not None:
                yield group, option.stem


def override(group: str, option: str) -> list[str]:
    if group == "sweep":  # presets are added, not chosen: +sweep=all_pairs
        return [f"+sweep={option}"]
    # the other model of the pair must differ, or loading the data refuses the pair
    other = {"model_a": "model_b=minilm" if option != "minilm" else "model_b=mpnet",
             "model_b": "model_a=mpnet" if option != "mpnet" else "model_a=minilm"}.get(group)
    return [f"{group}={option}", *([other] if other else [])]


def binds(node) -> None:
    """The target exists and accepts the configured keys (for objects too costly or online to build)."""
    target = get_method(node._target_)
    kwargs = {k: v for k, v in node.items() if not k.startswith("_")}
    inspect.signature(target).bind_partial(**kwargs)


@pytest.mark.parametrize("group, option", list(options()))
def test_every_option_composes_and_instantiates(compose_train, group, option):
    cfg = compose_train(*override(group, option))
    check(cfg, TRAIN_RULES)
    assert group not in ("model_a", "model_b") or cfg[group].name == option
    for side in ("model_a", "model_b"):
        encoder = instantiate(cfg[side].encoder)  # lazy: weights load at the first encode
        assert encoder.dim == cfg[side].dim
    binds(cfg.dataset.loader)
    # arch=auto has no net of its own: a menu of them
    for net_config in [entry.arch.net for entry in cfg.arch.menu.values()] if cfg.arch.get("menu") else [cfg.arch.net]:
        net = instantiate(net_config, in_dim=8, out_dim=6)
        assert net(torch.zeros(3, 8)).shape == (3, 6)
    for name, closed_form in cfg.closed_form.items():
        assert instantiate(closed_form.net, in_dim=8, out_dim=6).map.out_features == 6, name
    optimizer = instantiate(cfg.optimizer)(params=net.parameters())
    if cfg.scheduler is not None:
        factory = instantiate(cfg.scheduler)
        # a schedule over the training length is told the optimizer steps per epoch, as TranslatorModule does
        length = {"steps_per_epoch": 10} if "steps_per_epoch" in inspect.signature(factory).parameters else {}
        factory(optimizer=optimizer, **length)
    instantiate(cfg.trainer, callbacks=instantiate_dict(cfg.get("callbacks")), logger=instantiate_dict(cfg.get("logger")))


def test_the_analysis_defaults_pass_their_checks():
    from embtrans.config_checks import ANALYZE_RULES
    from tests.tiny_sweep import compose_analyze

    cfg = compose_analyze()
    check(cfg, ANALYZE_RULES)
    assert set(cfg.baselines) <= set(cfg.closed_form)


@pytest.mark.parametrize("name", ["lstsq", "procrustes", "orthogonal", "linear_retrieval"])
def test_each_auto_candidate_is_the_run_its_own_arch_file_makes(compose_train, name):
    """arch=auto's menu repeats what arch=<name> sets (its arch, loss and monitor): the two must not drift."""
    from omegaconf import OmegaConf

    from embtrans.training.auto import candidate_config

    auto, alone = compose_train("arch=auto"), compose_train(f"arch={name}")
    candidate = candidate_config(auto, name, ROOT / "unused")
    assert candidate.loss == alone.loss
    for key in ("arch", "monitor"):
        assert OmegaConf.to_container(candidate[key], resolve=True) == OmegaConf.to_container(alone[key], resolve=True)
