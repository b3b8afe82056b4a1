"""The small JSON files a run leaves behind, written strictly and checked when read back.

``metrics.json`` is strict JSON (no NaN or Infinity, which Python's json writes by default and
other readers refuse), and every number in it is finite: a run whose numbers are not is a failed
run, never a result. Reading one back checks the same, so a damaged file is reported in one line
that names it instead of a JSONDecodeError traceback.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from embtrans.errors import RunFailed
from embtrans.files import write_atomically


class DamagedFile(RunFailed):
    """A file a tool reads back is unreadable or holds non-finite numbers; the message names it."""


def non_finite(value, where: str = "") -> str | None:
    """The dotted key of the first NaN or infinite number inside ``value``, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return where or "(top level)"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        found = non_finite(inner, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return None


def write_json(path: Path, content: dict) -> None:
    """Strict JSON, written atomically (a reader never sees half a file)."""
    data = json.dumps(content, indent=2, allow_nan=False).encode()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda handle: handle.write(data))


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def read_json(path: Path, what_to_do: str) -> dict:
    """A JSON object with only finite numbers, or a DamagedFile naming ``path`` and ``what_to_do``."""
    path = Path(path)
    try:
        content = json.loads(path.read_text(), parse_constant=_refuse_constant)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DamagedFile(f"{path} cannot be read ({error}): {what_to_do}") from None
    if not isinstance(content, dict):
        raise DamagedFile(f"{path} holds no JSON object: {what_to_do}")
    bad = non_finite(content)
    if bad:
        raise DamagedFile(f"{path} holds a non-finite {bad}: {what_to_do}")
    return content


def reused_run(job_dir: Path, metrics: dict) -> Path | None:
    """The directory of the run a reused job points at (recorded relative to the job's folder)."""
    reused = metrics.get("reused_from")
    return Path(os.path.normpath(Path(job_dir) / reused)) if reused else None


def read_metrics(run_dir: Path, what_to_do: str = "re-run its sweep, which trains that job again") -> dict:
    """A run's metrics.json, checked: strict JSON, finite, with test scores and the run's description."""
    path = Path(run_dir) / "metrics.json"
    metrics = read_json(path, what_to_do)
    missing = [key for key in ("test/mse", "test/cosine", "run") if key not in metrics]
    if missing:
        raise DamagedFile(f"{path} lacks {', '.join(missing)}: {what_to_do}")
    return metrics
