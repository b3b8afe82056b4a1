"""Finding data files that ship inside installed pip packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from embtrans.errors import UserError


def packaged_file(package: str, relative: str, install_hint: str) -> Path:
    """The path of ``relative`` inside the installed ``package`` (found without importing it)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the package {package!r} is not installed: {install_hint}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.exists():
        raise UserError(f"{path} is missing from the installed package {package!r}: {install_hint}")
    return path
