"""`rockscc test node FILE.xml`: one node file's kickstart fragment, no cluster needed."""

from __future__ import annotations

from pathlib import Path

from rockscc.backends.kickstart.dialects import DIALECTS
from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import compile_options, sample_attrs
from rockscc.errors import RocksccError
from rockscc.model.defaults import DEFAULT_DIALECT


def description_attrs(ctx, membership: str) -> dict[str, str] | None:
    """The global attributes, then the membership's appliance's, of the description the command
    runs in; None outside any."""
    from rockscc.model import find_cluster_dir

    try:
        root = ctx.cluster_dir or find_cluster_dir()
    except RocksccError:
        return None
    ctx.cluster_dir = root
    cluster = ctx.cluster
    attrs = dict(cluster.attrs)
    for appliance in cluster.appliances.values():
        if appliance.membership == membership:
            attrs.update(appliance.attrs)
    return attrs


class TestNode(Command):
    """Expand one node file as a host of the given membership would see it and print the
    kickstart fragment it contributes (main commands, packages, %pre, %post), with the file's
    warnings at file:line, and check it with pykickstart of the dialect as `rockscc build` checks a
    whole kickstart (a fragment it rejects is printed, then the error; exit status 1).

    Attributes are the global ones and those of the membership's appliance of the description it
    runs in (-C DIR, or the one holding the current directory), else those of a new description
    (`rockscc init`'s global attributes); then the host's record (membership, hostname, arch, os)
    and key=value pairs; an entity without a value is kept as &name; and reported. The dialect is
    the description's kickstart_dialect unless dialect= names one. <eval> runs only with eval=yes
    (sandboxed)."""

    name = "test node"
    args = [Arg("file", help="a node XML file")]
    params = [
        Param("membership", default="Compute"),
        Param("hostname", default="compute-0-0"),
        Param("arch", default="x86_64"),
        Param("os", default="linux"),
        Param(
            "dialect",
            choices=tuple(DIALECTS),
            help=f"kickstart dialect (default: the description's kickstart_dialect, else {DEFAULT_DIALECT})",
        ),
        Param("eval", kind="bool", default=False),
    ]
    extra_params = True
    examples = ["rockscc test node nodes/compute.xml", "rockscc test node my-roll/nodes/viz.xml membership=Tile"]

    def run(self, ctx, opts) -> None:
        base = description_attrs(ctx, opts.membership)
        dialect = (
            opts.dialect
            or opts.extra.get("kickstart_dialect")
            or (base or {}).get("kickstart_dialect")
            or DEFAULT_DIALECT
        )
        if dialect not in DIALECTS:
            raise RocksccError(f'kickstart_dialect "{dialect}" of the description is not one of {", ".join(DIALECTS)}')
        attrs = sample_attrs(opts, arch=opts.arch, os=opts.os, rack="0", rank="0", base=base, kickstart_dialect=dialect)
        fragment = ctx.session(compile_options(opts), cluster=False).fragment(Path(opts.file), attrs, dialect)
        for warning in fragment.warnings:
            ctx.warn(str(warning))
        ctx.out(fragment.kickstart.rstrip("\n"))
        if fragment.error is not None:
            raise fragment.error
