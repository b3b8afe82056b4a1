"""Numeric settings a user is likely to mistype, checked before any work.

Each rule names a dotted key, what kind of value it takes and what is allowed; a key that is not in
the config (another optimiser, no scheduler) is not checked. A wrong value is one line naming the
key, the value and what is allowed (a UserError, so exit 2), never a traceback from deep inside
torch or Lightning an hour later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

from omegaconf import DictConfig, ListConfig, OmegaConf

from embtrans.errors import UserError


@dataclass(frozen=True)
class Rule:
    key: str
    whole: bool  # a whole number, or any finite number
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself not allowed
    high_open: bool = False
    nullable: bool = False
    each: bool = False  # the key holds a list, and the rule applies to each element
    also: tuple = ()  # (value, meaning) pairs also allowed, such as Lightning's -1: no limit

    def allowed(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '≥'} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'<' if self.high_open else '≤'} {self.high:g}")
        text = f"{kind} {' and '.join(bounds)}".strip()
        for value, meaning in self.also:
            text += f" (or {value}: {meaning})"
        if self.nullable:
            text += " or null"
        return ("a list of " + text.replace("a whole number", "whole numbers").replace("a number", "numbers")
                if self.each else text)

    def accepts(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, Real):
            return False
        if self.whole and not isinstance(value, Integral):
            return False
        if not math.isfinite(value):
            return False
        if value in dict(self.also):
            return True
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (self.high is not None and (value > self.high or (self.high_open and value == self.high)))


TRAIN_RULES = [
    Rule("seed", whole=True, low=0),
    Rule("width", whole=True, low=1),
    Rule("threads", whole=True, low=1, nullable=True),
    Rule("optimizer.lr", whole=False, low=0, low_open=True),
    Rule("optimizer.weight_decay", whole=False, low=0),
    Rule("scheduler.factor", whole=False, low=0, high=1, low_open=True, high_open=True),
    Rule("scheduler.patience", whole=True, low=0),
    Rule("data.batch_size", whole=True, low=1),
    Rule("data.eval_batch_size", whole=True, low=1),
    Rule("dataset.limit", whole=True, low=1, nullable=True),
    Rule("dataset.test_fraction", whole=False, low=0, high=1, low_open=True, high_open=True),
    Rule("dataset.val_fraction", whole=False, low=0, high=1, low_open=True, high_open=True),
    Rule("dataset.split_seed", whole=True, low=0),
    Rule("trainer.max_epochs", whole=True, low=1, also=((-1, "no limit, early stopping decides"),)),
    Rule("trainer.min_epochs", whole=True, low=0),
    Rule("callbacks.early_stopping.patience", whole=True, low=0),
    Rule("callbacks.early_stopping.min_delta", whole=False, low=0),
    Rule("arch.net.dropout", whole=False, low=0, high=1, high_open=True),
    Rule("arch.net.alphas", whole=False, low=0, each=True),
]

ANALYZE_RULES = [
    Rule("threads", whole=True, low=1, nullable=True),
    Rule("metrics.knn_ks", whole=True, low=1, each=True),
    Rule("metrics.rbo_p", whole=False, low=0, high=1, low_open=True, high_open=True),
    Rule("metrics.cka.n_permutations", whole=True, low=0),
    Rule("metrics.cka.max_samples", whole=True, low=4),
    Rule("metrics.cka.rbf_sigma_fraction", whole=False, low=0, low_open=True),
    Rule("metrics.matching_top_ks", whole=True, low=1, each=True),
    Rule("retrieval.k", whole=True, low=1),
    Rule("retrieval.examples", whole=True, low=0),
    Rule("figures.kernel_sample", whole=True, low=2),
    Rule("figures.umap.n_neighbors", whole=True, low=2),
    Rule("figures.umap.min_dist", whole=False, low=0),
    Rule("report.examples_per_pair", whole=True, low=0),
    Rule("intervals.level", whole=False, low=0, high=1, low_open=True, high_open=True),
    Rule("intervals.replicates", whole=True, low=100),
    Rule("intervals.seed", whole=True, low=0),
    Rule("figures.run_seed", whole=True, low=0, nullable=True),
]

MIGRATE_RULES = [
    Rule("batch_size", whole=True, low=1),
    Rule("chroma.port", whole=True, low=1, high=65535),
    Rule("calibration.size", whole=True, low=2),
    Rule("calibration.held_out", whole=False, low=0, high=1, low_open=True, high_open=True),
    Rule("calibration.seed", whole=True, low=0),
    Rule("calibration.min_texts", whole=True, low=1),
    Rule("gate.min_top1", whole=False, low=0, high=1, nullable=True),
    Rule("gate.min_cosine", whole=False, low=-1, high=1, nullable=True),
    Rule("gate.min_retention", whole=False, low=0, nullable=True),
    Rule("gate.level", whole=False, low=0, high=1, low_open=True, high_open=True),
    Rule("gate.replicates", whole=True, low=100),
]

MISSING = object()


def check(cfg: DictConfig, rules: list[Rule]) -> None:
    """Raise a UserError naming the first key whose value breaks its rule."""
    for rule in rules:
        value = OmegaConf.select(cfg, rule.key, default=MISSING, throw_on_missing=False)
        if value is MISSING or (value is None and rule.nullable):
            continue
        if rule.each:
            values = list(value) if isinstance(value, (ListConfig, list, tuple)) else None
            good = bool(values) and all(rule.accepts(v) for v in values)
            shown = OmegaConf.to_container(value) if isinstance(value, ListConfig) else value
        else:
            good, shown = rule.accepts(value), value
        if not good:
            raise UserError(f"{rule.key}={shown!r} is not allowed: it must be {rule.allowed()}")
    min_epochs, max_epochs = OmegaConf.select(cfg, "trainer.min_epochs"), OmegaConf.select(cfg, "trainer.max_epochs")
    if isinstance(min_epochs, int) and isinstance(max_epochs, int) and max_epochs > 0 and min_epochs > max_epochs:
        raise UserError(f"trainer.min_epochs={min_epochs} is more than trainer.max_epochs={max_epochs}: "
                        "lower trainer.min_epochs or raise trainer.max_epochs")
