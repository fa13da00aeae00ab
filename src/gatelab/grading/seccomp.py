"""The worker's system-call filter (seccomp-bpf): what no grading call needs fails with EPERM, in the kernel.

A small classic-BPF program, written here rather than through libseccomp:
it is some thirty instructions, needs no system library (slim and Alpine
images lack libseccomp), and tests check every number in it against the
kernel's own headers. What it refuses (``DENIED``): starting programs
(``execve``), new processes (``fork``, ``clone`` without ``CLONE_THREAD``),
new sessions and groups, tracing and reading other processes, mounts and
namespaces, kernel keys, BPF and perf, ``io_uring`` (whose operations the
filter could not see), file handles, every ``socket`` (only ``socketpair``
stays: a function needs no network), signals to any process but itself,
device nodes and FIFOs, identity changes, and the machine's clock, modules
and reboot. Calls of another architecture (``int 0x80``, x32) are refused
whole. A refused call returns ``EPERM`` (``clone3``: ``ENOSYS``, so that a
thread library falls back to ``clone``, which is then judged by its flags):
the process goes on and the tripwire's feedback names what it tried.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

from gatelab.grading import kernel

DENIED = (
    "execve", "execveat", "fork", "vfork", "setsid", "setpgid", "ptrace", "process_vm_readv", "process_vm_writev",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
    "fspick", "mount_setattr", "unshare", "setns", "bpf", "perf_event_open", "keyctl", "add_key", "request_key",
    "socket", "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "open_by_handle_at",
    "name_to_handle_at", "kcmp", "pidfd_getfd", "pidfd_open", "pidfd_send_signal", "tkill", "rt_sigqueueinfo",
    "rt_tgsigqueueinfo", "personality", "init_module", "finit_module", "delete_module", "kexec_load",
    "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "settimeofday", "clock_settime",
    "adjtimex", "clock_adjtime", "sethostname", "setdomainname", "syslog", "vhangup", "mknod", "mknodat", "setuid",
    "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "capset",
    "iopl", "ioperm", "uselib",
)
OWN_PROCESS_ONLY = ("kill", "tgkill")  # allowed only with this process's own pid as the first argument
THREADS_ONLY = "clone"  # allowed only with CLONE_THREAD in its flags
NOT_THERE = "clone3"  # answered ENOSYS

# System call numbers, as in the kernel's headers (tests compare them with asm/unistd_64.h and
# asm-generic/unistd.h where those are installed). aarch64 has no fork, vfork, mknod, iopl, ioperm or uselib.
NUMBERS = {
    "x86_64": {
        "execve": 59, "execveat": 322, "fork": 57, "vfork": 58, "clone": 56, "clone3": 435, "setsid": 112,
        "setpgid": 109, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "mount": 165,
        "umount2": 166, "pivot_root": 155, "chroot": 161, "move_mount": 429, "open_tree": 428, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "unshare": 272, "setns": 308,
        "bpf": 321, "perf_event_open": 298, "keyctl": 250, "add_key": 248, "request_key": 249, "socket": 41,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "userfaultfd": 323,
        "open_by_handle_at": 304, "name_to_handle_at": 303, "kcmp": 312, "pidfd_getfd": 438, "pidfd_open": 434,
        "pidfd_send_signal": 424, "kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129,
        "rt_tgsigqueueinfo": 297, "personality": 135, "init_module": 175, "finit_module": 313, "delete_module": 176,
        "kexec_load": 246, "kexec_file_load": 320, "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163,
        "quotactl": 179, "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305,
        "sethostname": 170, "setdomainname": 171, "syslog": 103, "vhangup": 153, "mknod": 133, "mknodat": 259,
        "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114, "setresuid": 117, "setresgid": 119,
        "setgroups": 116, "setfsuid": 122, "setfsgid": 123, "capset": 126, "iopl": 172, "ioperm": 173,
        "uselib": 134,
    },
    "aarch64": {
        "execve": 221, "execveat": 281, "clone": 220, "clone3": 435, "setsid": 157, "setpgid": 154, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271, "mount": 40, "umount2": 39, "pivot_root": 41,
        "chroot": 51, "move_mount": 429, "open_tree": 428, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
        "fspick": 433, "mount_setattr": 442, "unshare": 97, "setns": 268, "bpf": 280, "perf_event_open": 241,
        "keyctl": 219, "add_key": 217, "request_key": 218, "socket": 198, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "userfaultfd": 282, "open_by_handle_at": 265,
        "name_to_handle_at": 264, "kcmp": 272, "pidfd_getfd": 438, "pidfd_open": 434, "pidfd_send_signal": 424,
        "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
        "personality": 92, "init_module": 105, "finit_module": 273, "delete_module": 106, "kexec_load": 104,
        "kexec_file_load": 294, "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89, "quotactl": 60,
        "settimeofday": 170, "clock_settime": 112, "adjtimex": 171, "clock_adjtime": 266, "sethostname": 161,
        "setdomainname": 162, "syslog": 116, "vhangup": 58, "mknodat": 33, "setuid": 146, "setgid": 144,
        "setreuid": 145, "setregid": 143, "setresuid": 147, "setresgid": 149, "setgroups": 159, "setfsuid": 151,
        "setfsgid": 152, "capset": 91,
    },
}
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_BIT = 0x40000000  # x86_64's x32 calls carry this bit in their number
CLONE_THREAD = 0x00010000

# Classic BPF, as <linux/filter.h> and <linux/seccomp.h> define it.
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_NR, _ARCH, _ARG0_LOW, _ARG0_HIGH = 0, 4, 16, 20  # offsets in struct seccomp_data (little-endian)
_SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC = 1, 1
_SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}


def machine() -> str | None:
    """This machine's architecture, if the filter knows its system calls (Linux on x86_64 or aarch64)."""
    name = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    return name if kernel.linux() and name in NUMBERS and struct.pack("=H", 1) == b"\x01\x00" else None


