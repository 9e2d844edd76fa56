"""`rockscc list host attr`: every attribute a host sees, and where it comes from."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param


class ListHostAttr(Command):
    """List each host's resolved attributes with their source: host, appliance, os, global or
    intrinsic (from the host record: hostname, rack, rank, membership, …).

    attr= limits the listing to one attribute; resolved=no lists only host-level values."""

    name = "list host attr"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    params = [Param("attr", help="only this attribute"), Param("resolved", kind="bool", default=True)]
    examples = ["rockscc list host attr compute-0-0", "rockscc list host attr compute attr=Kickstart_Timezone"]

    def run(self, ctx, opts) -> None:
        rows = []
        for host in opts.host:
            sources = (
                ctx.cluster.attr_sources(host) if opts.resolved else {k: (v, "host") for k, v in host.attrs.items()}
            )
            for key in sorted(sources, key=str.lower):
                if opts.attr and key != opts.attr:
                    continue
                value, source = sources[key]
                rows.append([host.name, key, value, source])
        ctx.table(["host", "attr", "value", "source"], rows)
