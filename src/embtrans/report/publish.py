"""A report made to live inside the repository: index.html, report.md and their figures, the analysis
tables, and every file a link of the report reaches, copied under one folder with the links rewritten,
so the checked-in report reads from a clean checkout (no run folder, checkpoint or vector file).

    python analyze.py sweep_dir=... report.publish=results/<study>

Where a linked file came from decides where it goes: the report's own folder stays as it is, the
analysis folder's files go to analysis/, a run folder's files to runs/<sweep>/ (a linked run folder
gets its small files: RUN_FILES). Publishing again with nothing changed writes the same bytes.

Publishing writes only what it owns: a new or empty folder, or one an earlier publish wrote (its
publication.json lists every file), which it replaces; any other folder is refused, untouched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote, unquote

from embtrans.errors import UserError

# Link targets: Markdown's ](target "title") and ](target), and HTML's href="..." and src="...".
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)")
HTML_LINK = re.compile(r'(?:href|src)="([^"]+)"')
# What a linked run folder is published with: what its numbers come from, never weights or vectors.
RUN_FILES = ("metrics.json", "config.yaml", "transport.json", "skipped.json", "failed.json")
DOCUMENTS = ("index.html", "report.md")
# Written last into every publication: the files it holds, so a later publish replaces only those and
# refuses any folder that holds something else.
MARKER = "publication.json"
WRITTEN_BY = "python analyze.py report.publish=<folder>"


def publish(report_dir: Path, analysis_dir: Path, sweep_dir: Path, destination: Path) -> Path:
    """Copy the report and what it links to into ``destination``; return it.

    ``destination`` must be new, empty, or an earlier publication (its MARKER lists every file it
    holds): that publication is replaced as a whole. Anything else is refused before a file is
    written, and a publish that fails part-way leaves the destination and its folder as they were.
    """
    report_dir, analysis_dir, sweep_dir = (Path(p).resolve() for p in (report_dir, analysis_dir, sweep_dir))
    destination = Path(destination)
    check_destination(destination, {"report": report_dir, "analysis": analysis_dir, "sweep": sweep_dir})
    # Most specific first: the report folder lies inside the analysis folder. Runs go under their sweep's
    # name, beside those of a sibling sweep that a run of this one reuses (resume: same fingerprint).
    places = [(report_dir, Path(".")), (analysis_dir, Path("analysis")), (sweep_dir.parent, Path("runs"))]
    destination.parent.mkdir(parents=True, exist_ok=True)
    # A name of our own beside the destination (the final rename stays on one file system); one left by
    # a publish killed in this process's place is ours to clear.
    staging = destination.with_name(f".{destination.name}.publishing-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        build(staging, report_dir, analysis_dir, sweep_dir, places)
        swap_in(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def check_destination(destination: Path, inputs: dict[str, Path]) -> None:
    """Refuse, in one line naming the folder, a destination whose replacement would delete anything
    that is not an earlier publication's own file: the report's inputs, a sweep, a user's files."""
    resolved = destination.resolve()
    for what, folder in inputs.items():
        if resolved == folder or folder.is_relative_to(resolved):
            raise UserError(f"report.publish={destination} holds the {what} folder {folder}, which publishing "
                            "would replace: name a new or empty folder (such as results/<study>)")
    if not destination.exists():
        return
    if not destination.is_dir():
        raise UserError(f"report.publish={destination} is a file, not a folder: name a new or empty folder")
    present = sorted(p.relative_to(destination).as_posix() for p in destination.rglob("*")
                     if not p.is_dir() or p.is_symlink())
    if not present:
        return
    owned = published_files(destination)
    foreign = present if owned is None else [name for name in present if name != MARKER and name not in owned]
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise UserError(f"report.publish={destination} holds files no earlier publish wrote ({foreign[0]}{more}): "
                        "nothing was changed; name a new or empty folder, or one report.publish wrote")


def published_files(folder: Path) -> set[str] | None:
    """The files an earlier publish wrote into ``folder``, from its marker; None when it has none."""
    marker = folder / MARKER
    try:
        content = json.loads(marker.read_text())
        return set(content["files"]) if content.get("written_by") == WRITTEN_BY else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def build(staging: Path, report_dir: Path, analysis_dir: Path, sweep_dir: Path,
          places: list[tuple[Path, Path]]) -> None:
    """The publication in ``staging``: documents with rewritten links, figures, tables, linked files, marker."""
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
    files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    (staging / MARKER).write_text(json.dumps({"written_by": WRITTEN_BY, "files": files}, indent=1) + "\n")


def swap_in(staging: Path, destination: Path) -> None:
    """Replace ``destination`` (absent, empty or an earlier publication) by ``staging``; on failure it stays."""
    if not destination.exists():
        staging.rename(destination)
        return
    old = destination.with_name(f".{destination.name}.replaced-{os.getpid()}")
    destination.rename(old)
    try:
        staging.rename(destination)
    except BaseException:
        old.rename(destination)
        raise
    shutil.rmtree(old)


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
