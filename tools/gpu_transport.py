"""Bring a sweep's finished runs back from a lent GPU machine whose return channel is small (a few
files of at most 16 MiB per call): everything a run's analysis reads, nothing it does not.

    python tools/gpu_transport.py prepare MODEL... [--cache DIR]  # here: float16 copies into .gpu/cache
    python tools/gpu_transport.py restore .gpu/cache             # there: float32 again, checksums renewed
    python tools/gpu_transport.py pack SWEEP_DIR STAGING        # there, after training
    python tools/gpu_transport.py send STAGING OUT BATCH        # there: batch 0, 1, 2 ... into $OUT
    python tools/gpu_transport.py unpack FOLDER... --into SWEEP_DIR   # here, once every batch is back
                                                   # (--index: this machine's run index, outputs/train/index)

What travels: each finished run's small files (metrics.json, config.yaml, train.log, .hydra/) in one
gzipped tar, and its translated test vectors as float16 in tar shards. Unpacking writes them back as
float32 test.npy and records in the run's transport.json the largest rounding error (float16 keeps
about 3 significant digits: ~1e-5 on these unit vectors' coordinates, far below any score's interval).
split.csv (the same for every run of a pair: dataset.split_seed) stays behind; unpacking copies it
from a run of the same pair here and checks its sha256 against the one recorded there. Checkpoints
stay behind (an mlp2 x32's is 0.66 GB): the analysis reads none.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import sys
import tarfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from embtrans.data.embedding_cache import file_digest  # noqa: E402
from embtrans.sweep.run_index import RunIndex  # noqa: E402

SHARD_BYTES = int(15.9 * 2**20)  # under the 16 MiB a returned file may have
PER_BATCH = 4  # shards per call after the first (meta and 3 shards): under the 64 MiB a call may return
SMALL = ("metrics.json", "config.yaml", "train.log", ".hydra", "translated/test_ids.txt")


# Unpacking compares each run's split.csv with those of the other runs of its pair: each file once.
sha256 = functools.cache(file_digest)


def finished_runs(sweep_dir: Path) -> list[Path]:
    return sorted(p.parent for p in sweep_dir.glob("*/*/*/metrics.json")
                  if not (p.parent / "failed.json").exists() and (p.parent / "translated" / "test.npy").exists())


def prepare(models: list[str], cache: Path, dataset: str, into: Path) -> None:
    """The cached embeddings the study reads, as float16 (half the bytes: the trip there is 64 MiB too)."""
    for model in models:
        source, target = cache / dataset / model, into / dataset / model
        target.mkdir(parents=True, exist_ok=True)
        np.save(target / "vectors16.npy", np.load(source / "vectors.npy").astype(np.float16))
        for name in ("keys.npy", "manifest.json"):
            (target / name).write_bytes((source / name).read_bytes())
        print("prepared", target)


def restore(folder: Path) -> None:
    """There: float32 vectors again, and the manifest's checksums of them (the cache checks those)."""
    for model in sorted(folder.glob("*/*")):
        np.save(model / "vectors.npy", np.load(model / "vectors16.npy").astype(np.float32))
        manifest = json.loads((model / "manifest.json").read_text())
        for name in ("vectors.npy", "keys.npy"):
            manifest["sha256"][name] = sha256(model / name)
        (model / "manifest.json").write_text(json.dumps(manifest, indent=2))
        print("restored", model, manifest["n"])


def pack(sweep_dir: Path, staging: Path) -> None:
    staging.mkdir(parents=True, exist_ok=True)
    runs = finished_runs(sweep_dir)
    manifest = {}
    shards: list[list[tuple[str, bytes]]] = [[]]
    with tarfile.open(staging / "meta.tar.gz", "w:gz") as meta:
        for run in runs:
            rel = run.relative_to(sweep_dir).as_posix()
            for name in SMALL:
                if (run / name).exists():
                    meta.add(run / name, arcname=f"{rel}/{name}")
            vectors = np.load(run / "translated" / "test.npy")
            half = vectors.astype(np.float16)
            manifest[rel] = {"split.csv": sha256(run / "split.csv"), "test.npy": sha256(run / "translated" / "test.npy"),
                             "float16_max_abs_error": float(np.abs(half.astype(np.float32) - vectors).max())}
            buffer = io.BytesIO()
            np.save(buffer, half)
            if shards[-1] and sum(len(b) for _, b in shards[-1]) + buffer.tell() > SHARD_BYTES:
                shards.append([])
            shards[-1].append((f"{rel}/test16.npy", buffer.getvalue()))
        for name in ("summary.csv", "multirun.yaml"):
            if (sweep_dir / name).exists():
                meta.add(sweep_dir / name, arcname=f"_sweep/{name}")
        data = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        meta.addfile(info, io.BytesIO(data))
    for index, members in enumerate(s for s in shards if s):
        with tarfile.open(staging / f"shard{index:03d}.tar", "w") as shard:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                shard.addfile(info, io.BytesIO(data))
    files = sorted(p.name for p in staging.iterdir())
    print(f"packed {len(runs)} runs into {len(files)} files: {files}")


