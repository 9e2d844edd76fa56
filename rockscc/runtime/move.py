"""`move host vm`: a VM moves to another container, and at no moment runs twice or on a disk the
description does not name.

Offline, as Rocks did: save the VM on its container, copy the saved state and the disk images to
the target (holes kept; each copy read back and compared with the original), restore it there
*paused* with its domain XML rewritten for the target, check that libvirt runs it on the copies,
commit the description, resume. `live=yes`: libvirt migrates the running VM with its disks,
paused on arrival; then the same check, commit and resume. A VM that is not running has only its
disks moved.

Each step is first written to a journal beside the description (`.rockscc-moves/<vm>.json`). On
a failure the VM is put back: restored on its container from the saved state (booted from its
disk if that state is gone), whatever was made on the target removed. A move cut short — the
process killed, the machine down — is settled by the next `move host vm` of that VM: finished
when the VM already runs on the target (the copies were verified before it was restored there),
undone otherwise.
"""

from __future__ import annotations

import copy
import os
import signal
import time
from collections.abc import Callable

from rockscc.errors import RocksccError
from rockscc.model.vms import disk_dir
from rockscc.runtime.connection import Unreachable, broken_connection, connect, libvirt_errors, uri_for
from rockscc.runtime.journal import Journal, drop_journal, pending_move, write_journal
from rockscc.runtime.retarget import disk_sources, retarget
from rockscc.runtime.storage import LocalStore, copy_verified, store_for
from rockscc.runtime.vms import VMRuntime, default_state_file

FAULT_ENV = "ROCKSCC_FAULT"  # tests: ROCKSCC_FAULT=move:<step> fails there, move:<step>:kill kills the process
STEPS = ("save", "copy-state", "copy-disk", "restore", "commit", "cleanup")
ROLLBACK_WAIT = 60.0  # seconds to wait for the source container's libvirt to answer again
observers: list[Callable[[str, dict], None]] = []  # tests watch (and disturb) each step: fn(step, info)


def checkpoint(step: str, **info) -> None:
    """A point between the steps of a move, where tests inject faults."""
    for observer in list(observers):
        observer(step, info)
    fault = os.environ.get(FAULT_ENV, "")
    if fault == f"move:{step}:kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == f"move:{step}":
        raise RocksccError(f"injected failure at move step {step}")


