"""Disk faults of a sweep (no space left, a read-only folder): said in one line each, never a traceback.

The sweeper (src/hydra_plugins/embedding_translation/sweeper.py) records what Hydra itself could not
write; the summary callback (src/embtrans/sweep/summary.py) prints them under the job table.
"""

from __future__ import annotations

# Of the sweep running in this process.
recorded: list[str] = []


def describe_fault(error: BaseException, where: object = None) -> str:
    """One line for a fault: the OS's words and the path (the error's own, else ``where``), or the
    exception's type and first line."""
    if isinstance(error, OSError) and error.strerror:
        path = error.filename or where
        return error.strerror + (f" ({path})" if path else "")
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"


def record(error: BaseException, where: object = None) -> None:
    recorded.append(describe_fault(error, where))
