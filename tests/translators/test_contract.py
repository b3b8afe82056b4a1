"""Every arch option builds a net that keeps the translator contract (translators/contract.py): closed forms,
and only they, can be fitted."""

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from embtrans.paths import CONFIG_DIR
from embtrans.translators.contract import ClosedFormTranslator, TranslatorNet

ARCHS = sorted(p.stem for p in (Path(CONFIG_DIR) / "arch").glob("*.yaml"))


@pytest.mark.parametrize("name", ARCHS)
def test_every_arch_keeps_the_contract(name, compose_train):
    cfg = compose_train(f"arch={name}")
    # arch=auto and its kin hold no net of their own: each candidate of their menu keeps the contract
    archs = [entry.arch for entry in cfg.arch.menu.values()] if cfg.arch.get("menu") else [cfg.arch]
    for arch in archs:
        net = instantiate(arch.net, in_dim=6, out_dim=4)
        assert isinstance(net, TranslatorNet)
        assert isinstance(net, ClosedFormTranslator) == bool(arch.get("closed_form", False)), (name, arch.name)
        if not arch.get("closed_form", False):
            assert net(torch.zeros(3, 6)).shape == (3, 4)
