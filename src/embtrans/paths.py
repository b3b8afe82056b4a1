"""Where things are, and what this process is: the package's configs, the project root, a sweep job or not.

The bottom layer beside errors and files: any layer may ask it, and it asks none of them.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The configs ship inside the package; conf/ at the checkout's root is a link to them.
CONFIG_DIR = str(PACKAGE_DIR / "conf")


def project_root() -> Path:
    """The checkout this package lies in (src/embtrans/ of a folder with pyproject.toml): outputs/, cache/
    and results/ go there. Installed elsewhere (pip install .), the working directory plays that part."""
    checkout = PACKAGE_DIR.parents[1]
    return checkout if (checkout / "pyproject.toml").is_file() and (checkout / "train.py").is_file() else Path.cwd()


ROOT = project_root()


def in_multirun() -> bool:
    """Whether this process runs a job of a Hydra sweep (-m)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def run_group() -> str:
    """The sweep's directory name for the jobs of a sweep; 'single-runs' otherwise."""
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().sweep.dir).name if in_multirun() else "single-runs"
