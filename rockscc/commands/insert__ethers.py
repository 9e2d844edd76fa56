"""`rockscc insert-ethers`: Rocks' verb: new machines become hosts in power-on order."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rockscc.cli.command import Command, Param
from rockscc.commands._compile import COMPILE_PARAMS, compile_options
from rockscc.errors import RocksccError


class InsertEthers(Command):
    """Watch DHCP requests and add each unknown machine as the next host, in power-on order.

    As in Rocks: run it (beside rockscc serve), then power the new machines on one after
    another. Each DHCP request from a MAC the description does not know becomes the next
    <appliance>-<rack>-<rank> (compute-0-0, compute-0-1, ...) with the next free private address,
    its next boot install; that host and the network files are built at once, so the machine's
    next DHCP retry boots its install. Only PXE firmware's requests count (pxe-only=no: any).
    rank= sets the first new rank (default: after the highest of the appliance in the rack).

    record=FILE only records the new MACs (MAC, time, vendor class; one line each, in order),
    adding nothing. count=N stops after N. Ctrl-C stops between two hosts: the description and
    the hosts added so far are always whole. Needs root (a packet socket on the interface that
    holds the private address, or interface=); it never changes the network configuration."""

    name = "insert-ethers"
    params = [
        Param("appliance", default="Compute", help="membership or appliance name of the new hosts"),
        Param("rack", kind="int", default=0, help="rack of the new hosts"),
        Param("rank", kind="int", help="rank of the first new host"),
        Param("interface", help="interface to watch (default: the one holding Kickstart_PrivateAddress)"),
        Param("record", help="only append new MACs to this file"),
        Param("pxe-only", kind="bool", default=True, help="only requests from PXE firmware"),
        Param("count", kind="int", help="stop after this many new machines"),
        Param("out", help="build directory (default: build/ in the description)"),
        *COMPILE_PARAMS,  # the new hosts are built as `rockscc build` builds them
    ]
    examples = [
        "rockscc insert-ethers",
        "rockscc insert-ethers appliance=Compute rack=1",
        "rockscc insert-ethers appliance=nas rank=10",
        "rockscc insert-ethers record=macs.txt",
    ]

    def run(self, ctx, opts) -> None:
        from rockscc.provision.discover import DiscoverOptions, watch

        for name in ("rack", "rank", "count"):
            value = getattr(opts, name)
            if value is not None and value < 0:
                raise RocksccError(f"{name}: {value} must not be negative")
        options = DiscoverOptions(
            appliance=opts.appliance,
            rack=opts.rack,
            rank=opts.rank,
            interface=opts.interface,
            record=Path(opts.record) if opts.record else None,
            pxe_only=opts.pxe_only,
            count=opts.count,
            out=Path(opts.out) if opts.out else None,
            compile=compile_options(opts),
        )
        watch(ctx.root, options, _log)


def _log(line: str) -> None:
    sys.stdout.write(f"{time.strftime('%H:%M:%S')} {line}\n")
    sys.stdout.flush()
