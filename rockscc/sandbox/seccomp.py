"""The seccomp filter every sandboxed program runs under (x86_64). Standard library only: the
sandbox's supervisor (supervisor.py) imports it inside bubblewrap.

The program already has no capabilities, so most of the calls refused here would fail anyway;
the filter shuts the doors that stay open to an unprivileged process:
- new namespaces: `unshare`, `setns`, `clone` with a CLONE_NEW* flag (a new user namespace would
  give the program a full set of capabilities inside it), `clone3` (its flags sit in memory a
  filter cannot read: ENOSYS, and the C library falls back to `clone`);
- the kernel keyrings (`add_key`, `request_key`, `keyctl`), shared by every process of a uid;
- looking into other processes (`ptrace`, `process_vm_*`, `pidfd_getfd`, `kcmp`);
- mounting in any form, and large kernel attack surfaces no partition program or `<eval>` needs
  (`bpf`, `perf_event_open`, `userfaultfd`, `io_uring`, modules, kexec, …);
- any other syscall ABI than x86_64's (i386 via `int 0x80`, x32), whose numbers differ.
"""

import ctypes
import errno
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
CLONE_NEW_FLAGS = 0x7E020000 | 0x80  # NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET; NEWTIME

# x86_64 numbers (asm/unistd_64.h; tests/sandbox checks them against the header where it exists)
REFUSED = {
    "ptrace": 101,
    "syslog": 103,
    "uselib": 134,
    "ustat": 136,
    "sysfs": 139,
    "vhangup": 153,
    "pivot_root": 155,
    "_sysctl": 156,
    "adjtimex": 159,
    "chroot": 161,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "sethostname": 170,
    "setdomainname": 171,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "nfsservctl": 180,
    "lookup_dcookie": 212,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "fanotify_init": 300,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "clock_adjtime": 305,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kcmp": 312,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
    "quotactl_fd": 443,
    "memfd_secret": 447,
}
CLONE, CLONE3 = 56, 435

# classic BPF
LD_W_ABS, JEQ_K, JGE_K, JSET_K, RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
OFFSET_NR, OFFSET_ARCH, OFFSET_ARG0 = 0, 4, 16  # struct seccomp_data (arg0's low 32 bits: little-endian)

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2


def _insn(code, k=0, jt=0, jf=0):
    return (code, jt, jf, k)


def program():
    """The filter as (code, jt, jf, k) instructions."""
    refused = sorted(set(REFUSED.values()))
    deny_eperm, deny_enosys = _insn(RET_K, RET_ERRNO | errno.EPERM), _insn(RET_K, RET_ERRNO | errno.ENOSYS)
    body = [_insn(LD_W_ABS, OFFSET_NR), _insn(JGE_K, X32_SYSCALL_BIT, jt=0, jf=1), deny_enosys]
    # one comparison per refused number, each jumping to the shared EPERM return at the end: past
    # the comparisons after it, then the six instructions that follow them
    for i, number in enumerate(refused):
        body.append(_insn(JEQ_K, number, jt=len(refused) - i - 1 + 6, jf=0))
    body += [
        _insn(JEQ_K, CLONE3, jt=0, jf=1),
        deny_enosys,
        _insn(JEQ_K, CLONE, jt=0, jf=2),
        _insn(LD_W_ABS, OFFSET_ARG0),
        _insn(JSET_K, CLONE_NEW_FLAGS, jt=1, jf=0),
        _insn(RET_K, RET_ALLOW),
        deny_eperm,
    ]
    head = [_insn(LD_W_ABS, OFFSET_ARCH), _insn(JEQ_K, AUDIT_ARCH_X86_64, jt=1, jf=0), deny_enosys]
    return head + body


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_INSTRUCTIONS = program()
_BUFFER = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *insn) for insn in _INSTRUCTIONS))
_FPROG = _SockFprog(len(_INSTRUCTIONS), ctypes.cast(_BUFFER, ctypes.c_void_p))  # built once, installed per step


def install(libc):
    """Install the filter on the calling thread (no_new_privs must already be set)."""
    fprog = _FPROG
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter refused")
