"""What `rockscc init` writes: the appliances, networks, attributes and PXE actions of a new
Rocks-style cluster, as a Rocks 5.0 frontend defined them."""

from __future__ import annotations

from rockscc.model.cluster import Cluster
from rockscc.model.records import Appliance, Host, Interface, Network, PxeAction, Settings
from rockscc.model.rocksversion import DEFAULT_DIALECT

PRESEED_DIALECTS = frozenset({"debian12"})  # dialects compiled to a Debian installer preseed (backends/preseed)
PRIVATE = Network(subnet="10.1.0.0", netmask="255.255.0.0", dnszone="local")
PUBLIC = Network(subnet="198.51.100.0", netmask="255.255.255.0", dnszone="example.org")

# name: (membership, graph root, short name, schedulable, public)
APPLIANCES = {
    "frontend": ("Frontend", "server", "fe", False, True),
    "compute": ("Compute", "compute", "c", True, False),
    "nas": ("NAS Appliance", "nas", "nas", False, False),
    "tile": ("Tile", "tile", "t", True, False),
}

# the appliances Rocks' own base defines (database-data.xml): all a bare description starts with
ROCKS_APPLIANCES = ("frontend", "compute", "nas")

FRONTEND_PRIVATE_IP, FRONTEND_PUBLIC_IP = "10.1.1.1", "198.51.100.10"
INSTALL_ARGS = "append ks initrd=initrd.img ramdisk_size=150000 lang= devfs=nomount pxe kssendmac selinux=0 noipv6"
# the Debian installer (debian-installer-12-netboot-amd64's kernel and initrd, in the description's
# tftpboot/ as scripts/debian-mirror --tftpboot puts them): unattended, its preseed from `preseed`.
# Not one of init's actions (Rocks' six stay exactly Rocks'): the site adds it as `install debian12`.
DEBIAN12_INSTALL_COMMAND = "kernel debian12-linux"
DEBIAN12_INSTALL_ARGS = (
    "append initrd=debian12-initrd.gz auto=true priority=critical preseed interface=auto "
    "netcfg/dhcp_timeout=60 fb=false"
)

# Rocks 5.0's six global PXE actions (nodes/pxe.xml), command and arguments exactly.
PXE_ACTIONS = {
    "install": PxeAction("kernel vmlinuz", INSTALL_ARGS),
    "install headless": PxeAction("kernel vmlinuz", INSTALL_ARGS + " headless vnc"),
    "memtest": PxeAction("kernel memtest"),
    "os": PxeAction("localboot 0"),
    "pxeflash": PxeAction("kernel memdisk bigraw", "append initrd=pxeflash.img keeppxe"),
    "rescue": PxeAction("kernel vmlinuz", INSTALL_ARGS + " rescue"),
}


def crypt_password(password: str) -> str:
    """A SHA-512 crypt hash, the form kickstart's `rootpw --iscrypted` takes."""
    from passlib.hash import sha512_crypt  # only init needs it: not imported by every command

    return sha512_crypt.using(rounds=5000).hash(password)


def new_cluster(
    root,
    *,
    name: str = "cluster",
    frontend: str = "frontend",
    bare: bool = False,
    password: str | None = None,
    xen: bool | None = None,
) -> tuple[Cluster, str | None]:
    """A fresh description; returns it and the generated root password (None if one was given)."""
    import secrets  # only init needs it

    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(12)
    cluster = Cluster(cluster=Settings(name=name, bare=bare), root=root)
    cluster.networks = {"private": PRIVATE, "public": PUBLIC}
    for app, (membership, node, short, schedulable, public) in APPLIANCES.items():
        if bare and app not in ROCKS_APPLIANCES:
            continue
        cluster.appliances[app] = Appliance(
            membership=membership, node=node, short_name=short, schedulable=schedulable, public=public
        )
    cluster.pxeactions = dict(PXE_ACTIONS)
    cluster.attrs = global_attrs(name, frontend, crypt_password(password))
    cluster.hosts[frontend] = Host(
        name=frontend,
        membership="Frontend",
        interfaces=[
            Interface(device="eth0", ip=FRONTEND_PRIVATE_IP, subnet="private", name=frontend),
            Interface(device="eth1", ip=FRONTEND_PUBLIC_IP, subnet="public", name=f"{frontend}.example.org"),
        ],
    )
    with_xen = (not bare) if xen is None else xen  # a bare tree brings its own rolls (Rocks' xen or kvm)
    if with_xen:
        add_builtin_roll(cluster, "xen")
    return cluster, generated


def add_builtin_roll(cluster: Cluster, name: str) -> None:
    from rockscc.model.overlay import BUILTIN_BASE
    from rockscc.model.rolls import install, read_meta

    install(cluster, f"builtin:{name}", read_meta(BUILTIN_BASE / "rolls" / name, name))


def global_attrs(name: str = "cluster", frontend: str = "frontend", crypted: str = "*") -> dict[str, str]:
    """The global attributes of a new description (`crypted`: the root password's hash; "*"
    locks the account: what `test node` and `test partition` use for a host of no description)."""
    private_ip, public_ip = FRONTEND_PRIVATE_IP, FRONTEND_PUBLIC_IP
    return {
        "Info_ClusterName": name,
        "Info_ClusterContact": "root@localhost",
        "Info_ClusterURL": f"http://{frontend}.example.org/",
        "Info_CertificateCountry": "US",
        "Info_CertificateOrganization": "rockscc",
        "Kickstart_Lang": "en_US",
        "Kickstart_Langsupport": "en_US",
        "Kickstart_Keyboard": "us",
        "Kickstart_Mouse": "none",
        "Kickstart_Timezone": "America/Los_Angeles",
        "Kickstart_PrivateHostname": frontend,
        "Kickstart_PrivateAddress": private_ip,
        "Kickstart_PrivateNetwork": PRIVATE.subnet,
        "Kickstart_PrivateNetmask": PRIVATE.netmask,
        "Kickstart_PrivateNetmaskCIDR": "16",
        "Kickstart_PrivateBroadcast": "10.1.255.255",
        "Kickstart_PrivateDNSDomain": "local",
        "Kickstart_PrivateDNSServers": private_ip,
        "Kickstart_PrivateGateway": private_ip,
        "Kickstart_PrivateKickstartHost": private_ip,
        "Kickstart_PrivateKickstartBasedir": "install",
        "Kickstart_PrivateKickstartCGI": "sbin/kickstart.cgi",
        "Kickstart_PrivateSyslogHost": private_ip,
        "Kickstart_PrivateNTPHost": private_ip,
        "Kickstart_PrivateRootPassword": crypted,
        "Kickstart_PublicHostname": f"{frontend}.example.org",
        "Kickstart_PublicAddress": public_ip,
        "Kickstart_PublicNetwork": PUBLIC.subnet,
        "Kickstart_PublicNetmask": PUBLIC.netmask,
        "Kickstart_PublicGateway": "198.51.100.1",
        "Kickstart_PublicDNSServers": "198.51.100.1",
        "Kickstart_PublicDNSDomain": "example.org",
        "Kickstart_PublicNTPHost": "pool.ntp.org",
        "kickstart_dialect": DEFAULT_DIALECT,
        # a Rocks frontend's empty default (Stacki, forked from Rocks, lists it so: Teradata/stacki
        # issue 93); Rocks 7 base.xml reads &disableServices; and uses its own list when empty
        "disableServices": "",
        "libvirt_uri": "xen+ssh://{container}/system",
        "vm_disk_dir": "/state/partition1/xen/disks",
    }
