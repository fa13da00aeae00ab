"""Gradescope's autograder.zip on images as they are, not our picture of them.

- A real Debian 12 root file system, built by debootstrap from the package registry (its system Python is
  externally managed, PEP 668, and it has no venv module: like Ubuntu 24.04's images), where ``setup.sh``
  then ``run_autograder`` run as root under chroot, as Gradescope runs them in its container.
- A machine whose python3 is 3.10 (Ubuntu 22.04's) and offers no other: gatelab itself installs and grades
  there, and ``setup.sh`` refuses to install other versions than the release's, saying why and what to do.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import COURSE, build_release

SUITE, MIRROR = "bookworm", "http://deb.debian.org/debian"
PACKAGES = ("python3", "python3-pip", "ca-certificates")  # a Python image without venv, as Gradescope's base
HOST_FILES = ("etc/resolv.conf", "etc/ssl/certs/ca-certificates.crt", "etc/pip.conf", "etc/xdg/pip")
PYTHON310 = Path("/root/.pyenv/versions/3.10.13/bin/python3.10")
CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
             "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt", "PIP_DEFAULT_TIMEOUT": "180"}


def _needs_root_linux() -> None:
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("a root file system is built and entered as root on Linux (as CI runs)")
    if not shutil.which("debootstrap") and shutil.which("apt-get"):  # a fresh CI machine: set it up here
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for step in (["install"], ["update"], ["install"]):  # the package lists may be empty on a new machine
            if shutil.which("debootstrap"):
                break
            subprocess.run(["apt-get", *step, "-y", "-qq", *(["debootstrap"] if step == ["install"] else [])],
                           capture_output=True, timeout=600, env=env)
    if not shutil.which("debootstrap"):
        pytest.fail("debootstrap is not installed and apt-get could not install it")


def _rootfs(into: Path) -> Path:
    """A fresh Debian root file system in ``into``: built once per package list (kept under /var/tmp for the
    next run on this machine), copied so that every run starts from the pristine image."""
    key = hashlib.sha256(f"{SUITE} {MIRROR} {' '.join(PACKAGES)}".encode()).hexdigest()[:12]
    cached = Path(os.environ.get("GATELAB_ROOTFS_CACHE", "/var/tmp/gatelab-rootfs")) / f"{SUITE}-{key}"
    if not (cached / "usr" / "bin" / "python3").exists():
        building = cached.with_name(cached.name + ".partial")
        shutil.rmtree(building, ignore_errors=True)
        building.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(building),
                        MIRROR], check=True, capture_output=True, timeout=900)
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


def _chroot(root: Path, *command: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["chroot", str(root), *command], env=CLEAN_ENV, capture_output=True, text=True,
                          timeout=timeout)


def _gradescope_layout(root: Path, release: Path) -> None:
    """/autograder as Gradescope lays it out: source/ the unzipped bundle, run_autograder copied beside it, the
    submission and its metadata."""
    source = root / "autograder" / "source"
    with zipfile.ZipFile(release / "gradescope" / "autograder.zip") as bundle:
        for member in bundle.infolist():
            bundle.extract(member, source)
            if member.external_attr >> 16 & 0o111:
                (source / member.filename).chmod(0o755)
    shutil.copy(source / "run_autograder", root / "autograder" / "run_autograder")
    submission = root / "autograder" / "submission"
    submission.mkdir()
    for module in (COURSE / "solutions").glob("*.py"):
        shutil.copy(module, submission / module.name)
    (root / "autograder" / "submission_metadata.json").write_text(json.dumps({
        "created_at": "2026-12-01T10:00:00+00:00", "assignment": {"due_date": "2026-12-02T10:00:00+00:00"},
        "users": [{"email": "Ada@Example.com", "id": 4242, "name": "Ada"}]}))


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_release(tmp_path_factory.mktemp("release"))


@pytest.mark.rootfs
def test_setup_and_run_autograder_in_a_debian_root_file_system(release, tmp_path):
    """In Debian 12 as debootstrap makes it: pip refuses the system Python; setup.sh installs python3-venv with
    apt-get, makes a venv with exactly the release's versions; run_autograder grades the reference's code to
    full marks behind the wall, by the account's email."""
    _needs_root_linux()
    root = _rootfs(tmp_path / "rootfs")
    _gradescope_layout(root, release)
    subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)
    subprocess.run(["mount", "--bind", "/dev", str(root / "dev")], check=True)
    try:
        refused = _chroot(root, "python3", "-m", "pip", "install", "--dry-run", "numpy")
        assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr, refused.stderr
        setup = _chroot(root, "bash", "/autograder/source/setup.sh")
        assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
        assert "installing python3.11-venv" in setup.stderr and "gatelab, version" in setup.stdout
        pinned = dict(line.split("==") for line in (root / "autograder" / "source" / "constraints.txt").read_text()
                      .splitlines() if "==" in line)
        listed = _chroot(root, "/opt/gatelab-venv/bin/python", "-m", "pip", "list", "--format=json")
        installed = {entry["name"].lower().replace("_", "-"): entry["version"] for entry in json.loads(listed.stdout)}
        assert pinned and all(installed.get(name) == version for name, version in pinned.items()), (pinned, installed)
        graded = _chroot(root, "bash", "/autograder/run_autograder", timeout=600)
        assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    finally:
        for mount in ("dev", "proc"):
            subprocess.run(["umount", "-l", str(root / mount)], check=False)
    document = json.loads((root / "autograder" / "results" / "results.json").read_text())
    code = [test for test in document["tests"] if not test["name"].startswith("quiz.") and test["max_score"]]
    assert code and all(test["score"] == test["max_score"] for test in code), [t["name"] for t in code
                                                                               if t["score"] != t["max_score"]]
    assert "student id 'ada@example.com'" in document["output"]
    assert "seccomp" in graded.stderr + graded.stdout


