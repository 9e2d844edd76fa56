"""`rockscc list host xml`: the expanded node XML of a host, annotated with where each piece came from."""

from __future__ import annotations

from rockscc.backends.profile_xml import profile_xml
from rockscc.cli.command import Arg, Command
from rockscc.commands._compile import COMPILE_PARAMS, compile_options


class ListHostXml(Command):
    """Print each host's profile as expanded XML, as Rocks' kpp printed it before kgen:
    every element carries the node file and line it came from."""

    name = "list host xml"
    args = [Arg("host", kind="host", repeat=True)]
    params = COMPILE_PARAMS
    examples = ["rockscc list host xml compute-0-0"]

    def run(self, ctx, opts) -> None:
        session = ctx.session(compile_options(opts))
        for host in opts.host:
            result = session.profile(host)
            for warning in result.warnings:
                ctx.warn(f"{host.name}: {warning}")
            ctx.out(profile_xml(result.profile, ctx.cluster.appliance_of(host).node))
