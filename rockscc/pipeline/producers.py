"""The producers of build jobs: for each artifact family, which jobs exist and how each runs.
Every producer maps the session's description (and what the build asked for: its hosts, its
directory) to jobs; each job's work is a Session method or a spec and a render, and the engine
decides which jobs are stale."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rockscc.engine.jobs import DepResolver, DepsJob, SpecJob
from rockscc.engine.output import Output, text_output
from rockscc.pipeline.specs import boot_spec, network_spec, tftp_spec, vm_spec

if TYPE_CHECKING:
    from rockscc.backends.service_check import Check
    from rockscc.memo import Memo
    from rockscc.pipeline.session import Session

KICKSTART_MODE = 0o600  # kickstarts carry the root password hash
BOOT_MODE = 0o664  # as Rocks left the tftp tree: group-writable


@dataclass(frozen=True)
class Wanted:
    """What a build asked for: its directory, and its hosts (None: all of them)."""

    outdir: Path
    hosts: list[str] | None = None


def planned_hosts(session: Session, wanted: Wanted) -> list[str]:
    """The names of the hosts to make jobs for: all of them, or those of a build limited to a
    few hosts (the engine keeps only their jobs: not making the others spares planning ten
    thousand jobs to build one host, as insert-ethers does). Names, not records: a job looks its
    host's record up when it runs or makes its spec, so planning a no-op build of ten thousand
    hosts decodes none of them (the host table decodes a record when it is first asked for)."""
    hosts = session.cluster.hosts
    if wanted.hosts is None:
        return list(hosts)
    return [name for name in wanted.hosts if name in hosts]


def profile_jobs(session: Session, wanted: Wanted) -> list[DepsJob]:
    """One job per physical or virtual host: its kickstart, and its partition plan."""
    names = planned_hosts(session, wanted)
    if not names:
        return []  # a build where every host is settled: the kickstart backend is not even imported
    salt = session.profile_salt()
    return [
        DepsJob(f"profile:{name}", name, partial(_profile, session, name), salt=salt, reads=(name,)) for name in names
    ]


def _profile(session: Session, name: str, resolver: DepResolver) -> tuple[list[Output], dict, list[str]]:
    host = session.cluster.hosts[name]
    built = session.compile(host, plan=True)
    outputs = [text_output(f"kickstart/{host.name}.ks", built.kickstart, KICKSTART_MODE)]
    if built.plan is not None:  # partitions/<host>.txt (the partition-info text) and .json (the planned table)
        outputs += [
            text_output(f"partitions/{host.name}.txt", built.plan.info_text),
            text_output(f"partitions/{host.name}.json", built.plan.plan_json),
        ]
    deps = session.dep_keys(built.deps)
    return outputs, deps, [w.text for w in built.warnings]  # str(w), kept by each Diagnostic


def network_jobs(session: Session, wanted: Wanted) -> list[SpecJob]:
    """`net:cluster`: every network file of build/net/ from one spec: hosts, ISC dhcpd.conf,
    dnsmasq's config and hosts file, the DNS zones and their named.conf fragment, the nginx
    server; each checked by its own tool before it is written. It reads every host: its stamp
    covers all their records (a no-op build at ten thousand hosts compares one digest instead of
    computing this spec)."""
    cluster = session.cluster
    return [
        SpecJob(
            "net:cluster",
            None,
            lambda: network_spec(cluster, wanted.outdir, session.host_facts()),
            partial(render_network, memo=session.memo),
            salt=NETWORK_SALT,
            reads=tuple(cluster.hosts),
            shortcut=_NetworkShortcut(session, str(wanted.outdir)),
        )
    ]


NETWORK_SALT = "net-3"


@dataclass(frozen=True)
class _NetworkShortcut:
    """The network spec is the one of a recorded fingerprint when the hosts' facts are those it
    was made from (hostfacts.py: the facts base)."""

    session: Session
    outdir: str

    def same(self, fingerprint: str) -> bool:
        base = self.session.facts_base()
        return base is not None and (base.fingerprint, base.salt, base.outdir) == (
            fingerprint,
            NETWORK_SALT,
            self.outdir,
        )

    def made(self, fingerprint: str) -> None:
        self.session.record_facts_base(fingerprint, NETWORK_SALT, self.outdir)


def render_network(spec: dict[str, Any], memo: Memo | None = None) -> tuple[list[Output], list[str]]:
    """The files, and their checks run all at once (a text its tool accepted before, in the
    memo, is not checked again). Without a server address or a private network only hosts and
    dhcpd.conf (there is nothing to serve). The backends are imported here: a build where no
    host's network entry changed renders no network file."""
    from rockscc.backends import dns_zones, dnsmasq_conf, netfiles, nginx_conf, service_check

    files = {f"net/{name}": text for name, text in netfiles.render_netfiles(spec).items()}
    checks = [service_check.Check("net/dhcpd.conf", files["net/dhcpd.conf"], "dhcpd")]
    if spec["next_server"] and spec["network"]:
        conf, hosts = dnsmasq_conf.render_conf(spec), dnsmasq_conf.render_hosts(spec)
        files.update(
            {
                dnsmasq_conf.CONF_FILE: conf,
                dnsmasq_conf.HOSTS_FILE: hosts,
                nginx_conf.CONF_FILE: nginx_conf.render_nginx(spec),
                **dns_zones.render_zones(spec),
            }
        )
        checks += [
            service_check.Check(dnsmasq_conf.CONF_FILE, conf, "dnsmasq"),
            *_dnsmasq_host_checks(conf, hosts),
            service_check.Check(nginx_conf.CONF_FILE, files[nginx_conf.CONF_FILE], "nginx"),
        ]
        for path, text in files.items():
            if path == dns_zones.NAMED_CONF:
                checks.append(service_check.Check(path, text, "named-checkconf"))
            elif path.startswith(dns_zones.ZONE_DIR):
                checks.append(service_check.Check(path, text, "named-checkzone", zone=path.rsplit("/", 1)[1]))
    warnings = list(dict.fromkeys(service_check.check(checks, memo)))  # the hosts file's buckets: one "missing" each
    return [text_output(path, text) for path, text in sorted(files.items())], warnings


