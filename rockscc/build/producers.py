"""The producers of build jobs: for each artifact family, which jobs exist and how each runs.

Every producer maps the cluster to jobs; the engine decides which of them are stale.
"""

from __future__ import annotations

import os
from functools import cache, partial
from pathlib import Path

from rockscc.build.jobs import DepResolver, DepsJob, SpecJob
from rockscc.build.kinds import KICKSTART_MODE, hardware_digest, text_output
from rockscc.model import Cluster, Host
from rockscc.model.cluster import truthy

_trees: dict[tuple, object] = {}


def node_tree(cluster: Cluster):
    """The merged node/graph tree of the description's overlays, parsed once per process and
    parsed again when any of its files changes (long-lived processes: --watch, tests)."""
    from rockscc.xmlgraph import NodeTree

    overlays = cluster.overlays()
    key = tuple((o.name, str(o.path)) for o in overlays)
    signature = tree_signature(overlays)
    cached = _trees.get(key)
    if cached is None or cached[0] != signature:
        _trees[key] = (signature, NodeTree.load(overlays))
    return _trees[key][1]


def tree_signature(overlays) -> tuple:
    """(path, size, mtime) of every node, graph and include file: a stat each, no reads."""
    entries: list[tuple[str, int, int]] = []
    for overlay in overlays:
        for sub in ("nodes", "graphs", "include"):
            _scan(str(overlay.path / sub), entries)
    return tuple(sorted(entries))


def _scan(directory: str, entries: list) -> None:
    """os.scandir, not Path.rglob: this runs on every build, and rglob is ~10x slower."""
    try:
        with os.scandir(directory) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    _scan(entry.path, entries)
                else:
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    entries.append((entry.path, st.st_size, st.st_mtime_ns))
    except (FileNotFoundError, NotADirectoryError):
        pass


def planned_hosts(cluster: Cluster, options):
    """(name, host) of the hosts to make jobs for: all of them, or those of a build limited to a
    few hosts (the engine keeps only their jobs: not making the others spares planning ten
    thousand jobs to build one host, as insert-ethers does)."""
    wanted = getattr(options, "hosts", None)
    if wanted is None:
        return cluster.hosts.items()
    return [(name, cluster.hosts[name]) for name in wanted if name in cluster.hosts]


def profile_jobs(cluster: Cluster, options) -> list[DepsJob]:
    """One job per physical or virtual host: its kickstart, and its partition plan."""
    tree = cache(lambda: node_tree(cluster))  # looked up once per build, not once per host
    return [
        DepsJob(f"profile:{name}", name, partial(_profile, cluster, host, options, tree), salt=_profile_salt(),
                reads=(name,))
        for name, host in planned_hosts(cluster, options)
    ]


@cache
def _profile_salt() -> str:
    """The kickstart template's identity: editing it rebuilds every kickstart."""
    import hashlib

    directory = Path(__file__).parents[1] / "backends" / "kickstart" / "templates"
    templates = sorted(name for name in os.listdir(directory) if name.endswith(".j2"))  # not glob: no regex to build
    return "profile-1:" + hashlib.sha256(b"".join((directory / n).read_bytes() for n in templates)).hexdigest()[:16]


def _profile(cluster: Cluster, host: Host, options, tree_of, resolver: DepResolver):
    from rockscc.xmlgraph import compile_host, host_input

    tree = tree_of()
    result = compile_host(tree, host_input(cluster, host, evals=options.evals))
    deps = {_dep_key(key): value for key, value in result.deps.items()}
    deps["opt:evals"] = str(options.evals)
    kickstart = result.kickstart
    warnings = [str(w) for w in result.warnings]
    outputs = []
    partitions = _partitions(cluster, host, result)
    if partitions is not None:
        outputs += partitions[0]
        warnings += partitions[1]
        deps["hw:"] = hardware_digest(cluster, host)
        inline = cluster.attr(host, "partition_inline")
        deps["attr:partition_inline"] = inline
        if truthy(inline):
            kickstart = _inline_partitions(kickstart, partitions[0][0].data.decode(), host, result)
    outputs.insert(0, text_output(f"kickstart/{host.name}.ks", kickstart, KICKSTART_MODE))
    return outputs, deps, warnings


