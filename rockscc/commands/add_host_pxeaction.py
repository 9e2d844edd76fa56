"""`rockscc add host pxeaction`."""

from __future__ import annotations

from rockscc.cli.command import Command, Param
from rockscc.commands._pxe import HOSTS_OR_GLOBAL, hosts_or_none
from rockscc.errors import RocksccError
from rockscc.model import PxeAction


class AddHostPxeaction(Command):
    """Add or update a PXE action: for the named hosts only, or, with no host, globally.
    On update an omitted command or args keeps its old value; a new host row takes what it omits
    from the global action of the same label."""

    name = "add host pxeaction"
    args = [HOSTS_OR_GLOBAL]
    params = [
        Param("action", required=True),
        Param("command", help='pxelinux command, e.g. "kernel vmlinuz"'),
        Param("args", help='e.g. "append ks initrd=initrd.img …"'),
    ]
    examples = [
        'rockscc add host pxeaction action="install ucsd" command="kernel vmlinuz" '
        'args="append ks initrd=initrd.img ramdisk_size=150000 lang= devfs=nomount pxe kssendmac selinux=0 noipv6 ucsd=rocks"',
        'rockscc add host pxeaction compute-0-0 action=install args="append ks initrd=initrd.img console=ttyS0"',
    ]
    mutates = True

    def run(self, ctx, opts) -> None:
        label = opts.action.strip()
        if not label or any(ord(c) < 32 for c in label):
            raise RocksccError("action: a label must be non-empty text on one line")
        hosts = hosts_or_none(ctx, opts.host)
        tables = [ctx.cluster.pxeactions] if hosts is None else [h.pxeactions for h in hosts]
        for table in tables:
            # a new host row starts from the global action of the same label
            old = table.get(label) or (ctx.cluster.pxeactions.get(label) if hosts is not None else None)
            command = opts.command if opts.command is not None else (old.command if old else None)
            if not command:
                raise RocksccError(f'command= is required for the new action "{label}"')
            args = opts.args if opts.args is not None else (old.args if old else None)
            table[label] = PxeAction(command, args or None)
