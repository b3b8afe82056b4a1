"""A real tiny sweep and the analyze.py settings that keep its analysis quick, shared by the analysis
and report tests (the sweep is trained once per test session, in conftest.py's ``tiny_sweep``)."""

import subprocess
import sys

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from embtrans.paths import CONFIG_DIR, ROOT

# minilm and e5_small are both 384-d, so the untranslated floor of retrieval exists; minilm-to-minilm
# fails (same model), which gives the sweep real failed jobs to leave out. Three seeds, so the analysis
# has translators measured several times (means, intervals, paired comparisons).
SWEEP = ["model_a=minilm", "model_b=e5_small,minilm", "arch=linear,mlp1", "width=1,2", "seed=0,1,2", "dataset.limit=400",
         "trainer.max_epochs=2", "logger=csv", "trainer.accelerator=cpu", "trainer.enable_progress_bar=false",
         "data.show_progress=false", "hydra.launcher.n_jobs=2"]
SMALL = ["retrieval.k=3", "metrics.knn_ks=[3,5]", "metrics.cka.n_permutations=20", "figures.kernel_sample=16",
         "figures.umap.n_neighbors=5", "wandb.enabled=false"]


def compose_analyze(*overrides):
    """conf/analyze.yaml with the quick settings, composed in-process."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR):
        cfg = compose("analyze", overrides=[*SMALL, *overrides])
    GlobalHydra.instance().clear()
    return cfg


def run_analyze(args, env, log_dir):
    command = [sys.executable, str(ROOT / "analyze.py"), *SMALL, *args, f"paths.log_dir={log_dir}"]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


def train_tiny_sweep(log_dir, env):
    sweep_dir = log_dir / "train" / "multiruns" / "tiny"
    command = [sys.executable, str(ROOT / "train.py"), "-m", *SWEEP, f"paths.log_dir={log_dir}",
               f"hydra.sweep.dir={sweep_dir}"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert result.returncode == 1 and "job(s) failed" in result.stderr, result.stderr  # minilm-to-minilm
    return sweep_dir
