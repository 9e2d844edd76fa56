"""`rockscc set cluster`."""

from __future__ import annotations

from rockscc.cli.command import Command, Param
from rockscc.model.names import check_path_safe


class SetCluster(Command):
    """Set the cluster's name, its default graph, or whether it is bare (bare=yes: no built-in
    nodes/ and graphs/, only the site's and the rolls')."""

    name = "set cluster"
    params = [Param("name"), Param("graph"), Param("bare", kind="bool")]
    examples = ["rockscc set cluster name=olympic", "rockscc set cluster bare=yes"]
    mutates = True

    def run(self, ctx, opts) -> None:
        settings = ctx.cluster.cluster
        if opts.name is not None:
            settings.name = check_path_safe("cluster", opts.name)
        if opts.graph is not None:
            settings.graph = check_path_safe("graph", opts.graph)
        if opts.bare is not None:
            settings.bare = opts.bare
