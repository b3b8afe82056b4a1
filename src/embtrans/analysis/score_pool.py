"""The vector scores of a pair's translators (k-NN, CKA, matching, MSE), computed on every core.

They are most of an analysis' time (~2.5 s per translator on 3,218 test texts) and depend only on
the vectors, so worker processes compute them, one thread each, while the main process writes and
queries Chroma (whose embedded store must stay in one process). With one worker they run inline.
The scores are the same functions on the same inputs either way.
"""

from __future__ import annotations

import os
from concurrent.futures import Future

import numpy as np
import torch
from omegaconf import DictConfig

from embtrans.analysis.scoring import translation_scores
from embtrans.errors import UserError


def worker_count(setting: int | str | None) -> int:
    """score_workers: a number, or auto / null for one per core."""
    if setting in (None, "auto"):
        return os.cpu_count() or 1
    whole = (isinstance(setting, int) and not isinstance(setting, bool)) or (isinstance(setting, str) and setting.isdigit())
    count = int(setting) if whole else 0
    if count < 1:
        raise UserError(f"score_workers={setting} must be a whole number >= 1, or auto")
    return count


def scores_on_one_thread(native: np.ndarray, translated: np.ndarray, settings: DictConfig) -> tuple[dict, dict]:
    """translation_scores on one thread, in a worker or inline: the workers share the cores, and a
    float32 sum's last bits depend on how many threads added it up, so the scores do not depend on
    the machine's core count or on score_workers."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return translation_scores(native, translated, settings)
    finally:
        torch.set_num_threads(before)


class ScorePool:
    """submit() starts a translator's scores in a worker; with one worker it returns None, and the
    caller computes them inline with scores_on_one_thread."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor = None

    def submit(self, native: np.ndarray, translated: np.ndarray, settings: DictConfig) -> Future | None:
        if self.workers < 2:
            return None
        if self._executor is None:
            from joblib.externals.loky import get_reusable_executor

            self._executor = get_reusable_executor(max_workers=self.workers, timeout=60,
                                                   env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
        return self._executor.submit(scores_on_one_thread, native, translated, settings)
