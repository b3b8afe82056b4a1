"""Disk faults of a sweep (no space left, a read-only folder): said in one line each, never a traceback.

The sweeper (src/hydra_plugins/embedding_translation/sweeper.py) records what Hydra itself could not
write; the summary callback (src/embtrans/sweep/summary.py) prints them under the job table.
"""

from __future__ import annotations

import builtins
import re

# Of the sweep running in this process: each fault's line, and the folder of each job Hydra could not
# start (it never wrote the folder's .hydra/ files) with the fault that stopped it.
recorded: list[str] = []
not_started: dict[str, str] = {}

# An OSError's last line in a traceback's text: "PermissionError: [Errno 13] Permission denied: '/a/b'".
REMOTE_OS_ERROR = re.compile(r"^(?P<kind>\w+): \[Errno \d+\] (?P<words>[^:\n]+)(?:: '(?P<path>[^\n]*)')?$", re.M)


def describe_fault(error: BaseException, where: object = None) -> str:
    """One line for a fault: the OS's words and the path (the error's own, else ``where``), or the
    exception's type and first line. An OSError behind another error (logging's "Unable to configure
    handler", when Hydra opens a job's log file) is the fault said, also when joblib brought it from a
    worker as traceback text."""
    os_error = next((e for e in causes(error) if isinstance(e, OSError) and e.strerror), None)
    if os_error is not None:
        path = os_error.filename or where
        return os_error.strerror + (f" ({path})" if path else "")
    remote = next((found for e in causes(error) for found in [REMOTE_OS_ERROR.search(str(e))]
                   if found and isinstance(getattr(builtins, found["kind"], None), type)
                   and issubclass(getattr(builtins, found["kind"]), OSError)), None)
    if remote:
        path = remote["path"] or where
        return remote["words"] + (f" ({path})" if path else "")
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"


def record(error: BaseException, where: object = None) -> None:
    recorded.append(describe_fault(error, where))


def causes(error: BaseException | None):
    """The error, then what caused it, and so on."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__