def _inline_partitions(kickstart: str, info_text: str, host: Host, result) -> str:
    """Attribute partition_inline=yes: the planned directives replace `%include /tmp/partition-info`
    (the %pre chain stays, harmless), for installers that should not decide anything."""
    from dataclasses import replace

    from rockscc.backends.kickstart import validate

    marker = "%include /tmp/partition-info\n"
    if marker not in result.rendered.head:
        return kickstart
    rendered = replace(result.rendered, text=kickstart.replace(marker, info_text, 1),
                       head=result.rendered.head.replace(marker, info_text, 1))
    validate(rendered, result.dialect, host.name, result.profile)
    return rendered.text


@cache
def _dep_key(key: str) -> str:
    """Dependency keys as the engine evaluates them: files by absolute path (resolved once each)."""
    prefix, _, rest = key.partition(":")
    if prefix == "file":
        return f"file:{Path(rest).resolve()}"
    return key


def _partitions(cluster: Cluster, host: Host, result):
    """partitions/<host>.txt (the partition-info text) and .json (the planned table) when the
    host's hardware is declared."""
    hardware = cluster.hardware_of(host)
    if hardware is None:
        return None
    from rockscc.partitions import plan_host

    planned = plan_host(result.partition_programs, hardware, host.name, host.partitions)
    return [
        text_output(f"partitions/{host.name}.txt", planned.info_text),
        text_output(f"partitions/{host.name}.json", planned.plan_json),
    ], [str(w) for w in planned.warnings]


def netfile_jobs(cluster: Cluster, options) -> list[SpecJob]:
    """The cluster-wide network files: /etc/hosts, dhcpd.conf, dnsmasq, DNS zones, nginx, each
    checked by its own tool (rockscc/provision/jobs.py)."""
    from rockscc.provision.jobs import network_jobs

    return network_jobs(cluster, options)


def boot_jobs(cluster: Cluster, options) -> list[SpecJob]:
    """Per host, in the TFTP tree (tftp/): pxelinux.cfg/<HEXIP> (BIOS), uefi/grub.cfg-<HEXIP> and
    ipxe/<host>.ipxe, all from the host's current action; the frontend's file is pxelinux.cfg/default. MAC-named copies
    (01-<mac>) when the attribute pxe_mac_files is true."""
    from rockscc.backends.boot import boot_spec, render_boot

    return [SpecJob(f"boot:{name}", name, partial(boot_spec, cluster, host), render_boot, salt="boot-2",
                    reads=(name,))
            for name, host in planned_hosts(cluster, options)]


def vm_jobs(cluster: Cluster, options) -> list[SpecJob]:
    """Per VM: the Xen configs (xen/<vm>.cfg to boot, xen/<vm>.install.cfg to install) and the
    libvirt domain XML of both modes (libvirt/<vm>.xml, libvirt/<vm>.install.xml)."""
    from rockscc.backends.vmspec import vm_spec

    return [SpecJob(f"vm:{name}", name, partial(vm_spec, cluster, host), render_vm, salt="vm-1",
                    reads=(name, host.vm.container))
            for name, host in planned_hosts(cluster, options) if host.vm is not None and host.vm.container in cluster.hosts]


def render_vm(spec) -> list:
    from rockscc.backends.libvirt_xml import domain_xml
    from rockscc.backends.xen import xl_config

    name = spec["name"]
    return [text_output(f"xen/{name}.cfg", xl_config(spec, "boot")),
            text_output(f"xen/{name}.install.cfg", xl_config(spec, "install")),
            text_output(f"libvirt/{name}.xml", domain_xml(spec, "boot")),
            text_output(f"libvirt/{name}.install.xml", domain_xml(spec, "install"))]


def tftp_jobs(cluster: Cluster, options) -> list[SpecJob]:
    """The TFTP tree's loaders and the site's files (rockscc/provision/tftp.py)."""
    from rockscc.provision.jobs import tftp_jobs as jobs

    return jobs(cluster, options)


ALL = [netfile_jobs, profile_jobs, boot_jobs, vm_jobs, tftp_jobs]
