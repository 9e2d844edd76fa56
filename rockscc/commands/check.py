"""`rockscc check`: lint the description and its node/graph tree with file:line diagnostics."""

from __future__ import annotations

from rockscc.cli.command import Command, Param
from rockscc.errors import RocksccError
from rockscc.model.cluster import host_sort_key
from rockscc.pipeline import CompileOptions
from rockscc.xmlgraph.lint import lint_tree


class Check(Command):
    """Check the cluster description and every node and graph file, reporting all findings.

    Errors: unparsable files, edges to nodes without a file, appliance roots in no edge, order
    cycles, bad cond= syntax, undefined &entities; for hosts, kickstarts pykickstart rejects.
    Warnings: unknown tags, undefined <var>s, node files no appliance reaches, shadowed files.
    Hosts are compiled as `rockscc build` compiles them, but with <eval> off, one per (appliance,
    os, arch) unless hosts=all. Exits 1 on any error."""

    name = "check"
    params = [
        Param(
            "hosts", default="representative", choices=("representative", "all", "none"), help="which hosts to compile"
        )
    ]
    examples = ["rockscc check", "rockscc check hosts=all"]

    def run(self, ctx, opts) -> None:
        from rockscc.model.rolls import conflicts

        cluster = ctx.cluster
        cluster.host_table().check_files()  # every host file against the index, not only those compiled
        session = ctx.session(CompileOptions(evals=False))  # a lint runs no user code
        live = {
            name: a
            for name, a in cluster.appliances.items()
            if not a.roll or (a.roll in cluster.rolls and cluster.rolls[a.roll].enabled)
        }
        roots = {name: a.node for name, a in live.items()}
        graphs = {a.graph for a in live.values()}
        used = {cluster.appliance_by_membership(h.membership)[0] for h in cluster.hosts.values()}
        findings = lint_tree(session.tree(), graphs, roots, used)
        findings += conflicts(cluster)
        if not any(f.severity == "error" for f in findings) and opts.hosts != "none":
            findings += session.check_hosts(self._hosts(cluster, opts.hosts))
        for finding in sorted(set(findings)):
            ctx.out(str(finding))
        errors = sum(f.severity == "error" for f in set(findings))
        warnings = len(set(findings)) - errors
        ctx.out(f"{errors} error(s), {warnings} warning(s)")
        if errors:
            raise RocksccError(f"check found {errors} error(s)")

    @staticmethod
    def _hosts(cluster, which: str):
        chosen = {}
        for host in sorted(cluster.hosts.values(), key=host_sort_key):
            key = (host.membership, host.os, host.arch) if which == "representative" else host.name
            chosen.setdefault(key, host)
        return list(chosen.values())
