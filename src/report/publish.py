"""A report made to live inside the repository: index.html, report.md and their figures, the analysis
tables, and every file a link of the report reaches, copied under one folder with the links rewritten,
so the checked-in report reads from a clean checkout (no run folder, checkpoint or vector file).

    python analyze.py sweep_dir=... report.publish=results/<study>

Where a linked file came from decides where it goes: the report's own folder stays as it is, the
analysis folder's files go to analysis/, a run folder's files to runs/<sweep>/ (a linked run folder
gets its small files: RUN_FILES). Publishing again with nothing changed writes the same bytes.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote, unquote

from src.errors import UserError

# Link targets: Markdown's ](target "title") and ](target), and HTML's href="..." and src="...".
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)")
HTML_LINK = re.compile(r'(?:href|src)="([^"]+)"')
# What a linked run folder is published with: what its numbers come from, never weights or vectors.
RUN_FILES = ("metrics.json", "config.yaml", "transport.json", "skipped.json", "failed.json")
DOCUMENTS = ("index.html", "report.md")


def publish(report_dir: Path, analysis_dir: Path, sweep_dir: Path, destination: Path) -> Path:
    """Copy the report and what it links to into ``destination`` (replaced as a whole); return it."""
    report_dir, analysis_dir, sweep_dir = (Path(p).resolve() for p in (report_dir, analysis_dir, sweep_dir))
    destination = Path(destination)
    if destination.resolve() in (report_dir, analysis_dir, sweep_dir) or report_dir.is_relative_to(destination.resolve()):
        raise UserError(f"report.publish={destination} would overwrite the report it copies: name another folder")
    # Most specific first: the report folder lies inside the analysis folder. Runs go under their sweep's
    # name, beside those of a sibling sweep that a run of this one reuses (resume: same fingerprint).
    places = [(report_dir, Path(".")), (analysis_dir, Path("analysis")), (sweep_dir.parent, Path("runs"))]
    staging = destination.with_name(destination.name + ".publishing")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    copied: dict[Path, Path] = {}

    def place(target: Path) -> Path:
        """Where ``target`` goes under the published folder (copied there once)."""
        for root, folder in places:
            if target == root or target.is_relative_to(root):
                published = folder / target.relative_to(root)
                break
        else:
            raise UserError(f"the report links to {target}, outside the report, the analysis and the sweeps beside "
                            f"{sweep_dir}: it cannot be published (a run reused from elsewhere? resume=false retrains it)")
        if target not in copied:
            copied[target] = published
            copy_into(target, staging / published)
        return published

    for name in DOCUMENTS:
        text = (report_dir / name).read_text()
        pattern = HTML_LINK if name.endswith(".html") else MARKDOWN_LINK

        def rewrite(match: re.Match) -> str:
            href = match.group(1)
            path, hash_, fragment = href.partition("#")
            if not path or re.match(r"^[a-z][a-z0-9+.-]*:", path):  # an anchor, or http:, mailto: ...
                return match.group(0)
            target = Path(os.path.normpath(report_dir / unquote(path)))
            if not target.exists():
                raise UserError(f"{report_dir / name} links to {target}, which does not exist: "
                                "re-run python analyze.py before publishing")
            new = quote(place(target).as_posix()) + hash_ + fragment
            return match.group(0).replace(href, new, 1)

        (staging / name).write_text(pattern.sub(rewrite, text))
    for figure in sorted((report_dir / "figures").rglob("*")) if (report_dir / "figures").exists() else []:
        if figure.is_file():
            place(figure.resolve())
    for table in sorted((analysis_dir / "tables").glob("*")):  # every table, linked or not
        place(table.resolve())
    if destination.exists():
        shutil.rmtree(destination)
    staging.rename(destination)
    return destination


def copy_into(source: Path, target: Path) -> None:
    """A file as it is; a run folder as its RUN_FILES; any other folder is refused (it could hold anything)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_file():
        shutil.copyfile(source, target)
        return
    files = [source / name for name in RUN_FILES if (source / name).is_file()]
    if not files:
        raise UserError(f"the report links to the folder {source}, which is no run folder (no metrics.json): "
                        "it cannot be published")
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, target / path.name)
