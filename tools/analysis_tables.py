"""What the table-printing tools share: their command line (an analysis folder, --k) and reading its tables."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def arguments(doc: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("analysis_dir", type=Path)
    parser.add_argument("--k", type=int, default=10)
    return parser.parse_args()


def tables(analysis_dir: Path, *names: str) -> list[pd.DataFrame]:
    """The analysis' tables/<name>.csv, in the order named."""
    return [pd.read_csv(analysis_dir / "tables" / f"{name}.csv") for name in names]
