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


FILE_BLOCK = re.compile(r'^```\w+ title="(?P<path>[^"]+)"\n(?P<text>.*?)^```$', re.M | re.S)
SHELL_BLOCK = re.compile(r"^```sh\n(?P<text>.*?)^```$", re.M | re.S)


def test_the_course_from_scratch_is_a_course_gatelab_grades(tmp_path):
    """docs/instructor/from-scratch.md, followed as written: its files written into an empty folder and its
    commands run there give the exercises, full marks for the reference and an audit that holds, as it says."""
    page = (DOCS / "instructor" / "from-scratch.md").read_text(encoding="utf-8")
    files = {m["path"]: m["text"] for m in FILE_BLOCK.finditer(page)}
    assert {"solutions/act.py", "grader/contract.yaml", "grader/config.yaml", "grader/tests/test_act.py"} <= set(files)
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    (commands,) = [m["text"].split("\n")[:-1] for m in SHELL_BLOCK.finditer(page)]
    assert [c.split()[:2] for c in commands] == [["grade", "generate"], ["grade", "check"], ["grade", "audit"]]
    said = {}
    for command in commands:
        done = subprocess.run([sys.executable, "-m", "gatelab", *command.split()[1:]], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"})
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        said[command.split()[1]] = done.stdout
    assert "raise NotImplementedError('np.maximum with 0')" in (tmp_path / "exercises" / "act.py").read_text()
    assert "Score: 8/8" in page and "Score: 8/8" in said["check"]
    assert "All 12 checks hold." in page and "All 12 checks hold." in said["audit"]