def send(staging: Path, out: Path, batch: int) -> None:
    """Batch 0 is the meta file and the first shards; later batches PER_BATCH shards each."""
    shards = sorted(staging.glob("shard*.tar"))
    first = PER_BATCH - 1
    chosen = ([staging / "meta.tar.gz"] + shards[:first]) if batch == 0 else \
        shards[first + (batch - 1) * PER_BATCH: first + batch * PER_BATCH]
    out.mkdir(parents=True, exist_ok=True)
    for path in chosen:
        (out / path.name).write_bytes(path.read_bytes())
    left = len(shards) - first - batch * PER_BATCH
    print(f"batch {batch}: {[p.name for p in chosen]}; shards left after it: {max(left, 0)}")


def unpack(folders: list[Path], sweep_dir: Path, index: RunIndex) -> None:
    """Also records each run in this machine's run index, so re-running the study reuses it."""
    meta = next(p for folder in folders for p in [folder / "meta.tar.gz"] if p.exists())
    with tarfile.open(meta) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
        for member in archive.getmembers():
            if member.name != "manifest.json" and not member.name.startswith("_sweep/"):
                archive.extract(member, sweep_dir, filter="data")
    arrived = {}
    for folder in folders:
        for shard in sorted(folder.glob("shard*.tar")):
            with tarfile.open(shard) as archive:
                for member in archive.getmembers():
                    rel = member.name.rsplit("/", 1)[0]
                    arrived[rel] = np.load(io.BytesIO(archive.extractfile(member).read()))
    missing = sorted(set(manifest) - set(arrived))
    for rel, recorded in manifest.items():
        run = sweep_dir / rel
        if rel not in arrived:
            (run / "metrics.json").unlink()  # no vectors, no result: the run is trained again or listed missing
            continue
        vectors = arrived[rel].astype(np.float32)
        (run / "translated").mkdir(exist_ok=True)
        np.save(run / "translated" / "test.npy", vectors)
        twin = next((p / "split.csv" for p in sorted(run.parent.iterdir())
                     if p != run and (p / "split.csv").exists() and sha256(p / "split.csv") == recorded["split.csv"]), None)
        if twin is None:
            sys.exit(f"no run of {run.parent.name} here has the split.csv {rel} was trained on: train one first")
        (run / "split.csv").write_bytes(twin.read_bytes())
        (run / "transport.json").write_text(json.dumps({
            "trained_on": "a lent GPU machine (tools/gpu_study.sh)",
            "translated/test.npy": "float16 in transit, float32 again here",
            "float32_sha256_there": recorded["test.npy"],
            "float16_max_abs_error": recorded["float16_max_abs_error"],
            "split.csv": f"copied from {twin.parent.name} (sha256 {recorded['split.csv'][:16]}..., as recorded there)",
        }, indent=2) + "\n")
        index.record(json.loads((run / "metrics.json").read_text())["run"]["fingerprint"], run)
    print(f"unpacked {len(manifest) - len(missing)} runs into {sweep_dir}; without vectors (left unfinished): {missing}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("prepare")
    r.add_argument("models", nargs="+")
    r.add_argument("--cache", type=Path, default=Path("cache/embeddings"))
    r.add_argument("--dataset", default="rotten_tomatoes")
    r.add_argument("--into", type=Path, default=Path(".gpu/cache"))
    b = sub.add_parser("restore")
    b.add_argument("folder", type=Path)
    p = sub.add_parser("pack")
    p.add_argument("sweep_dir", type=Path)
    p.add_argument("staging", type=Path)
    s = sub.add_parser("send")
    s.add_argument("staging", type=Path)
    s.add_argument("out", type=Path)
    s.add_argument("batch", type=int)
    u = sub.add_parser("unpack")
    u.add_argument("folders", type=Path, nargs="+")
    u.add_argument("--into", type=Path, required=True)
    u.add_argument("--index", type=Path, default=Path("outputs/train/index"), help="this machine's run index")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.models, args.cache, args.dataset, args.into)
    elif args.command == "restore":
        restore(args.folder)
    elif args.command == "pack":
        pack(args.sweep_dir, args.staging)
    elif args.command == "send":
        send(args.staging, args.out, args.batch)
    else:
        unpack(args.folders, args.into, RunIndex(args.index))


if __name__ == "__main__":
    main()