def available() -> bool:
    """Whether this kernel filters system calls (``Seccomp:`` in /proc/self/status) on an architecture known here."""
    return machine() is not None and kernel.status_field("Seccomp") is not None


class _Program:
    """A BPF program under construction: instructions with symbolic jump targets, resolved by :meth:`code`."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, str | int, str | int] | str] = []

    def add(self, code: int, k: int, true: str | int = 0, false: str | int = 0) -> None:
        self.rows.append((code, k, true, false))

    def label(self, name: str) -> None:
        self.rows.append(name)

    def code(self) -> bytes:
        where: dict[str, int] = {}
        count = 0
        for row in self.rows:
            if isinstance(row, str):
                where[row] = count
            else:
                count += 1
        out, index = bytearray(), 0
        for row in self.rows:
            if isinstance(row, str):
                continue
            code, k, true, false = row
            jumps = [where[j] - index - 1 if isinstance(j, str) else j for j in (true, false)]
            if not all(0 <= j < 256 for j in jumps):
                raise ValueError("a jump in the seccomp filter is out of range")
            out += struct.pack("=HBBI", code, jumps[0], jumps[1], k)
            index += 1
        return bytes(out)


def program(arch: str, pid: int) -> bytes:
    """The filter for ``arch``, for the process ``pid`` (the only one it may signal)."""
    numbers = NUMBERS[arch]
    bpf = _Program()
    bpf.add(_LD_W_ABS, _ARCH)
    bpf.add(_JEQ_K, AUDIT_ARCH[arch], 0, "deny")
    bpf.add(_LD_W_ABS, _NR)
    if arch == "x86_64":
        bpf.add(_JGE_K, X32_BIT, "deny", 0)
    for name in DENIED:
        if name in numbers:
            bpf.add(_JEQ_K, numbers[name], "deny", 0)
    bpf.add(_JEQ_K, numbers[NOT_THERE], "absent", 0)
    bpf.add(_JEQ_K, numbers[THREADS_ONLY], "clone", 0)
    for name in OWN_PROCESS_ONLY:
        bpf.add(_JEQ_K, numbers[name], "own", 0)
    bpf.add(_RET_K, _RET_ALLOW)
    bpf.label("clone")
    bpf.add(_LD_W_ABS, _ARG0_LOW)
    bpf.add(_JSET_K, CLONE_THREAD, "allow", "deny")
    bpf.label("own")
    bpf.add(_LD_W_ABS, _ARG0_LOW)
    bpf.add(_JEQ_K, pid, 0, "deny")
    bpf.add(_LD_W_ABS, _ARG0_HIGH)
    bpf.add(_JEQ_K, 0, "allow", "deny")
    bpf.label("allow")
    bpf.add(_RET_K, _RET_ALLOW)
    bpf.label("deny")
    bpf.add(_RET_K, _RET_ERRNO | errno.EPERM)
    bpf.label("absent")
    bpf.add(_RET_K, _RET_ERRNO | errno.ENOSYS)
    return bpf.code()


class _Filter(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def install() -> None:
    """Filter this process's system calls, all its threads included, for good (after ``no_new_privs``).
    Raises OSError where the kernel refuses."""
    arch = machine()
    if arch is None:
        raise OSError(errno.ENOSYS, "no seccomp filter for this machine")
    code = program(arch, os.getpid())
    prog = _Filter(len(code) // 8, code)
    if kernel.call(_SYS_SECCOMP[arch], _SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(prog)):
        raise OSError(errno.EBUSY, "a thread of the worker could not be filtered")
