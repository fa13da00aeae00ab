"""Landlock for the worker: it may read only what it needs, write only its own folder, and reach nothing else.

A small ctypes layer over Landlock's three system calls (the same numbers
on every architecture), rather than a binding from PyPI: none is kept up
with the kernel's ABI versions, and this one is tested from inside a
worker. Landlock is unprivileged and works inside Docker; a kernel without
it (or with it disabled) answers ``abi() == 0``.

What a ruleset built here does, by ABI: reading and listing only below the
read roots, writing and creating regular files and folders only below the
worker's own folder, nothing else on the file system (1-3, 5); no TCP bind
or connect (4); no signals to processes outside the worker's own domain and
no abstract UNIX sockets outside it (6).
"""
from __future__ import annotations

import ctypes
import os
import struct
from dataclasses import dataclass, field

from gatelab.grading import kernel

_CREATE, _ADD_RULE, _RESTRICT = 444, 445, 446
_VERSION = 1
_PATH_BENEATH = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM, REFER, TRUNCATE, IOCTL_DEV = (1 << n for n in range(9, 16))
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # what a rule on a file (not a folder) may hold
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1, 2

READ = READ_FILE | READ_DIR
WRITE = READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | REFER | TRUNCATE


def abi() -> int:
    """The Landlock ABI version this kernel offers (0: none)."""
    if not kernel.linux():
        return 0
    try:
        return kernel.call(_CREATE, None, 0, _VERSION)
    except OSError:
        return 0


def handled_fs(version: int) -> int:
    """Every file-system right that ABI ``version`` knows: all of them are refused unless a rule grants them."""
    rights = (1 << 13) - 1
    if version >= 2:
        rights |= REFER
    if version >= 3:
        rights |= TRUNCATE
    if version >= 5:
        rights |= IOCTL_DEV
    return rights


@dataclass
class Ruleset:
    """What a worker may reach: folders (or files) to read, folders to write in, and the ABI to use."""

    version: int
    read: list[str] = field(default_factory=list)
    write: list[str] = field(default_factory=list)
    read_write_files: list[str] = field(default_factory=list)  # e.g. /dev/null

    def layers(self) -> list[str]:
        """What this ruleset enforces, by name, for the results' record."""
        named = ["landlock-fs"]
        if self.version >= 4:
            named.append("landlock-tcp")
        if self.version >= 6:
            named.append("landlock-scope")
        return named

    def build(self) -> int:
        """A ruleset descriptor holding every rule (opened now: the caller may still be privileged)."""
        handled = handled_fs(self.version)
        net = NET_BIND_TCP | NET_CONNECT_TCP if self.version >= 4 else 0
        scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if self.version >= 6 else 0
        attr = struct.pack("=QQQ", handled, net, scoped)
        size = 8 if self.version < 4 else 16 if self.version < 6 else 24
        ruleset = kernel.call(_CREATE, ctypes.c_char_p(attr[:size]), size, 0)
        try:
            for paths, rights in ((self.read, READ), (self.write, WRITE),
                                  (self.read_write_files, READ_FILE | WRITE_FILE)):
                for path in paths:
                    self._allow(ruleset, path, rights & handled)
        except BaseException:
            os.close(ruleset)
            raise
        return ruleset

    @staticmethod
    def _allow(ruleset: int, path: str, rights: int) -> None:
        try:
            target = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return  # not there: nothing to allow
        try:
            if not os.path.isdir(f"/proc/self/fd/{target}"):
                rights &= _FILE_RIGHTS
            rule = struct.pack("=Qi", rights, target)
            kernel.call(_ADD_RULE, ruleset, _PATH_BENEATH, ctypes.c_char_p(rule), 0)
        finally:
            os.close(target)


def restrict(ruleset: int) -> None:
    """Put this thread (the worker has only one) under ``ruleset`` for good; needs ``no_new_privs``."""
    try:
        kernel.call(_RESTRICT, ruleset, 0)
    finally:
        os.close(ruleset)
