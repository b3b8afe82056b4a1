"""What every entry point shares: one-line errors for user mistakes (the top layer: nothing imports it but
the entry points)."""

from __future__ import annotations

import functools
import sys

from embtrans.errors import EXIT_CODES, user_facing


def exit_on_user_error(task):
    """Print a UserError (exit 2), a failed run (exit 1) or a refusal by a quality gate (exit 3) as one
    line instead of a traceback, also when a library wrapped it (Hydra's instantiate does)."""
    @functools.wraps(task)
    def wrapped(*args, **kwargs):
        try:
            return task(*args, **kwargs)
        except Exception as error:
            shown = user_facing(error)
            if shown is None:
                raise
            print(f"error: {shown}", file=sys.stderr)
            sys.exit(next(code for kind, code in EXIT_CODES.items() if isinstance(shown, kind)))
    return wrapped
