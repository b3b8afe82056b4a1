"""Fill the embedding cache for a corpus and some models, ahead of any training, and print each model's speed.

    python tools/embed.py dataset=wordnet models=use,glove,minilm,e5_small,mpnet
    nohup python tools/embed.py dataset=wordnet models=mpnet > embed.log 2>&1 &    # hours: in the background

Each model's vectors are written to the cache every few minutes while it embeds, so a killed run goes on
where it stopped when run again; texts already cached cost nothing. The line printed per model gives the
texts embedded now, the seconds it took and the rate (on this machine's cores, all of them used).
Other overrides of conf/train.yaml (dataset.limit=..., paths.embedding_cache_dir=...) apply as in a run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from hydra.utils import instantiate
from omegaconf.errors import OmegaConfBaseException

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from embtrans.data.embedding_cache import EmbeddingCache, text_keys  # noqa: E402
from embtrans.data.paired import load_text_dataset  # noqa: E402
from embtrans.errors import UserError  # noqa: E402
from embtrans.paths import CONFIG_DIR  # noqa: E402
from embtrans.sweep.embed_first import every_core  # noqa: E402
from embtrans.sweep.environment import set_project_env  # noqa: E402


def cached_keys(cache: EmbeddingCache, dataset, model: str) -> set:
    path = cache.entry_dir(dataset.name, model) / "keys.npy"
    return set(np.load(path)) if path.exists() else set()


def main(argv: list[str]) -> int:
    models = [arg.removeprefix("models=") for arg in argv if arg.startswith("models=")]
    overrides = [arg for arg in argv if not arg.startswith("models=")]
    if len(models) != 1 or not models[0]:
        raise UserError("say which models to embed with, once: models=use,glove,minilm (names in conf/model_a)")
    set_project_env()
    for name in models[0].split(","):
        try:
            with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR):
                cfg = compose("train", overrides=[f"model_a={name}", *overrides])
        except (HydraException, OmegaConfBaseException) as error:  # an unknown model, dataset or key
            first = str(error).strip().splitlines()[0]
            raise UserError(f"{first} (models are named as in conf/model_a; other overrides as for train.py)") from None
        dataset = load_text_dataset(cfg.dataset)
        cache = EmbeddingCache(cfg.paths.embedding_cache_dir, show_progress=True)
        encoder = instantiate(cfg.model_a.encoder)
        missing = len(set(text_keys(dataset.texts["kind"], dataset.texts["text"])) - cached_keys(cache, dataset, name))
        started = time.perf_counter()
        with every_core():
            cache.embeddings(dataset, encoder)
        seconds = time.perf_counter() - started
        rate = f"{missing / seconds:,.1f} texts/s, loading the model included" if missing else "all were cached"
        print(f"{dataset.name} {name}: {missing:,} texts embedded now in {seconds:,.0f} s ({rate}); "
              f"{len(dataset):,} texts in the corpus", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
