"""`rockscc report host attr`."""

from __future__ import annotations

from rockscc.backends.rocks_reports import host_attr
from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError


class ReportHostAttr(Command):
    """Print hosts' resolved attributes as Rocks 7's `rocks report host attr` did: `name:value`
    lines sorted by name, one attribute's value with attr=, or a Python dictionary with
    pydict=true (what `rocks report script attrs=` reads). Secret attributes are printed only
    here, never to an <eval> (its description is stripped of them)."""

    name = "report host attr"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    params = [
        Param("attr", help="print only this attribute's value"),
        Param("pydict", kind="bool", default=False, help="a Python dictionary (ignored with attr=)"),
    ]
    examples = ["rockscc report host attr compute-0-0", "rockscc report host attr compute-0-0 attr=Kickstart_Lang"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        for host in opts.host:
            attrs = cluster.resolve_attrs(host)
            if opts.attr is not None and opts.attr not in attrs:
                raise RocksccError(f"host {host.name}: attribute {opts.attr} does not exist")
            ctx.stdout.write(host_attr(attrs, attr=opts.attr, pydict=opts.pydict and opts.attr is None))
