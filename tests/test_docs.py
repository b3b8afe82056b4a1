"""The README stays short and its links lead somewhere; the docs site's pages are all in its nav.

`mkdocs build --strict` (the README's test command) checks the links inside docs/; these checks are the
README's, which mkdocs does not read, and run in well under a second.
"""
import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

# [text](target) and <a href="target">, but not images' alt text or code spans' contents.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def links(markdown: str) -> list[str]:
    prose = CODE_SPAN.sub("", FENCE.sub("", markdown))
    return LINK.findall(prose)


def slug(heading: str) -> str:
    """The anchor GitHub and mkdocs' toc both give a heading of plain words (no markup, no duplicates)."""
    text = CODE_SPAN.sub(lambda m: m.group(0).strip("`"), heading).strip().lower()
    return re.sub(r"\s+", "-", re.sub(r"[^\w\s-]", "", text))


def anchors(markdown: str) -> set[str]:
    return {slug(line.lstrip("#")) for line in FENCE.sub("", markdown).splitlines() if re.match(r"#{1,6} ", line)}


def test_the_readme_is_at_most_12_kb():
    size = len(README.read_bytes())
    assert size <= 12 * 1024, f"README.md is {size} bytes; move detail into docs/"


def test_every_relative_link_of_the_readme_resolves_to_a_file_and_anchor():
    targets = [t for t in links(README.read_text()) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]
    assert len(targets) >= 10, targets  # the README links into the docs and the report
    for target in targets:
        path, _, anchor = unquote(target).partition("#")
        if not path:
            assert anchor in anchors(README.read_text()), target
            continue
        file = (ROOT / path).resolve()
        assert file.is_relative_to(ROOT) and file.is_file(), f"README.md links to {target}, which does not exist"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file.read_text()), f"{path} has no heading #{anchor}"


def test_every_docs_page_is_in_the_mkdocs_nav():
    config = (ROOT / "mkdocs.yml").read_text()
    nav = set(re.findall(r"^\s*-\s[^:\n]+:\s*(\S+\.md)\s*$", config, re.M))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages == nav, (pages - nav, nav - pages)


def test_the_readmes_headline_numbers_are_the_docs_results():
    """Numbers live on one page: each one the README's findings quote is on docs/results.md (which a test of
    tests/report/test_publish.py checks against the checked-in study)."""
    readme = README.read_text()
    findings = readme.split("## What the reference study found", 1)[1].split("\n## ", 1)[0]
    results = (DOCS / "results.md").read_text()
    quoted = re.findall(r"\d+\.\d+", findings)
    assert quoted
    for number in quoted:
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", results), number
