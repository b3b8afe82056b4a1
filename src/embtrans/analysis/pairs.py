"""A model pair's texts and native vectors as its runs saw them, and the test vectors each translator made."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf, open_dict

from embtrans.analysis.identifiers import PairId
from embtrans.analysis.runs import Run
from embtrans.data.paired import UNUSED, PairedEmbeddings, load_paired_embeddings
from embtrans.errors import UserError
from embtrans.metrics.stitching import fit_classifier
from embtrans.run_files import DamagedFile
from embtrans.training.validation_search import validation_search
from embtrans.translators.baselines import closed_form_maps


def data_tag(run_cfg: DictConfig) -> str:
    """Names the embedding dataset's texts and split: two runs with one tag saw the same texts on the
    same sides of the split."""
    dataset = run_cfg.dataset
    split = json.dumps([dataset.get("limit"), dataset.test_fraction, dataset.val_fraction, dataset.split_seed,
                        OmegaConf.to_container(dataset.loader, resolve=True)], sort_keys=True, default=str)
    size = dataset.get("limit") or "all"
    return f"{dataset.name}-{size}-{hashlib.blake2b(split.encode(), digest_size=3).hexdigest()}"


def pair_id(run: Run) -> PairId:
    return PairId(data_tag(run.config), run.info["model_a"], run.info["model_b"])


@dataclass
class PairData:
    """Everything about one (dataset, model A, model B) that does not depend on the translator."""

    tag: str
    paired: PairedEmbeddings
    _closed_form: dict = field(default_factory=dict)
    _closed_form_validation: dict = field(default_factory=dict)
    _closed_form_maps: dict = field(default_factory=dict)  # the fitted maps, for vectors of another corpus
    _classifiers: dict = field(default_factory=dict)  # the stitching classifiers, by seed

    @cached_property
    def test_rows(self) -> np.ndarray:
        return self.paired.rows("test")

    @cached_property
    def test_texts(self) -> pd.DataFrame:
        """id, text, kind, label of the test texts, in the order of the translated vectors."""
        return self.paired.dataset.texts.iloc[self.test_rows].reset_index(drop=True)

    @cached_property
    def native_a(self) -> np.ndarray:
        return self.paired.source[self.test_rows]

    @cached_property
    def native_b(self) -> np.ndarray:
        return self.paired.target[self.test_rows]

    def stitching_classifiers(self, seed: int = 0):
        """(B's, A's) logistic regressions on the training split's native vectors and the texts' labels,
        fitted once per pair; None when the training texts carry fewer than two labels."""
        if seed not in self._classifiers:
            train = self.paired.rows("train")
            labels = self.paired.dataset.texts["label"].astype(str).to_numpy()[train]
            self._classifiers[seed] = (None if len(set(labels)) < 2 else
                                       (fit_classifier(self.paired.target[train], labels, seed),
                                        fit_classifier(self.paired.source[train], labels, seed)))
        return self._classifiers[seed]

    @cached_property
    def relevant(self) -> dict[str, set[str]]:
        """Test queries with their relevant test passages (queries whose passages are all elsewhere drop out)."""
        test_ids = set(self.test_texts["id"])
        pairs = {q: {p for p in passages if p in test_ids}
                 for q, passages in self.paired.dataset.relevance.items() if q in test_ids}
        return {q: ps for q, ps in pairs.items() if ps}

    def closed_form(self, name: str, config: DictConfig) -> np.ndarray:
        """Test vectors translated by a closed-form map (``config``: its conf/arch file) fitted here on
        the training split (lstsq picks its ridge strength on validation), so every pair has them
        whatever the sweep trained."""
        if name not in self._closed_form:
            x = {s: torch.from_numpy(self.paired.source[self.paired.rows(s)]).double() for s in ("train", "val")}
            y = {s: torch.from_numpy(self.paired.target[self.paired.rows(s)]).double() for s in ("train", "val")}
            translator = closed_form_maps({name: config}, x["train"].shape[1], y["train"].shape[1])[name].double()
            translator.fit(x["train"], y["train"], x["val"], y["val"])
            self._closed_form_maps[name] = translator
            with torch.no_grad():
                self._closed_form[name] = translator(torch.from_numpy(self.native_a).double()).float().numpy()
            search = self.validation_search
            self._closed_form_validation[name] = None if search is None else search.ndcg(
                lambda passages: translator(passages.double()))
        return self._closed_form[name]

    def closed_form_map(self, name: str, config: DictConfig):
        """The closed-form map fitted on this pair's training split, as a function of float32 tensors (the
        analysis' transfer applies it to another corpus' vectors)."""
        self.closed_form(name, config)
        translator = self._closed_form_maps[name]

        def apply(vectors: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return translator(vectors.double()).float()
        return apply

    @cached_property
    def validation_search(self):
        """The validation split's search, as every trained run scores its kept weights on it (None where that
        split has no query with a relevant passage): built once, for each closed form."""
        return validation_search(self.paired, None)

    def closed_form_validation(self, name: str, config: DictConfig) -> float | None:
        """The closed-form map's validation nDCG@10, scored as a trained run's kept weights are: what the
        analysis picks the closed form it singles out by, never the test split. None without validation queries."""
        self.closed_form(name, config)
        return self._closed_form_validation[name]


def load_pair(run: Run, embedding_cache_dir: str) -> PairData:
    """The run's texts and vectors, rebuilt from its saved config through the embedding cache (the
    analysis' cache directory replaces the one the run used, so a moved cache still works)."""
    cfg = run.config.copy()
    with open_dict(cfg):
        cfg.paths.embedding_cache_dir = embedding_cache_dir
        # The pair's references (closed forms, classifiers) fit on the whole training split, whatever
        # sample of it this run fitted on.
        cfg.dataset.train_pairs = None
    paired = load_paired_embeddings(cfg, show_progress=True)
    split_file = pd.read_csv(run.run_dir / "split.csv", dtype=str, keep_default_na=False)
    now = paired.dataset.texts["id"].astype(str).to_numpy()
    sides = split_file["split"].replace({UNUSED: "train"}).to_numpy()
    if len(split_file) != len(now) or (split_file["id"].to_numpy() != now).any() or (sides != paired.split).any():
        raise UserError(f"the texts or split of {run.run_dir} differ from what its config.yaml gives today "
                        "(the dataset source changed?): re-run that sweep")
    return PairData(data_tag(run.config), paired)


def translated_test(run: Run, pair: PairData) -> np.ndarray:
    """The run's translated test vectors, checked to be finite and row for row the pair's test texts;
    a DamagedFile (the run is left out of the analysis) otherwise."""
    folder = run.run_dir / "translated"
    redo = "delete the job's folder and re-run its sweep"
    try:
        vectors = np.load(folder / "test.npy", allow_pickle=False)
        ids = (folder / "test_ids.txt").read_text().split()
    except (OSError, ValueError) as error:
        raise DamagedFile(f"cannot read {folder / 'test.npy'} ({error}): {redo}") from None
    expected = pair.test_texts["id"].astype(str).tolist()
    if ids != expected or vectors.shape != pair.native_b.shape:
        raise DamagedFile(f"{folder} holds {vectors.shape[0]} vectors of shape {vectors.shape[1:]} for other "
                          f"texts than the {len(expected)} test texts its config gives: {redo}")
    if not np.isfinite(vectors).all():
        raise DamagedFile(f"{folder / 'test.npy'} holds NaN or infinite values: {redo}")
    return vectors

