"""Encoder throughput on this machine: load time and texts per second for each offline model.

    python benchmarks/encoding_throughput.py            # 300 texts per model
    python benchmarks/encoding_throughput.py --texts 1000 --models minilm use

The sample is a seeded draw from Rotten Tomatoes with the corpus's mix of short reviews and long
plots, so the rate predicts a whole-corpus embedding. It is embedded the way a run embeds it,
through the embedding cache (texts sorted by length, then batched), into a scratch directory that
is thrown away: every text is embedded.
"""

import argparse
import os
import resource
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hydra.utils import instantiate  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from embtrans.data.embedding_cache import EmbeddingCache  # noqa: E402
from embtrans.data.sources.rotten_tomatoes import load_rotten_tomatoes  # noqa: E402
from embtrans.paths import ROOT  # noqa: E402

OFFLINE = ["minilm", "mpnet", "e5_small", "use", "glove"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--models", nargs="+", default=OFFLINE)
    args = parser.parse_args()

    dataset = load_rotten_tomatoes()
    corpus = dataset.texts
    drawn = corpus.sample(n=min(args.texts, len(corpus)), random_state=0).index
    sample = dataset.subset(corpus.index.to_series().isin(drawn))
    sample_texts = sample.texts
    print(f"{len(sample)} Rotten Tomatoes texts (median {int(sample_texts['text'].str.len().median())} characters), "
          f"{os.cpu_count()} CPU cores")
    print(f"{'model':<10} {'dim':>5} {'load s':>8} {'texts/s':>9} {'corpus min':>11}")
    for name in args.models:
        encoder = instantiate(OmegaConf.load(ROOT / "conf" / "encoder" / f"{name}.yaml").encoder)
        started = time.perf_counter()
        encoder.encode(["warm-up"], "passage")  # loads the weights
        loaded = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            EmbeddingCache(scratch, show_progress=False).embeddings(sample, encoder)
            rate = len(sample) / (time.perf_counter() - started)
        print(f"{name:<10} {encoder.dim:>5} {loaded:>8.1f} {rate:>9.1f} {len(corpus) / rate / 60:>11.1f}")
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak memory of this process: {peak_gib:.2f} GiB")


if __name__ == "__main__":
    main()
