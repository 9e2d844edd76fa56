"""`rockscc test node FILE.xml`: one node file's kickstart fragment, no cluster needed."""

from __future__ import annotations

from pathlib import Path

from rockscc.backends.kickstart.dialects import DIALECTS
from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import compile_options, sample_attrs
from rockscc.model.defaults import DEFAULT_DIALECT


class TestNode(Command):
    """Expand one node file as a host of the given membership would see it and print the
    kickstart fragment it contributes (main commands, packages, %pre, %post), with the file's
    warnings at file:line, and check it with pykickstart of the dialect as `rockscc build` checks a
    whole kickstart (a fragment it rejects is printed, then the error; exit status 1).

    Attributes are those of a new description (`rockscc init`'s global attributes), the host's
    record (membership, hostname, arch, os) and key=value pairs; an entity without a value is
    kept as &name; and reported. <eval> runs only with eval=yes (sandboxed)."""

    name = "test node"
    args = [Arg("file", help="a node XML file")]
    params = [Param("membership", default="Compute"), Param("hostname", default="compute-0-0"),
              Param("arch", default="x86_64"), Param("os", default="linux"),
              Param("dialect", default=DEFAULT_DIALECT, choices=tuple(DIALECTS)),
              Param("eval", kind="bool", default=False)]
    extra_params = True
    examples = ["rockscc test node nodes/compute.xml", "rockscc test node my-roll/nodes/viz.xml membership=Tile"]

    def run(self, ctx, opts) -> None:
        attrs = sample_attrs(opts, arch=opts.arch, os=opts.os, rack="0", rank="0")
        fragment = ctx.session(compile_options(opts), cluster=False).fragment(Path(opts.file), attrs, opts.dialect)
        for warning in fragment.warnings:
            ctx.warn(str(warning))
        ctx.out(fragment.kickstart.rstrip("\n"))
        if fragment.error is not None:
            raise fragment.error
