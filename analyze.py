"""Analyse finished runs: tables, figures, Chroma collections and the report.

Not built yet: it arrives with the analysis issue. Until then each run's metrics.json holds its numbers.
"""

import sys

if __name__ == "__main__":
    print("analyze.py is not ready yet: read the metrics.json in each run directory under outputs/train/",
          file=sys.stderr)
    sys.exit(1)
