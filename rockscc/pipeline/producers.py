"""The producers of build jobs: for each artifact family, which jobs exist and how each runs.
Every producer maps the session's description to jobs; each job's work is a Session method, and
the engine decides which jobs are stale."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from rockscc.engine.jobs import DepResolver, DepsJob, SpecJob
from rockscc.engine.output import Output, text_output
from rockscc.model import Host
from rockscc.pipeline.specs import boot_spec, netfiles_spec, vm_spec

if TYPE_CHECKING:
    from rockscc.pipeline.session import Session

KICKSTART_MODE = 0o600  # kickstarts carry the root password hash
BOOT_MODE = 0o664  # as Rocks left the tftp tree: group-writable


def profile_jobs(session: Session) -> list[DepsJob]:
    """One job per physical or virtual host: its kickstart, and its partition plan."""
    salt = session.profile_salt()
    return [DepsJob(f"profile:{name}", name, partial(_profile, session, host), salt=salt, reads=(name,))
            for name, host in session.cluster.hosts.items()]


def _profile(session: Session, host: Host, resolver: DepResolver) -> tuple[list[Output], dict, list[str]]:
    built = session.compile(host, plan=True)
    outputs = [text_output(f"kickstart/{host.name}.ks", built.kickstart, KICKSTART_MODE)]
    if built.plan is not None:  # partitions/<host>.txt (the partition-info text) and .json (the planned table)
        outputs += [text_output(f"partitions/{host.name}.txt", built.plan.info_text),
                    text_output(f"partitions/{host.name}.json", built.plan.plan_json)]
    deps = {session.dep_key(key): value for key, value in built.deps.items()}
    return outputs, deps, [str(w) for w in built.warnings]


def netfile_jobs(session: Session) -> list[SpecJob]:
    """The cluster-wide /etc/hosts and dhcpd.conf."""
    from rockscc.backends.netfiles import render_netfiles

    def render(spec):
        return [text_output(f"net/{name}", text) for name, text in sorted(render_netfiles(spec).items())]

    return [SpecJob("net:cluster", None, partial(netfiles_spec, session.cluster), render, salt="netfiles-1")]


def boot_jobs(session: Session) -> list[SpecJob]:
    """Per host: pxelinux.cfg/<HEXIP> (BIOS), uefi/grub.cfg-<HEXIP> and ipxe/<host>.ipxe, all from
    the host's current action; the frontend's file is pxelinux.cfg/default. MAC-named copies
    (01-<mac>) when the attribute pxe_mac_files is true."""
    cluster = session.cluster
    return [SpecJob(f"boot:{name}", name, partial(boot_spec, cluster, host), render_boot, salt="boot-1",
                    reads=(name,))
            for name, host in cluster.hosts.items()]


def render_boot(spec) -> list[Output]:
    from rockscc.backends.boot import render_boot as boot_files

    return [text_output(path, text, BOOT_MODE) for path, text in boot_files(spec)]


def vm_jobs(session: Session) -> list[SpecJob]:
    """Per VM: the Xen configs (xen/<vm>.cfg to boot, xen/<vm>.install.cfg to install) and the
    libvirt domain XML of both modes (libvirt/<vm>.xml, libvirt/<vm>.install.xml)."""
    cluster = session.cluster
    return [SpecJob(f"vm:{name}", name, partial(vm_spec, cluster, host), render_vm, salt="vm-1",
                    reads=(name, host.vm.container))
            for name, host in cluster.hosts.items() if host.vm is not None and host.vm.container in cluster.hosts]


def render_vm(spec) -> list[Output]:
    from rockscc.backends.libvirt_xml import domain_xml
    from rockscc.backends.xen import xl_config

    name = spec["name"]
    return [text_output(f"xen/{name}.cfg", xl_config(spec, "boot")),
            text_output(f"xen/{name}.install.cfg", xl_config(spec, "install")),
            text_output(f"libvirt/{name}.xml", domain_xml(spec, "boot")),
            text_output(f"libvirt/{name}.install.xml", domain_xml(spec, "install"))]


ALL = [netfile_jobs, profile_jobs, boot_jobs, vm_jobs]
