"""Wall time and peak memory of rendering the report from a finished analysis: cold, then re-run.

    python benchmarks/report_cost.py --analysis-dir outputs/analysis/<sweep>

The report reads only the analysis folder (analysis.json, examples, figures) and the runs it names,
so this times what analyze.py adds at its end. The first render goes into a fresh folder (every
diagram drawn, every figure copied); the second changes nothing and should only compare bytes.
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embtrans.report.inputs import from_analysis  # noqa: E402
from embtrans.report.render import render_report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--analysis-dir", type=Path, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for attempt in ("first render", "re-render"):
            started = time.perf_counter()
            report = from_analysis(args.analysis_dir)
            rendered = render_report(report, Path(folder) / "report")
            seconds = time.perf_counter() - started
            files = [p for p in rendered.folder.rglob("*") if p.is_file()]
            print(f"{attempt}: {seconds:.1f} s, {len(report.results)} translators, {len(files)} files, "
                  f"{sum(p.stat().st_size for p in files) / 2**20:.1f} MiB")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    print(f"peak memory: {peak:.2f} GiB")


if __name__ == "__main__":
    main()
