"""Which seeds two translators are compared at on one pair, and what that leaves out.

A paired comparison sets row i of one translator's (n_seeds, n_items) array against row i of the other's, so
the rows must be the same seeds: an interrupted seed, a damaged file or deleted vectors leave translators with
different seeds, and pairing by position would then set seed 0 against seed 1. Seeds are matched by value here,
where they are known; src/embtrans/stats only sees arrays already aligned. A closed-form fit is deterministic: its one
run (seed None) stands beside every seed of the other side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Seeds = tuple[int | None, ...]


def ordered(seeds: Iterable[int | None]) -> Seeds:
    """Ascending, a closed-form fit's None last."""
    return tuple(sorted(set(seeds), key=lambda s: (s is None, s or 0)))


def seed_text(seeds: Iterable[int]) -> str:
    """"seed 2", "seeds 0, 1"."""
    seeds = list(seeds)
    return f"seed{'s' if len(seeds) > 1 else ''} {', '.join(str(s) for s in seeds)}"


@dataclass(frozen=True)
class SeedMatch:
    """Two translators' seeds on one pair (all the runs each has there; (None,) for a closed-form fit, () for
    no run), and the seeds they are compared at."""

    first: str
    second: str
    first_seeds: Seeds
    second_seeds: Seeds

    @property
    def closed_form(self) -> bool:
        return None in self.first_seeds or None in self.second_seeds

    @property
    def shared(self) -> tuple[int, ...]:
        """The seeds compared: both sides' when neither is closed form, else the trained side's (all of them)."""
        if None in self.first_seeds:
            return tuple(s for s in self.second_seeds if s is not None)
        if None in self.second_seeds:
            return self.first_seeds
        return ordered(set(self.first_seeds) & set(self.second_seeds))

    def rows(self, side: str) -> Seeds:
        """The seeds to stack for ``side`` ("first" or "second"), in the order the other side stacks them."""
        seeds = self.first_seeds if side == "first" else self.second_seeds
        return seeds if None in seeds else self.shared

    @property
    def count(self) -> int:
        """How many seeds the comparison rests on: 1 for two closed-form fits, 0 when it cannot be made."""
        if not self.compared:
            return 0
        return len(self.shared) or 1

    @property
    def compared(self) -> bool:
        return bool(self.first_seeds and self.second_seeds) and (self.closed_form or bool(self.shared))

    def lacking(self) -> list[tuple[str, tuple[int, ...]]]:
        """(translator, the other's seeds it lacks): each side's seeds that were left out."""
        if self.closed_form or not (self.first_seeds and self.second_seeds):
            return []
        found = [(self.second, ordered(set(self.first_seeds) - set(self.second_seeds))),
                 (self.first, ordered(set(self.second_seeds) - set(self.first_seeds)))]
        return [(name, seeds) for name, seeds in found if seeds]

    @property
    def complete(self) -> bool:
        """Nothing left out: every run of both sides is in the comparison."""
        return self.compared and not self.lacking()

    def note(self, where: str) -> str:
        """What was left out, for a reader: "mlp1-x1 vs linear on glove → use: seeds 0, 1 shared; seed 2 left
        out (linear lacks it)"; "" when nothing was. ``where``: the pair, when the names do not say it."""
        head = f"{self.first} vs {self.second}" + (f" on {where}" if where else "") + ": "
        for name, seeds in ((self.first, self.first_seeds), (self.second, self.second_seeds)):
            if not seeds:
                return head + f"{name} has no run there: not compared"
        if not self.compared:
            return head + (f"no seed in common ({self.first} has {seed_text(self.first_seeds)}, {self.second} "
                           f"{seed_text(self.second_seeds)}): not compared")
        lacking = self.lacking()
        if not lacking:
            return ""
        them = lambda seeds: "them" if len(seeds) > 1 else "it"  # noqa: E731
        return head + f"{seed_text(self.shared)} shared; " + ", ".join(
            f"{seed_text(seeds)} left out ({name} lacks {them(seeds)})" for name, seeds in lacking)
