"""Imports for a worker whose unprivileged user cannot read the interpreter's own library folders.

Started as root, the worker becomes ``nobody``. When Python lives in a private home (pyenv under a
0700 ``/root``, as in many CI and Docker images), ``nobody`` can no longer open the standard library,
and every module not imported before the drop would look missing. So, before the drop, the worker
opens each such library folder; after it, :class:`DescriptorFinder` reads pure-Python modules through
those open folders (``openat`` checks only the path below the folder, which stays as readable as it
was). A compiled module cannot be loaded that way: importing one raises an ImportError that says why.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import stat
import sys
from types import ModuleType
from typing import Sequence


def readable_by_others(path: str) -> bool:
    """Whether a user who owns nothing here could list ``path`` and reach it through its parents."""
    real = os.path.realpath(path)
    try:
        mode = os.stat(real).st_mode
        if not stat.S_ISDIR(mode) or (mode & (stat.S_IROTH | stat.S_IXOTH)) != (stat.S_IROTH | stat.S_IXOTH):
            return False
        parent = os.path.dirname(real)
        while parent != os.path.dirname(parent):
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
            parent = os.path.dirname(parent)
    except OSError:
        return False
    return True


def open_private_folders(entries: Sequence[str]) -> dict[str, int]:
    """Open each import folder in ``entries`` that others cannot read; keyed by its spelling and real path."""
    folders: dict[str, int] = {}
    for entry in entries:
        if not entry or not os.path.isdir(entry) or readable_by_others(entry):
            continue
        try:
            descriptor = os.open(entry, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        for spelling in {os.path.abspath(entry), os.path.realpath(entry)}:
            folders.setdefault(spelling, descriptor)
    return folders


class DescriptorFinder(importlib.abc.MetaPathFinder):
    """Finds modules below folders opened before the worker lost the right to open them by name."""

    def __init__(self, folders: dict[str, int]) -> None:
        self.folders = dict(sorted(folders.items(), key=lambda item: -len(item[0])))

    def locate(self, path: str) -> tuple[int, str] | None:
        """The open folder holding ``path`` and the path relative to it, or None if none holds it."""
        for folder, descriptor in self.folders.items():
            if path == folder:
                return descriptor, "."
            if path.startswith(folder + os.sep):
                return descriptor, path[len(folder) + 1:]
        return None

    def exists(self, path: str) -> bool:
        where = self.locate(path)
        if where is None:
            return False
        try:
            os.stat(where[1], dir_fd=where[0])
        except OSError:
            return False
        return True

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        tail = fullname.rpartition(".")[2]
        for entry in (sys.path if path is None else path):
            if not isinstance(entry, str) or self.locate(os.path.abspath(entry)) is None:
                continue
            base = os.path.join(os.path.abspath(entry), tail)
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                if self.exists(base + suffix):
                    raise ImportError(
                        f"the compiled module {fullname!r} cannot be loaded while grading: the grader's Python is "
                        "installed where the sandbox's user cannot read it (ask your instructor)", name=fullname)
            package = os.path.join(base, "__init__.py")
            if self.exists(package):
                return importlib.util.spec_from_file_location(
                    fullname, package, loader=DescriptorLoader(fullname, package, self),
                    submodule_search_locations=[base])
            if self.exists(base + ".py"):
                return importlib.util.spec_from_file_location(
                    fullname, base + ".py", loader=DescriptorLoader(fullname, base + ".py", self))
        return None


class DescriptorLoader(importlib.machinery.SourceFileLoader):
    """Loads a module's source (or its cached bytecode) through the finder's open folders."""

    def __init__(self, fullname: str, path: str, finder: DescriptorFinder) -> None:
        super().__init__(fullname, path)
        self.finder = finder

    def _where(self, path: str) -> tuple[int, str]:
        where = self.finder.locate(str(path))
        if where is None:
            raise OSError(f"{path} is not below a folder opened for importing")
        return where

    def get_data(self, path: str) -> bytes:
        descriptor, relative = self._where(path)
        handle = os.open(relative, os.O_RDONLY, dir_fd=descriptor)
        try:
            chunks = []
            while chunk := os.read(handle, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(handle)

    def path_stats(self, path: str) -> dict[str, float]:
        descriptor, relative = self._where(path)
        status = os.stat(relative, dir_fd=descriptor)
        return {"mtime": status.st_mtime, "size": status.st_size}
