"""The `rocks report …` outputs that Rocks node files' `<eval>`s read, as text, from plain data.
Each function names the Rocks 7 command it answers for (rocksclusters/core
`src/rocks-pylib/rocks/commands/report/…`); the output has the same lines, so an eval in
`mode="xml"` gets the same `<file>` elements it got from Rocks."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from rockscc.model.rocksreports import FirewallRule, Iface


def _xml_lines(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def host_attr(attrs: dict[str, str], *, attr: str | None = None, pydict: bool = False) -> str:
    """report/host/attr: `name:value` lines sorted by name; attr= the value alone; pydict=true the
    attributes as a Python dictionary literal without a newline (for `rocks report script attrs=`)."""
    if attr is not None:
        return attrs[attr] + "\n"
    if pydict:
        return repr(dict(sorted(attrs.items())))
    return "".join(f"{key}:{attrs[key]}\n" for key in sorted(attrs))


def host_network(*, fqdn: str | None, gateway: str | None, device: str | None, rocks_major: int) -> str:
    """report/host/network `run_linux`: /etc/sysconfig/network, and /etc/hostname from Rocks 7 on."""
    lines = ['<file name="/etc/sysconfig/network">', "NETWORKING=yes"]
    if fqdn:
        lines.append(f"HOSTNAME={escape(fqdn)}")
    if gateway:
        lines.append(f"GATEWAY={escape(gateway)}")
    if device:
        lines.append(f"GATEWAYDEV={escape(device)}")
    lines.append("</file>")
    if rocks_major >= 7 and fqdn:
        lines += ['<file name="/etc/hostname">', escape(fqdn), "</file>"]
    return _xml_lines(lines)


def host_interfaces(ifaces: list[Iface], *, bridged: bool, only: str | None = None) -> str:
    """report/host/interface `run_linux`: for each interface a modprobe alias (when it has a
    module) and its ifcfg file; on a KVM container (`bridged`) each interface on a network becomes
    `p<dev>` enslaved to a bridge named like the interface (`writeBridgedConfig`). Values are
    escaped for the XML the eval's output is read as."""
    ifaces = [
        Iface(
            *(
                escape(v, {'"': "&quot;"}) if isinstance(v, str) else v
                for v in (i.device, i.mac, i.ip, i.netmask, i.mtu, i.module, i.vlan, i.options, i.on_network)
            )
        )
        for i in ifaces
    ]
    devices = [i.device for i in ifaces]
    out: list[str] = []
    for iface in ifaces:
        if "noreport" in iface.options.lower() or iface.device == "ipmi":
            continue  # Rocks: noreport skips; ipmi is configured by ipmitool lines rockscc does not model
        if iface.module and not iface.device.startswith("vlan"):
            alias = f"p{iface.device}" if bridged else iface.device
            out += [f'<file name="/etc/modprobe.d/{iface.device}.conf">', f"alias {alias} {iface.module}"]
            if iface.options and not re.match(r"bond\d+", iface.device):
                out.append(f"options {iface.module} {iface.options}")
            out.append("</file>")
        if only is not None:
            if only == iface.device:
                out += _ifcfg(iface, devices)
            continue
        if bridged and not iface.device.startswith(("vlan", "ib")):
            out += _bridged(iface)
        elif not (bridged and iface.device.startswith("vlan")):
            out += [_ifcfg_file(iface.device), *_ifcfg(iface, devices), "</file>"]
    return "\n".join(out) + ("\n" if out else "")


def _ifcfg_file(device: str) -> str:
    return f'<file name="/etc/sysconfig/network-scripts/ifcfg-{device}">'


def _ifcfg(iface: Iface, devices: list[str]) -> list[str]:
    """report/host/interface `writeConfig`."""
    dhcp = iface.options.lower().startswith("dhcp")
    lines = [f"DEVICE={iface.device}"]
    if iface.mac and not dhcp:
        lines.append(f"HWADDR={iface.mac}")
    configured = False
    if iface.ip and iface.netmask:
        lines += ["BOOTPROTO=dhcp"] if dhcp else [f"IPADDR={iface.ip}", f"NETMASK={iface.netmask}", "BOOTPROTO=none"]
        lines.append("ONBOOT=yes")
        if re.match(r"bond\d+", iface.device) and iface.options:
            lines.append(f'BONDING_OPTS="{iface.options}"')
        configured = True
    if iface.vlan:
        lines += ["VLAN=yes", "ONBOOT=yes"]
        configured = True
    if not configured:
        if dhcp:
            lines += ["BOOTPROTO=dhcp", "ONBOOT=yes"]
        else:
            parent_of_vlan = any(d.startswith(iface.device + ".") for d in devices)
            lines += ["BOOTPROTO=none", "ONBOOT=yes" if parent_of_vlan else "ONBOOT=no"]
    if iface.mtu:
        lines.append(f"MTU={iface.mtu}")
    return lines