# --- moving ----------------------------------------------------------------------------------------
class Move:
    """One move of one VM. `save` writes the description (the cluster this move edits)."""

    def __init__(
        self,
        cluster,
        host,
        journal: Journal,
        say: Callable[[str], None],
        warn: Callable[[str], None],
        save: Callable[[], None],
    ) -> None:
        self.cluster, self.host, self.journal = cluster, host, journal
        self.say, self.warn, self.save_description = say, warn, save
        self.source, self.target = cluster.hosts[journal.source], cluster.hosts[journal.target]
        self.src_store, self.dst_store = store_for(cluster, self.source), store_for(cluster, self.target)
        self.local = isinstance(self.src_store, LocalStore) and isinstance(self.dst_store, LocalStore)

    @property
    def src_conn(self):
        return connect(self.cluster, self.source)

    @property
    def dst_conn(self):
        return connect(self.cluster, self.target)

    def record(self, **changes) -> None:
        for key, value in changes.items():
            setattr(self.journal, key, value)
        write_journal(self.cluster.root, self.journal)

    # --- the way forward ------------------------------------------------------------------------------
    def run(self) -> None:
        self.record()
        try:
            if self.journal.live:
                self._migrate()
            else:
                self._offline()
        except BaseException as exc:
            self._fail(exc)
        self.finish()

    def _offline(self) -> None:
        j, target = self.journal, self.target.name
        dom = None
        if j.state != "off":
            checkpoint("save")
            self.say("Saving the VM's current state.")
            running = self.source_domain()
            with libvirt_errors(j.vm, self.source.name, f"saving the state of {j.vm} to {j.state_src} for"):
                running.save(j.state_src)
            self.record(phase="saved")
            check_space(self, with_state=True)
            checkpoint("copy-state")
            self.say(f"Copying the VM's current state to {target}.")
            self._copy(j.state_src, j.state_dst)
        for old, new in j.disks.items():
            checkpoint("copy-disk", path=old)
            self.say(f"Moving virtual disk ({old}) to {target}")
            self._copy(old, new)
        checkpoint("restore")
        if j.state != "off":
            self.say(f"Restarting the VM on {target}.")
            dom = self._restore_on_target()
        checkpoint("commit")
        self.commit()
        if dom is not None:
            self.resume_if_running_before(dom)

    def _copy(self, old: str, new: str) -> None:
        if self.local and old == new:
            return  # the same file: both containers see this machine's file system
        if self.dst_store.exists(new):  # an old copy no VM of the description uses (checked in plan)
            self.dst_store.remove(new)
        self.record(created=[*self.journal.created, new])
        copy_verified(
            self.src_store, old, self.dst_store, new, progress=lambda done: checkpoint("copying", path=old, done=done)
        )

    def _restore_on_target(self):
        import libvirt

        j = self.journal
        with libvirt_errors(j.vm, self.target.name, f"reading the saved state {j.state_dst} of"):
            image = self.dst_conn.saveImageGetXMLDesc(j.state_dst, libvirt.VIR_DOMAIN_SAVE_IMAGE_XML_SECURE)
        xml = retarget(image, compiled_for(self.cluster, self.host, self.target, j.disks), j.vm)
        drop_stale_definition(self)
        self.record(phase="restoring")
        with libvirt_errors(j.vm, self.target.name, "restoring"):
            dom = _restore_paused(self.dst_conn, j.state_dst, xml, j.vm)
        self.record(phase="restored")
        self.check_copies_in_use(dom)
        self.persist(dom)
        return dom

    def _migrate(self) -> None:
        import libvirt

        j, target = self.journal, self.target.name
        checkpoint("migrate")
        self.say(f"Migrating the running VM to {target} (its memory and disks are copied while it runs).")
        for old, new in j.disks.items():
            if self.dst_store.exists(new):
                self.dst_store.remove(new)
            self.record(created=[*j.created, new])
            self.dst_store.create_sparse(new, self.src_store.size(old))
        dom = self.source_domain()
        xml_flags = libvirt.VIR_DOMAIN_XML_MIGRATABLE | libvirt.VIR_DOMAIN_XML_SECURE
        with libvirt_errors(j.vm, self.source.name, "reading the definition of"):
            running, config = dom.XMLDesc(xml_flags), dom.XMLDesc(xml_flags | libvirt.VIR_DOMAIN_XML_INACTIVE)
        self.record(source_xml=running)
        compiled = compiled_for(self.cluster, self.host, self.target, j.disks)
        # the running domain and its definition on the target, both rewritten (without PERSIST_XML
        # libvirt would define it there with the source's disk paths)
        params = {
            libvirt.VIR_MIGRATE_PARAM_DEST_XML: retarget(running, compiled, j.vm),
            libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: retarget(config, compiled, j.vm),
        }
        devices = [dev for dev, path in disk_sources(running).items() if path in j.disks]
        if devices:
            params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = devices
        address = self.cluster.private_ip(self.target)
        if address:
            params[libvirt.VIR_MIGRATE_PARAM_URI] = f"tcp://{address}"
        drop_stale_definition(self)
        self.record(phase="restoring")
        flags = (
            libvirt.VIR_MIGRATE_LIVE
            | libvirt.VIR_MIGRATE_PERSIST_DEST
            | libvirt.VIR_MIGRATE_PAUSED
            | (libvirt.VIR_MIGRATE_NON_SHARED_DISK if devices else 0)
        )
        with libvirt_errors(j.vm, self.source.name, "migrating"):
            moved = dom.migrate3(self.dst_conn, params, flags)
        self.record(phase="restored")
        self.check_copies_in_use(moved)
        checkpoint("commit")
        self.commit()
        self.resume_if_running_before(moved)

    def source_domain(self):
        dom = find_domain(self.src_conn, self.journal.uuid)
        if dom is None:
            raise RocksccError(f"{self.journal.vm} is no longer defined on {self.source.name}")
        return dom

    def check_copies_in_use(self, dom) -> None:
        """The domain on the target must use the copies, never the source's paths."""
        import libvirt

        with libvirt_errors(self.journal.vm, self.target.name, "reading the definition of"):
            sources = disk_sources(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))
        wrong = [
            path for path in sources.values() if path in self.journal.disks and path not in self.journal.disks.values()
        ]
        missing = [new for new in self.journal.disks.values() if new not in sources.values()]
        if wrong or missing:
            raise RocksccError(
                f"libvirt on {self.target.name} runs {self.journal.vm} on {', '.join(sorted(sources.values()))} "
                f"instead of {', '.join(sorted(self.journal.disks.values()))}"
            )

    def persist(self, dom) -> None:
        """Make the restored (transient) domain a defined one on the target, as it was on the source."""
        import libvirt

        with libvirt_errors(self.journal.vm, self.target.name, "defining"):
            if not dom.isPersistent():
                self.dst_conn.defineXML(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE))

    def resume_if_running_before(self, dom) -> None:
        with libvirt_errors(self.journal.vm, self.target.name, "resuming"):
            if self.journal.state == "running" and dom.state()[0] == 3:
                dom.resume()

    def commit(self) -> None:
        """The description names the target from here on: the point of no return."""
        before = copy.deepcopy(self.host.vm)
        apply_move(self.host, self.journal)
        try:
            self.save_description()
        except BaseException:
            self.host.vm = before
            raise
        self.journal.phase = "committed"
        try:
            write_journal(self.cluster.root, self.journal)
        except RocksccError as exc:  # finish() removes it anyway; a settle would find the description committed
            self.warn(str(exc))

    def finish(self) -> None:
        """After the commit: the old definition and the saved states go. Failures are warnings:
        the VM runs on the target and the description says so."""
        j = self.journal
        try:
            checkpoint("cleanup")
            self._undefine_on_source()
            for store, path in ((self.src_store, j.state_src), (self.dst_store, j.state_dst)):
                if path and j.state != "off":
                    store.remove(path)
        except RocksccError as exc:
            self.warn(f"{j.vm} moved to {j.target}, but cleaning up after it failed: {exc}")
        drop_journal(self.cluster.root, j.vm)

    def _undefine_on_source(self) -> None:
        dom = find_domain(self.src_conn, self.journal.uuid)
        if dom is not None:
            with libvirt_errors(self.journal.vm, self.source.name, "removing the old definition of"):
                if dom.isActive():
                    dom.destroy()  # only after a crash between migration and commit: the target's copy is the VM
                dom.undefine()

    # --- the way back -------------------------------------------------------------------------------
    def _fail(self, exc: BaseException) -> None:
        """Put everything back and raise one error saying what failed and where the VM is."""
        j = self.journal
        reason = str(exc) if isinstance(exc, RocksccError) else f"{type(exc).__name__}: {exc}"
        if j.phase == "committed":  # only resuming failed: the VM is on the target, paused
            drop_journal(self.cluster.root, j.vm)
            raise RocksccError(
                f"{j.vm} moved to {j.target} but did not resume: {reason} (resume host vm {j.vm})"
            ) from None
        try:
            outcome = roll_back(self)
        except Exception as back:
            problem = str(back) if isinstance(back, RocksccError) else f"{type(back).__name__}: {back}"
            raise RocksccError(
                f"moving {j.vm} to {j.target} failed: {reason}; putting it back failed too: {problem} "
                f"(rockscc move host vm {j.vm} {j.target} settles the move once {j.source} answers)"
            ) from None
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise exc
        raise RocksccError(f"moving {j.vm} to {j.target} failed: {reason}; {outcome}") from None


