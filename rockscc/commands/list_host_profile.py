"""`rockscc list host profile`: a host's kickstart, compiled and validated on the spot."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.commands._compile import COMPILE_PARAMS, compile_options


class ListHostProfile(Command):
    """Print the kickstart file of each host, as `rockscc build` writes it.

    The graph is walked from the host's appliance, its node files expanded with the host's
    attributes, and the result checked with pykickstart before it is printed."""

    name = "list host profile"
    args = [Arg("host", kind="host", repeat=True)]
    params = COMPILE_PARAMS
    examples = ["rockscc list host profile compute-0-0", "rockscc list host profile frontend eval=no"]

    def run(self, ctx, opts) -> None:
        session = ctx.session(compile_options(opts))
        for host in opts.host:
            built = session.compile(host, plan=False)
            for warning in built.warnings:
                ctx.warn(f"{host.name}: {warning}")
            ctx.out(built.kickstart)