def _dnsmasq_host_checks(conf: str, hosts: str) -> list[Check]:
    """The hosts file, which `dnsmasq --test` does not read, checked as dhcp-host lines."""
    from rockscc.backends import dnsmasq_conf, service_check

    return [
        service_check.Check(dnsmasq_conf.HOSTS_FILE, text, "dnsmasq", lines=lines)
        for text, lines in dnsmasq_conf.host_check_configs(conf, hosts)
    ]


def tftp_jobs(session: Session, wanted: Wanted) -> list[SpecJob]:
    """`tftp:loaders`: the TFTP tree's loaders and the site's files (backends/tftp.py)."""
    return [
        SpecJob(
            "tftp:loaders", None, lambda: tftp_spec(session.cluster, session.host_boots()), render_tftp, salt="tftp-1"
        )
    ]


def render_tftp(spec: dict[str, Any]) -> tuple[list[Output], list[str]]:
    from rockscc.backends.tftp import render_tftp as tree_files

    files, warnings = tree_files(spec)
    return [Output(path, data) for path, data in files], warnings


def boot_jobs(session: Session, wanted: Wanted) -> list[SpecJob]:
    """Per host, in the TFTP tree (tftp/): pxelinux.cfg/<HEXIP> (BIOS), uefi/grub.cfg-<HEXIP> and
    ipxe/<host>.ipxe, all from the host's current action; the frontend's file is
    pxelinux.cfg/default. MAC-named copies (01-<mac>) when the attribute pxe_mac_files is true."""
    cluster = session.cluster
    return [
        SpecJob(
            f"boot:{name}",
            name,
            partial(_host_spec, boot_spec, cluster, name),
            render_boot,
            salt="boot-2",
            reads=(name,),
        )
        for name in planned_hosts(session, wanted)
    ]


def _host_spec(spec, cluster, name: str):
    """A host's spec, its record looked up when the spec is made (only for a job whose stamp changed)."""
    return spec(cluster, cluster.hosts[name])


def render_boot(spec) -> list[Output]:
    from rockscc.backends.boot import render_boot as boot_files

    return [text_output(path, text, BOOT_MODE) for path, text in boot_files(spec)]


def vm_jobs(session: Session, wanted: Wanted) -> list[SpecJob]:
    """Per VM: the Xen configs (xen/<vm>.cfg to boot, xen/<vm>.install.cfg to install) and the
    libvirt domain XML of both modes (libvirt/<vm>.xml, libvirt/<vm>.install.xml)."""
    cluster = session.cluster
    table = cluster.host_table()
    jobs = []
    for name in planned_hosts(session, wanted):
        container = table.vm_container(name)  # from the host index: no record decoded
        if container is not None and container in cluster.hosts:
            spec = partial(_host_spec, vm_spec, cluster, name)
            jobs.append(SpecJob(f"vm:{name}", name, spec, render_vm, salt="vm-1", reads=(name, container)))
    return jobs


def render_vm(spec) -> list[Output]:
    from rockscc.backends.libvirt_xml import domain_xml
    from rockscc.backends.xen import xl_config

    name = spec["name"]
    return [
        text_output(f"xen/{name}.cfg", xl_config(spec, "boot")),
        text_output(f"xen/{name}.install.cfg", xl_config(spec, "install")),
        text_output(f"libvirt/{name}.xml", domain_xml(spec, "boot")),
        text_output(f"libvirt/{name}.install.xml", domain_xml(spec, "install")),
    ]


# The jobs of one host. A host's stamp (Session.host_stamps) covers all of them: their salts
# through rockscc's code identity (templates and this module included), and the records they
# read. A producer of host jobs added here must read no record but the host's own and its VM
# container's (or widen host_stamps).
HOST_JOBS = [profile_jobs, boot_jobs, vm_jobs]
ALL = [network_jobs, *HOST_JOBS, tftp_jobs]