def roll_back(move: Move) -> str:
    """Undo a move that was not committed: nothing of the VM stays on the target, and the VM runs on
    its source container as before. What became of the VM, for the error message."""
    j = move.journal
    if j.phase in ("restoring", "restored"):  # a copy of the VM may exist on the target: it must go
        _until_answered(move, j.target, lambda: _remove_from_target(move))
    notes = []
    for path in j.created:
        try:
            move.dst_store.remove(path)
        except RocksccError as exc:  # garbage, not harm: no VM uses it, a later move replaces it
            notes.append(f"remove {path} on {j.target} by hand ({exc})")
    outcome = _until_answered(move, j.source, lambda: _restart_on_source(move))
    drop_journal(move.cluster.root, j.vm)
    return outcome + (f"; {'; '.join(notes)}" if notes else "")


def _remove_from_target(move: Move) -> None:
    j = move.journal
    moved = find_domain(move.dst_conn, j.uuid)
    with libvirt_errors(j.vm, j.target, "removing the copy of"):
        if moved is None:
            return
        if not moved.isActive():
            moved.undefine()
        elif j.live:  # the source's QEMU is gone: the VM goes back the way it came
            _migrate_back(move, moved)
        else:
            moved.destroy()  # paused since it was restored: it never ran there
            if moved.isPersistent():
                moved.undefine()


