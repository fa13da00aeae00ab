"""The manual: a short README that CI runs, and the rest as a MkDocs site that builds without a warning, with
every relative link (and anchor) in the README and docs/ leading somewhere."""
from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _prose(text: str) -> str:
    """The Markdown outside code: fenced blocks and inline code spans blanked out."""
    kept, fence = [], None
    for line in text.splitlines():
        marker = re.match(r"\s*(`{3,}|~{3,})", line)
        if fence is None and marker:
            fence = marker.group(1)
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            kept.append(line)
    return re.sub(r"(`+).*?\1", "", "\n".join(kept), flags=re.S)


def _links(path: Path) -> list[str]:
    return [t for t in LINK.findall(_prose(path.read_text(encoding="utf-8")))
            if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("//")]


def _block(text: str, name: str) -> str:
    """The shell block after a `<!-- ci:NAME -->` line, read as .ci/run reads it."""
    after = text.split(f"<!-- ci:{name} -->\n", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1].strip()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built with --strict: any warning (a broken link or anchor, a page left out of the nav, a
    missing page) fails the build, and none is printed either."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert "WARNING" not in log and "ERROR" not in log, log
    return out


def test_the_readme_is_short_and_keeps_what_ci_runs():
    """At most 250 lines; the two blocks .ci/run reads are there, and the site's quick start says the same."""
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    main, test = _block(text, "main"), _block(text, "test")
    assert main.startswith("python -m pip install .") and "gatelab check" in main
    assert "pytest" in test and "gatelab audit" in test
    overview = (DOCS / "index.md").read_text(encoding="utf-8")
    assert f"```sh\n{main}\n```" in overview and f"```sh\n{test}\n```" in overview


def test_the_site_builds_strictly_with_every_page(site):
    """Every Markdown file in docs/ became a page; the command reference is each command's own --help."""
    for page in _pages():
        relative = page.relative_to(DOCS).with_suffix("")
        built = site / (relative.parent if relative.name == "index" else relative) / "index.html"
        assert built.is_file(), page
    commands = html.unescape((site / "reference" / "cli" / "index.html").read_text(encoding="utf-8"))
    from gatelab.cli import main

    for name in main.commands:
        assert f'id="grade-{name}"' in commands and f"Usage: grade {name} [OPTIONS]" in commands, name
    assert "-h, --help" in commands and "Exit codes:" in commands


def test_every_relative_link_resolves(site):
    """Each relative link in README.md and docs/ names a file that exists; one with an anchor names an id
    that is on the built page."""
    checked = 0
    for source in [README, *_pages()]:
        for target in _links(source):
            path, _, anchor = target.partition("#")
            file = (source.parent / path).resolve() if path else source
            assert file.exists(), f"{source.relative_to(ROOT)}: {target} does not exist"
            checked += 1
            if not anchor:
                continue
            assert file.suffix == ".md" and file.is_relative_to(DOCS), f"{source.relative_to(ROOT)}: {target}"
            relative = file.relative_to(DOCS).with_suffix("")
            page = site / (relative.parent if relative.name == "index" else relative) / "index.html"
            assert f'id="{anchor}"' in page.read_text(encoding="utf-8"), f"{source.relative_to(ROOT)}: {target}"
    assert checked > 40


def test_the_link_finder_finds_links_and_skips_code():
    """The check above cannot pass by finding nothing: links are found, code is not read as links."""
    text = "See [a](a.md#x) and ![b](img/b.png \"t\") and `[c](c.md)`.\n```\n[d](d.md)\n```\n[e](https://e.org)\n"
    found = LINK.findall(_prose(text))
    assert found == ["a.md#x", "img/b.png", "https://e.org"]


def test_each_lms_page_says_what_was_verified_and_how():
    """The LMS pages keep their *Verified* paragraphs, and say what was not verified."""
    for name in ("gradescope", "github-classroom", "gitlab", "prairielearn", "canvas"):
        text = (DOCS / "instructor" / f"{name}.md").read_text(encoding="utf-8")
        assert re.search(r"\*{1,2}(Verified|What was verified)", text) and re.search(r"tests/test_\w+\.py", text), name
        assert re.search(r"[Nn]ot\s+verified|not\s+in\s+CI", text), name
