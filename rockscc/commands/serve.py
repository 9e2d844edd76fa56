"""`rockscc serve`: run the provisioning services of the built description in the foreground."""

from __future__ import annotations

from pathlib import Path

from rockscc.cli.command import Command, Param
from rockscc.commands._compile import COMPILE_PARAMS, compile_options
from rockscc.errors import RocksccError


class Serve(Command):
    """Run DHCP, TFTP and HTTP for the built description, in the foreground, until Ctrl-C.

    dnsmasq answers DHCP from build/net/dnsmasq.conf and serves build/tftp/ over TFTP (dhcp=isc:
    ISC dhcpd answers from build/net/dhcpd.conf, dnsmasq serves TFTP only; dhcp=none: no DHCP).
    Clients get their loader by architecture: BIOS pxelinux.0, x86-64 UEFI grub (bootx64.efi),
    iPXE the host's iPXE script over HTTP; unknown MACs get nothing (or an address from the
    attribute dhcp_discovery_range) until insert-ethers adds them.

    The HTTP service gives each host its own kickstart (/install/sbin/kickstart.cgi, the URL the
    boot files name, and /install/kickstart/<host>.ks) and its own boot files only when asked
    from that host's address; anything else gets 403, logged. /install/<path> is the install
    tree (tree=, or attribute install_tree). /install/sbin/public/setPxeboot.cgi is the
    install-done callback: the asking host's next boot becomes os (action= another one), and its
    boot files are rebuilt at once.

    Everything binds to address= (default: Kickstart_PrivateKickstartHost) on the interface that
    holds it; rockscc never changes the network configuration. Changes to the build (rockscc
    build, insert-ethers) are picked up while it runs. Daemon state (leases, pid files) is kept
    in build/.rockscc-serve/. Needs root (ports 67, 69, 80)."""

    name = "serve"
    params = [
        Param("address", help="address to serve on (default: the kickstart host's, Kickstart_PrivateKickstartHost)"),
        Param("interface", help="interface holding the address (default: found from the address)"),
        Param("port", kind="int", default=80, help="HTTP port (the boot files' URLs name port 80)"),
        Param("dhcp", default="dnsmasq", choices=("dnsmasq", "isc", "none"), help="DHCP server"),
        Param("tftp", kind="bool", default=True, help="serve TFTP (with dhcp=isc or none)"),
        Param(
            "dns", kind="bool", default=False, help="answer DNS for the private domain (dnsmasq, from build/net/hosts)"
        ),
        Param("tree", help="install tree served under /install/ (default: attribute install_tree)"),
        Param("out", help="build directory (default: build/ in the description)"),
        Param("verbose", kind="bool", default=False, help="log every DHCP option (dnsmasq --log-dhcp)"),
        *COMPILE_PARAMS,  # the install-done rebuilds are built as `rockscc build` builds them
    ]
    examples = [
        "rockscc serve",
        "rockscc serve address=10.1.1.1 interface=eth0 dhcp=isc",
        "rockscc serve tree=/export/rocks/install",
    ]

    def run(self, ctx, opts) -> None:
        from rockscc.provision.serve import ServeOptions, serve

        if not 0 < opts.port < 65536:
            raise RocksccError(f"port: {opts.port} is not a TCP port")
        options = ServeOptions(
            address=opts.address,
            interface=opts.interface,
            port=opts.port,
            dhcp=opts.dhcp,
            tftp=opts.tftp,
            dns=opts.dns,
            tree=Path(opts.tree) if opts.tree else None,
            out=Path(opts.out) if opts.out else None,
            verbose=opts.verbose,
            compile=compile_options(opts),
        )
        status = serve(ctx.root, options)
        if status:
            raise RocksccError("a daemon exited: see the log above")