def _migrate_back(move: Move, moved) -> None:
    import libvirt

    j = move.journal
    params = {libvirt.VIR_MIGRATE_PARAM_DEST_XML: j.source_xml}
    back = {new: old for old, new in j.disks.items()}
    with libvirt_errors(j.vm, j.target, "reading the definition of"):
        devices = [dev for dev, path in disk_sources(moved.XMLDesc(0)).items() if path in back]
    if devices:
        params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = devices
    address = move.cluster.private_ip(move.source)
    if address:
        params[libvirt.VIR_MIGRATE_PARAM_URI] = f"tcp://{address}"
    # not PERSIST_DEST: the source kept its own definition, which the VM takes up again
    flags = (
        libvirt.VIR_MIGRATE_LIVE
        | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
        | (libvirt.VIR_MIGRATE_NON_SHARED_DISK if devices else 0)
    )
    with libvirt_errors(j.vm, j.target, f"migrating back to {j.source}"):
        moved.migrate3(move.src_conn, params, flags)


def _until_answered(move: Move, container: str, action: Callable[[], str | None]):
    """Run `action`, retrying for up to ROLLBACK_WAIT seconds while `container`'s libvirt does not
    answer (a daemon being restarted by its service manager)."""
    deadline, waited = time.monotonic() + ROLLBACK_WAIT, False
    while True:
        try:
            return action()
        except Unreachable:
            if time.monotonic() >= deadline:
                raise
            if not waited:
                move.say(f"Waiting for the libvirt of {container} to answer, to put {move.journal.vm} back.")
                waited = True
            time.sleep(0.5)


def _restart_on_source(move: Move) -> str:
    j = move.journal
    dom = find_domain(move.src_conn, j.uuid)
    with libvirt_errors(j.vm, j.source, "putting back"):
        if j.state == "off" or (dom is not None and dom.isActive()):
            if dom is not None and j.state == "running" and dom.state()[0] == 3:
                dom.resume()
            return f"{j.vm} is on {j.source} as before and the description is unchanged"
        if move.src_store.exists(j.state_src):
            move.src_conn.restore(j.state_src)
            move.src_store.remove(j.state_src)
            return f"{j.vm} runs on {j.source} again (restored from its saved state) and the description is unchanged"
        if dom is None:
            raise RocksccError(
                f"{j.vm} is neither running nor defined on {j.source} and its saved state {j.state_src} "
                f"is gone (start host vm {j.vm} boots it from its disk)"
            )
        dom.create()
    return (
        f"its saved state {j.state_src} was lost, so {j.vm} was booted again from its disk on {j.source}; "
        "the description is unchanged"
    )


# --- helpers ---------------------------------------------------------------------------------------
def same_daemon(cluster, source, target) -> bool:
    """Whether both containers are one libvirt: the same URI, or the same host UUID."""
    import re

    if uri_for(cluster, source) == uri_for(cluster, target):
        return True
    ids = []
    for container in (source, target):
        with libvirt_errors("-", container.name, "reading the capabilities of the libvirt of"):
            ids.append(re.search(r"<uuid>([^<]+)</uuid>", connect(cluster, container).getCapabilities()))
    return all(ids) and ids[0][1] == ids[1][1]


