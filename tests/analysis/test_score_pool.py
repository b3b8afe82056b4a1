"""The translators' vector scores computed in worker processes equal the ones computed inline."""

import numpy as np
import pytest

from embtrans.analysis.score_pool import ScorePool, scores_on_one_thread, worker_count
from embtrans.errors import UserError
from tests.tiny_sweep import compose_analyze


def test_worker_count_reads_auto_numbers_and_refuses_the_rest(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert worker_count("auto") == worker_count(None) == 6
    assert worker_count(1) == 1 and worker_count("3") == 3
    for bad in (0, -2, "many", 1.5):
        with pytest.raises(UserError, match="score_workers"):
            worker_count(bad)


def test_one_worker_means_inline():
    assert ScorePool(1).submit(np.zeros((4, 2)), np.zeros((4, 2)), None) is None


@pytest.mark.slow
def test_scores_from_the_workers_equal_the_inline_ones(tiny_sweep):
    from embtrans.analysis.pairs import load_pair, translated_test
    from embtrans.analysis.runs import load_sweep

    _, sweep_dir, env = tiny_sweep
    cfg = compose_analyze(f"sweep_dir={sweep_dir}")
    run = load_sweep(sweep_dir).runs[0]
    pair = load_pair(run, env["EMBTRANS_CACHE_DIR"])
    translated = translated_test(run, pair)
    inline_scores, inline_items = scores_on_one_thread(pair.native_b, translated, cfg.metrics)
    futures = [ScorePool(2).submit(pair.native_b, vectors, cfg.metrics) for vectors in (translated, pair.native_b)]
    pooled_scores, pooled_items = futures[0].result()
    # The CKA scores (float64 sums over n² kernel products) come out in their last digits differently in the
    # test session's process after the pipeline tests ran in it (0.7062679520861807 against ...808; a debiased
    # null mean near zero, -4.68005788575e-4, agrees to 1e-11 relative), and equal to the bit when this test
    # runs alone: some state that earlier work leaves in the process, not found (neither BLAS threads nor
    # denormal flushing). Every other score is equal to the bit.
    cka = {key for key in inline_scores if key.startswith("cka_")}
    assert {k: v for k, v in pooled_scores.items() if k not in cka} == \
        {k: v for k, v in inline_scores.items() if k not in cka}
    assert all(pooled_scores[key] == pytest.approx(inline_scores[key], rel=1e-9, abs=1e-12) for key in cka)
    assert len(cka) > 4  # the tiny sweep's settings do compute them
    assert inline_items.keys() == pooled_items.keys()
    assert all(np.array_equal(inline_items[name], pooled_items[name]) for name in inline_items)
    assert futures[1].result()[0]["test_mse"] == 0  # the second task ran too, on its own inputs


def test_exact_search_ranks_as_chroma_does(tmp_path):
    """The data curve's points are searched by exact cosine, the rest through Chroma: the same rankings."""
    import numpy as np

    from embtrans.analysis.chroma_store import EmbeddingStore
    from embtrans.analysis.search import exact_search, search

    rng = np.random.default_rng(0)
    passages, queries = rng.normal(size=(300, 16)).astype(np.float32), rng.normal(size=(40, 16)).astype(np.float32)
    pool, asked = [f"p{i}" for i in range(300)], [f"q{i}" for i in range(40)]
    with EmbeddingStore(tmp_path / "chroma") as store:
        store.sync("exact-test", pool, passages, [{"i": i} for i in range(300)], pool, {"space": "test"})
        through_chroma = search(store, "exact-test", queries, asked, pool, 10)
    assert exact_search(queries, asked, passages, pool, 10, chunk=7) == through_chroma
