"""The exception types entry points turn into one line instead of a traceback.

- ``UserError``: the user's input or environment is wrong (bad name, bad value, bad file): exit 2.
- ``RunFailed``: a run went wrong although its input was valid (training diverged, a result file is
  damaged): exit 1. In a sweep the job records it in ``failed.json`` and the others go on.
- ``GateRefused``: a quality gate measured too little to go ahead (a migration whose translated vectors
  would not stand in for native ones): exit 3, nothing written.
"""

from __future__ import annotations


class UserError(Exception):
    """Something in the user's input or environment is wrong; the message says what and what to do."""


class RunFailed(Exception):
    """A run produced no trustworthy result; the message says why and what to change."""


class GateRefused(Exception):
    """A measured quality is below its threshold; the message names the estimate and the threshold."""


EXIT_CODES = {UserError: 2, RunFailed: 1, GateRefused: 3}


def user_facing(error: BaseException) -> UserError | RunFailed | GateRefused | None:
    """The UserError or RunFailed behind ``error``, also when a library wrapped it (Hydra's
    ``instantiate`` raises InstantiationException from the loader's UserError)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, tuple(EXIT_CODES)):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