def find_domain(conn, uuid: str):
    import libvirt

    if not uuid:
        return None
    try:
        return conn.lookupByUUIDString(uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        kind = Unreachable if broken_connection(exc) else RocksccError
        raise kind(f"looking for domain {uuid}: {exc.get_error_message()}") from None


def drop_stale_definition(move: Move) -> None:
    """An inactive definition of the VM's name on the target (left by an earlier move back) would
    make libvirt refuse the restore; the description does not place the VM there, so it goes."""
    import libvirt

    try:
        dom = move.dst_conn.lookupByName(move.journal.vm)
    except libvirt.libvirtError:
        return
    with libvirt_errors(move.journal.vm, move.target.name, "removing an old definition of"):
        if not dom.isActive():
            dom.undefine()


def _restore_paused(conn, path: str, xml: str, name: str):
    """Restore with `xml`, paused. libvirt's test driver and libxl cannot change the XML on restore
    nor start paused: the XML is then written into the image, and the VM paused at once."""
    import libvirt

    try:
        conn.restoreFlags(path, xml, libvirt.VIR_DOMAIN_SAVE_PAUSED)
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() not in (
            libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
            libvirt.VIR_ERR_INVALID_ARG,
            libvirt.VIR_ERR_NO_SUPPORT,
        ):
            raise
    conn.saveImageDefineXML(path, xml, 0)
    conn.restoreFlags(path, None, 0)
    dom = conn.lookupByName(name)
    dom.suspend()
    return dom


def compiled_for(cluster, host, target, disks: dict[str, str]) -> str:
    """The VM's domain XML compiled as if it lived on `target` with its disks at their new paths
    (through the compile pipeline, as `rockscc build` compiles it)."""
    from rockscc.model.vms import mode_of
    from rockscc.pipeline import CompileOptions, Session

    moved = copy.deepcopy(host)
    apply_move(moved, Journal(vm=host.name, source=host.vm.container, target=target.name, disks=disks))
    # a domain's XML is made from the description alone: no compile option changes it
    return Session(cluster, CompileOptions()).vm_config(moved, "libvirt", mode_of(cluster, moved))


def apply_move(host, journal: Journal) -> None:
    """The description's side of the move."""
    host.vm.container = journal.target
    for disk in host.vm.disks:
        disk.path = journal.disks.get(disk.path, disk.path)


def check_space(move: Move, with_state: bool = False) -> None:
    """Refuse early when the target cannot hold the copies (more can still run out: the copy then fails)."""
    j = move.journal
    files = list(j.disks.items())
    if with_state:
        files.append((j.state_src, j.state_dst))
    files = [(old, new) for old, new in files if not (move.local and old == new)]
    if not files:
        return
    directory = os.path.dirname(files[0][1])
    need = sum(move.src_store.allocated(old) for old, _ in files)
    free = move.dst_store.available(directory)
    free += sum(move.dst_store.allocated(new) for _, new in files if move.dst_store.exists(new))  # replaced
    if need > free:
        what = "the disks and saved state" if with_state else "the disks"
        raise RocksccError(
            f"{j.target} has {free // 2**20} MiB free in {directory}, {what} of {j.vm} need {need // 2**20} MiB"
        )


def plan(cluster, host, target, live: bool) -> Journal:
    """Check the move can be made and write down what it will do."""
    import libvirt

    from rockscc.model.vms import hypervisor_of

    source = cluster.hosts[host.vm.container]
    if same_daemon(cluster, source, target):
        raise RocksccError(
            f"{source.name} and {target.name} are managed by the same libvirt: a VM cannot move "
            "between them (give each container its own libvirt_uri)"
        )
    src_kind, dst_kind = hypervisor_of(cluster, source), hypervisor_of(cluster, target)
    if src_kind != dst_kind:
        raise RocksccError(f"{host.name} is a {src_kind} VM and {target.name} runs {dst_kind}: it cannot move there")
    journal = Journal(
        vm=host.name,
        source=source.name,
        target=target.name,
        live=live,
        state_src=default_state_file(cluster, host, source),
        state_dst=default_state_file(cluster, host, target),
    )
    new_dir = disk_dir(cluster, target)
    for disk in host.vm.disks:
        if disk.vbd_type != "phy":  # a block device is the same on every container (shared storage)
            journal.disks[disk.path] = f"{new_dir}/{os.path.basename(disk.path)}"
    if len(set(journal.disks.values())) != len(journal.disks):
        raise RocksccError(
            f"two disks of {host.name} have the same file name: on {target.name} both would be "
            f"{new_dir}/<name>; rename one (set host vm disk=)"
        )
    taken = {
        d.path
        for g in cluster.hosts.values()
        if g.vm and g is not host and g.vm.container == target.name
        for d in g.vm.disks
    }
    clash = sorted(taken & set(journal.disks.values()))
    if clash:
        raise RocksccError(f"{clash[0]} on {target.name} is a disk of another VM")
    runtime = VMRuntime(cluster, host)
    dom = runtime.domain()
    with runtime.errors("reading the state of"):
        state = dom.state()[0] if dom is not None and dom.isActive() else None
        journal.uuid = dom.UUIDString() if dom is not None else ""
        running = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE) if state is not None else ""
    if state in (4, 6):
        raise RocksccError(
            f"{host.name} is {'being shut down' if state == 4 else 'crashed'} on {source.name}: "
            f"stop host vm {host.name} first, then move it"
        )
    journal.state = "off" if state is None else "paused" if state in (3, 7) else "running"
    if live and journal.state == "off":
        raise RocksccError(f"live=yes moves a running VM, and {host.name} is not running on {source.name}")
    if journal.state == "off" and store_for(cluster, source).exists(journal.state_src):
        raise RocksccError(
            f"{host.name} is saved in {journal.state_src} on {source.name}: "
            f"restore host vm {host.name} first, then move it"
        )
    if running:
        using = set(disk_sources(running).values())
        named = {d.path for d in host.vm.disks}
        if using != named:
            raise RocksccError(
                f"{host.name} runs on {', '.join(sorted(using))} but the description names "
                f"{', '.join(sorted(named))}: stop host vm and start host vm apply the description first"
            )
    with libvirt_errors(host.name, target.name, "looking for"):
        try:
            other = connect(cluster, target).lookupByName(host.name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
            other = None
        if other is not None and other.isActive():
            raise RocksccError(f"a domain named {host.name} already runs on {target.name}")
    return journal


def move_vm(cluster, host, target, *, live: bool, say, warn, save) -> None:
    """Move `host` (a VM of the locked, loaded `cluster`) to container `target`; `save` commits the
    description once the VM is on the target."""
    journal = plan(cluster, host, target, live)
    move = Move(cluster, host, journal, say, warn, save)
    if not live:
        check_space(move)
    move.run()


def settle(cluster, host, say, warn, save) -> bool:
    """Finish or undo the interrupted move in `host`'s journal (see the module's docstring); whether
    there was one."""
    journal = pending_move(cluster.root, host.name)
    if journal is None:
        return False
    move = Move(cluster, host, journal, say, warn, save)
    on_target = find_domain(move.dst_conn, journal.uuid)
    on_source = find_domain(move.src_conn, journal.uuid)
    with libvirt_errors(host.name, journal.target, "reading the state of"):
        target_runs = on_target is not None and on_target.isActive()
        source_runs = on_source is not None and on_source.isActive()
    committed = journal.phase == "committed" or host.vm.container == journal.target  # the journal may lag
    if committed or (target_runs and not source_runs):
        say(f"Finishing the interrupted move of {host.name} to {journal.target}.")
        if not committed:  # it runs on the target, on copies verified before the restore
            move.check_copies_in_use(on_target)
            move.persist(on_target)
            move.commit()
        if target_runs:
            move.resume_if_running_before(on_target)
        move.finish()
        return True
    say(f"Undoing the interrupted move of {host.name} to {journal.target}.")
    say(roll_back(move) + ".")
    return True
