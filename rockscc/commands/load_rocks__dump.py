"""`rockscc load rocks-dump FILE`: migrate a Rocks database through the script `rocks dump` printed."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.commands.load import read_script, shell_lines
from rockscc.errors import RocksccError

INTERFACE_FIELDS = ("ip", "mac", "name", "module", "subnet", "vlan")
HOST_FIELDS = ("cpus", "rack", "rank", "membership", "os", "arch", "comment")


class LoadRocksDump(Command):
    """Read the shell script Rocks' `rocks dump` prints (hosts, networks, interfaces, vars,
    appliances, PXE actions, boot flags, `set host vm` lines) into this description, in one
    transaction. Lines rockscc cannot map (e.g. `set host interface gateway`) are listed with
    their line numbers and skipped; an error in a mapped line changes nothing."""

    name = "load rocks-dump"
    args = [Arg("file", help="output of `rocks dump` from a Rocks frontend, or - for stdin")]
    examples = ["rockscc load rocks-dump rocks-dump.sh"]
    mutates = True

    def run(self, ctx, opts) -> None:
        from rockscc.cli.dispatch import execute

        path, text = read_script(opts.file, errors="replace")  # old Rocks databases were not always UTF-8
        mapped, skipped = 0, []
        for number, raw, words in shell_lines(path, text):
            commands = translate(words, ctx.cluster)
            if commands is None:
                skipped.append((number, raw.strip()))
                continue
            for command in commands:
                try:
                    execute(command, ctx)
                except RocksccError as exc:
                    raise RocksccError(f"{path}:{number}: {exc} (nothing was loaded)") from None
            mapped += 1
        for number, line in skipped:
            ctx.warn(f"{path}:{number}: not mapped, skipped: {line}")
        said = f"loaded {mapped} Rocks command line(s) from {path}; {len(skipped)} skipped"
        ctx.after_commit.append(lambda: ctx.out(said))  # once written


def translate(words: list[str], cluster) -> list[list[str]] | None:
    """rockscc command lines for one Rocks command line, or None if it has no equivalent."""
    if words[0].endswith("/rocks") or words[0] == "rocks":
        words = words[1:]
    positional = [w for w in words if "=" not in w]
    params = dict(w.split("=", 1) for w in words if "=" in w)
    head = positional[:3]
    if positional[:2] == ["add", "host"] and len(positional) == 3:
        return _host(positional[2], params, cluster)
    if head == ["add", "host", "interface"] and len(positional) >= 4:
        host, iface = positional[3], params.pop("iface", positional[4] if len(positional) > 4 else None)
        fields = [f"{k}={v}" for k, v in params.items() if k in INTERFACE_FIELDS]
        exists = host in cluster.hosts and any(i.device == iface for i in cluster.hosts[host].interfaces)
        return [["set" if exists else "add", "host", "interface", host, iface, *fields]] if fields or not exists else []
    if head == ["set", "host", "interface"] and len(positional) >= 5 and positional[3] in INTERFACE_FIELDS:
        field, host = positional[3], positional[4]
        iface = params.get("iface", positional[5] if len(positional) > 5 else None)
        value = params.get(field, positional[6] if len(positional) > 6 else None)
        if iface is None or value is None:
            return None
        return [["set", "host", "interface", host, iface, f"{field}={value}"]]
    if positional[:2] == ["add", "network"] and len(positional) >= 3:
        name = positional[2]
        subnet = params.get("subnet", positional[3] if len(positional) > 3 else "")
        netmask = params.get("netmask", positional[4] if len(positional) > 4 else "")
        verb = "set" if name in cluster.networks else "add"
        extra = [f"mtu={params['mtu']}"] if "mtu" in params else []
        return [[verb, "network", name, f"subnet={subnet}", f"netmask={netmask}", *extra]]
    if positional[:2] in (["add", "var"], ["set", "var"]):
        values = [params.get(k) for k in ("service", "component", "value")]
        rest = positional[2:]
        values = [v if v is not None else (rest.pop(0) if rest else None) for v in values]
        if None in values:
            return None
        return [["set", "attr", f"{values[0]}_{values[1]}", values[2]]]
    if head == ["set", "host", "vm"]:
        if params.get("virt-type") in ("None", ""):
            params.pop("virt-type")
        return [["set", "host", "vm", *positional[3:], *(f"{k}={v}" for k, v in params.items())]]
    if head in (["add", "host", "pxeaction"], ["set", "host", "pxeboot"], ["set", "host", "bootflags"]) or positional[
        :2
    ] in (["add", "appliance"],):
        return [words]
    return None


def _host(name: str, params: dict[str, str], cluster) -> list[list[str]]:
    fields = {k: v for k, v in params.items() if k in HOST_FIELDS}
    if name not in cluster.hosts:
        return [["add", "host", name, "ip=none", *(f"{k}={v}" for k, v in fields.items())]]
    return [["set", "host", key, name, value] for key, value in fields.items() if key != "comment"]
