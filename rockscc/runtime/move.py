"""`move host vm`: save, copy state and disks to the new container, restore there; any failure
puts the VM back where it was (restored on the source, copies removed, description unchanged).
Containers that both support libvirt migration use it instead."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

from rockscc.errors import RocksccError
from rockscc.model.vms import disk_dir
from rockscc.runtime.connection import connect, libvirt_errors, uri_for
from rockscc.runtime.vms import VMRuntime, copy_file, default_state_file, is_local

FAULT_ENV = "ROCKSCC_FAULT"  # tests inject a failure: ROCKSCC_FAULT=move:<step>
STEPS = ("save", "copy-state", "copy-disk", "restore", "cleanup")


def _step(name: str) -> None:
    if os.environ.get(FAULT_ENV) == f"move:{name}":
        raise RocksccError(f"injected failure at move step {name}")


def move_vm(cluster, vm_host, target, say: Callable[[str], None]) -> None:
    """Move the running VM to container `target`; on success update the description in place."""
    source = cluster.hosts[vm_host.vm.container]
    src_rt = VMRuntime(cluster, vm_host)
    src_uri, dst_uri = uri_for(cluster, source), uri_for(cluster, target)
    if not (is_local(src_uri) and is_local(dst_uri)):
        _migrate(cluster, vm_host, source, target)
        return
    state_src = default_state_file(cluster, vm_host, source)
    state_dst = default_state_file(cluster, vm_host, target)
    new_paths = {d.path: f"{disk_dir(cluster, target)}/{os.path.basename(d.path)}" for d in vm_host.vm.disks
                 if d.vbd_type != "phy"}
    created: list[str] = []
    saved = False
    dst_conn = None
    try:
        say("Saving the VM's current state.")
        _step("save")
        src_rt.save(state_src)
        saved = True
        say(f"Copying the VM's current state to {target.name}.")
        _step("copy-state")
        if state_dst != state_src:
            copy_file(src_uri, dst_uri, state_src, state_dst)
            created.append(state_dst)
        for old, new in new_paths.items():
            say(f"Moving virtual disk ({old}) to {target.name}")
            _step("copy-disk")
            if new != old:
                copy_file(src_uri, dst_uri, old, new)
                created.append(new)
        say(f"Restarting the VM on {target.name}.")
        _step("restore")
        dst_conn = connect(cluster, target)
        with libvirt_errors(vm_host.name, target.name, "restoring"):
            dst_conn.restore(state_dst)
        _step("cleanup")
    except Exception:
        _undo_target(dst_conn, vm_host.name)
        _roll_back(src_rt, state_src if saved else None, created)
        raise
    with contextlib.suppress(Exception):  # the source's copy of the domain is no longer the VM
        dom = src_rt.conn.lookupByName(vm_host.name)
        if not dom.isActive():
            dom.undefine()
    for disk in vm_host.vm.disks:
        disk.path = new_paths.get(disk.path, disk.path)
    vm_host.vm.container = target.name


def _undo_target(dst_conn, name: str) -> None:
    """If the VM already runs on the target, it must not run twice: remove it there."""
    if dst_conn is None:
        return
    with contextlib.suppress(Exception):
        dom = dst_conn.lookupByName(name)
        if dom.isActive():
            dom.destroy()
        with contextlib.suppress(Exception):
            dom.undefine()


def _roll_back(src_rt: VMRuntime, state: str | None, created: list[str]) -> None:
    for path in created:
        with contextlib.suppress(OSError):
            os.unlink(path)
    if state is not None and src_rt.status() is None:
        src_rt.restore(state)


def _migrate(cluster, vm_host, source, target) -> None:
    import libvirt

    flags = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
             | libvirt.VIR_MIGRATE_NON_SHARED_DISK)
    src_conn, dst_conn = connect(cluster, source), connect(cluster, target)
    with libvirt_errors(vm_host.name, source.name, f"migrating to {target.name}"):
        src_conn.lookupByName(vm_host.name).migrate(dst_conn, flags, None, None, 0)
    vm_host.vm.container = target.name