def _bridged(iface: Iface) -> list[str]:
    """report/host/interface `writeBridgedConfig`: p<dev> (the physical device) and the bridge <dev>."""
    dhcp = iface.options.lower().startswith("dhcp")
    onboot = "ONBOOT=yes" if iface.on_network else "ONBOOT=no"
    lines = [_ifcfg_file("p" + iface.device), f"DEVICE=p{iface.device}"]
    if iface.mac:
        lines.append(f"HWADDR={iface.mac}")
    if iface.vlan:
        lines.append("VLAN=yes")
    if iface.ip and iface.netmask:
        lines.append(f'BRIDGE="{iface.device}"')
    lines += [onboot, "BOOTPROTO=none"] + ([f"MTU={iface.mtu}"] if iface.mtu else []) + ["</file>"]
    if iface.ip and iface.netmask:
        lines += [
            _ifcfg_file(iface.device),
            f"DEVICE={iface.device}",
            "TYPE=Bridge",
            f"IPADDR={iface.ip}",
            f"NETMASK={iface.netmask}",
            "BOOTPROTO=dhcp" if dhcp else "BOOTPROTO=none",
            onboot,
        ]
        lines += ([f"MTU={iface.mtu}"] if iface.mtu else []) + ["</file>"]
    else:
        lines.append(f"rm -f /etc/sysconfig/network-scripts/ifcfg-{iface.device}")
    return lines


def host_routes(routes: list[tuple[str, str, str]]) -> str:
    """report/host/route: /etc/sysconfig/static-routes; `routes` are (network, netmask, gateway or
    device); the default route is left out (report host network writes it)."""
    lines = ['<file name="/etc/sysconfig/static-routes">']
    for network, netmask, via in routes:
        if network == "0.0.0.0":
            continue
        target = f"host {network}" if netmask == "255.255.255.255" else f"net {network} netmask {netmask}"
        hop = f"gw {via}" if via.count(".") == 3 else f"dev {via}"
        lines.append(escape(f"any {target} {hop}"))
    lines.append("</file>")
    return "\n".join(lines) + "\n"


def host_firewall(rules: list[FirewallRule]) -> str:
    """report/host/firewall: /etc/sysconfig/iptables, NAT rules first, then the filter table, each
    rule under a comment with its name and level, sorted by rule name."""
    nat = [r for r in rules if r.chain == "POSTROUTING" or (r.chain == "PREROUTING" and r.service == "nat")]
    other = [r for r in rules if r not in nat]
    lines = ['<file name="/etc/sysconfig/iptables" perms="500">']
    if nat:
        lines.append("*nat")
        for rule in sorted(nat, key=lambda r: r.name):
            lines += _rule(rule)
        lines += ["COMMIT", ""]
    lines += ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for rule in sorted(other, key=lambda r: r.name):
        lines += _rule(rule)
    lines += ["COMMIT", "</file>"]
    return "\n".join(lines) + "\n"


def _rule(rule: FirewallRule) -> list[str]:
    """report/host/firewall `buildRule`."""
    text = f"-A {rule.chain}"
    if rule.in_device:
        text += f" -i {rule.in_device}"
    if rule.out_device:
        text += f" -o {rule.out_device}"
    if rule.service in ("all", "nat"):
        if rule.protocol and rule.protocol != "all":
            text += f" -p {rule.protocol}"
    else:
        text += f" -p {rule.protocol} --dport {rule.service}"
    text += f" -j {rule.action}"
    if rule.flags:
        text += f" {rule.flags}"
    return [escape(f"#  {rule.name} ({rule.category}) : {rule.comment}".rstrip()), escape(text)]


def config411(*, master_address: str, port: str | None, appliance: str, membership: str, os: str) -> str:
    """report/host/config411 and its plugins (appliance, group, master, os)."""
    port_part = f":{port}" if port else ""
    return (
        "\n".join(
            [
                '<file name="/etc/411.conf" perms="0600" owner="root:root">',
                "<![CDATA[<!-- 411 Configuration -->",
                "<config>",
                f"<appliance>{appliance}</appliance>",
                f"<group>{membership.replace(' ', '_')}</group>",
                f'<master url="http://{master_address}{port_part}/411.d/"/>',
                f"<os>{os}</os>",
                "</config>",
                "]]>",
                "</file>",
            ]
        )
        + "\n"
    )


# where Rocks 7's rocks-pylib lives on a frontend (rocks.__path__[0])
ROCKS_PYLIB = "/opt/rocks/lib/python2.7/site-packages/rocks"


def dbhost(host: str) -> str:
    """report/dbhost: appends the database host to rocks/__init__.py on the node."""
    return f'<file name="{ROCKS_PYLIB}/__init__.py" mode="append">\nDatabaseHost = "{escape(host)}"\n</file>\n'


def resolv(*, search: list[str], servers: str | None, local: bool) -> str:
    """report/resolv (`local`: the frontend's, with 127.0.0.1 first) and report/resolv/private."""
    lines = ["search " + " ".join(search)]
    if local:
        lines.append("nameserver 127.0.0.1")
    lines += [f"nameserver {server}" for server in (servers or "").split(",") if server]
    return "\n".join(lines) + "\n"
