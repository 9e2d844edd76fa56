"""`rockscc add host NAME`: add a host; membership, rack and rank follow from `<appliance>-<rack>-<rank>`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError
from rockscc.model import Host, Interface
from rockscc.model.names import check_host_name, check_ip, normalize_mac
from rockscc.model.services import discovery_addresses


class AddHost(Command):
    """Add a host to the cluster.

    A name of the form <appliance>-<rack>-<rank> (compute-0-3, vm-container-1-0) sets the
    membership, rack and rank as Rocks' insert-ethers named hosts; parameters override them.
    The host gets interface eth0 on the private network with the next free address counting
    down from the broadcast address (ip= to choose it, ip=none for no interface)."""

    name = "add host"
    args = [Arg("host", help="the new host's name")]
    params = [
        Param("membership", help='membership name, e.g. "Compute" (or an appliance name)'),
        Param("rack", kind="int"),
        Param("rank", kind="int"),
        Param("cpus", kind="int", default=1),
        Param("os", default="linux"),
        Param("arch", default="x86_64"),
        Param("ip", help="private address, or none"),
        Param("mac", help="MAC address of eth0"),
        Param("subnet", default="private", help="network of eth0"),
        Param("comment"),
    ]
    examples = ["rockscc add host compute-0-3", 'rockscc add host login1 membership="Compute" rack=2 rank=0']
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        name = check_host_name(opts.host)
        if name in cluster.hosts:
            raise RocksccError(f'host "{name}" already exists')
        inferred = cluster.infer_from_name(name)
        membership = opts.membership or (inferred[0] if inferred else None)
        if membership is None:
            raise RocksccError(
                f'cannot infer the membership of "{name}" (name it <appliance>-<rack>-<rank> or give membership=)'
            )
        _, appliance = cluster.appliance_by_membership(membership)
        cluster.check_appliance_enabled(appliance)
        rack = opts.rack if opts.rack is not None else (inferred[1] if inferred else 0)
        rank = opts.rank if opts.rank is not None else (inferred[2] if inferred else 0)
        if opts.cpus < 1:
            raise RocksccError(f"cpus: {opts.cpus} must be at least 1")
        host = Host(
            name=name,
            membership=appliance.membership,
            rack=rack,
            rank=rank,
            cpus=opts.cpus,
            os=opts.os,
            arch=opts.arch,
            comment=opts.comment,
        )
        if (opts.ip or "").lower() != "none":
            ip = check_ip(opts.ip) if opts.ip else cluster.next_ip(opts.subnet, discovery_addresses(cluster))
            if opts.subnet not in cluster.networks:
                raise RocksccError(f'network "{opts.subnet}" is not defined')
            mac = normalize_mac(opts.mac) if opts.mac else None
            host.interfaces.append(Interface(device="eth0", ip=ip, mac=mac, subnet=opts.subnet, name=name))
        if appliance.node != "server" and "install" in cluster.pxeactions:
            host.pxeboot = "install"  # a new node installs on its first network boot (insert-ethers)
        cluster.hosts[name] = host
