"""A real GloVe encoder that records how many texts it embeds: the cache tests count re-embedding.

Run as a script, it embeds the small Rotten Tomatoes subset into a cache: the concurrency test
starts two of these at once.
"""

import sys
import time
from pathlib import Path

from embtrans.data.encoders.glove import GloveAverageEncoder


class CountingGlove(GloveAverageEncoder):
    def __init__(self, log_file, delay=0.0, **kwargs):
        super().__init__(name="glove", dim=50, **kwargs)
        self.log_file, self.delay = Path(log_file), delay

    def _embed(self, texts, kind):
        time.sleep(self.delay)  # slow enough for two processes to overlap
        with open(self.log_file, "a") as log:
            log.write(f"{len(texts)}\n")
        return super()._embed(texts, kind)


def embedded_count(log_file) -> int:
    path = Path(log_file)
    return sum(int(line) for line in path.read_text().split()) if path.exists() else 0


if __name__ == "__main__":
    import numpy as np

    from embtrans.data.embedding_cache import EmbeddingCache
    from embtrans.data.sources.rotten_tomatoes import load_rotten_tomatoes
    from embtrans.data.split import limit_groups

    cache_root, log_file, out_file = sys.argv[1:4]
    dataset = limit_groups(load_rotten_tomatoes(), 60, seed=0)
    vectors, _ = EmbeddingCache(cache_root, show_progress=False).embeddings(dataset, CountingGlove(log_file, delay=1.0))
    np.save(out_file, vectors)