def test_python_310_grades_and_setup_refuses_other_versions_than_tested(release, tmp_path):
    """Where python3 is 3.10 and no other can be had: gatelab installs and grades there (the package supports
    3.10), and setup.sh, whose pins came from a newer Python, stops and says why instead of installing other
    versions than the release was tested with."""
    if not PYTHON310.exists():
        pytest.skip(f"{PYTHON310} is not on this machine")
    tools = tmp_path / "bin"  # a PATH with a python3 that is 3.10, and no apt-get
    tools.mkdir()
    (tools / "python3").symlink_to(PYTHON310)
    for tool in ("bash", "env", "rm", "dirname", "cat", "mkdir", "chmod"):
        (tools / tool).symlink_to(shutil.which(tool) or f"/bin/{tool}")
    bundle = tmp_path / "autograder"
    zipfile.ZipFile(release / "gradescope" / "autograder.zip").extractall(bundle)
    env = {**CLEAN_ENV, "PATH": str(tools), "GATELAB_VENV": str(tmp_path / "venv"),
           "PIP_FIND_LINKS": os.environ.get("PIP_FIND_LINKS", "")}
    setup = subprocess.run([str(tools / "bash"), str(bundle / "setup.sh")], env=env, capture_output=True,
                           text=True, timeout=600)
    if "numpy==" in (bundle / "constraints.txt").read_text() and sys.version_info[:2] > (3, 10):
        assert setup.returncode == 1, setup.stdout[-2000:] + setup.stderr[-2000:]
        assert "older than the tested Python" in setup.stderr
        assert "do not install on Python 3.10" in setup.stderr and "Use a base image" in setup.stderr
    venv = tmp_path / "venv310"
    subprocess.run([str(PYTHON310), "-m", "venv", str(venv)], check=True, timeout=120)
    wheel = next((bundle / "wheels").glob("gatelab-*.whl"))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                   timeout=600, env={**os.environ, "PIP_CONSTRAINT": ""})
    submission = tmp_path / "submission"
    submission.mkdir()
    for module in (COURSE / "solutions").glob("*.py"):
        shutil.copy(module, submission / module.name)
    out = tmp_path / "results.json"
    graded = subprocess.run([str(venv / "bin" / "python"), "-m", "gatelab", "autograde", "--assignment",
                             str(bundle / "assignment"), "--submission", str(submission), "--format", "json",
                             "--output", str(out)], capture_output=True, text=True, timeout=600)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    document = json.loads(out.read_text())
    code = [t for t in document["tests"] if t["kind"] != "question"]
    assert code and all(t["score"] == t["max_score"] for t in code)
