"""What the compiler commands share: compiling one host of the description on demand."""

from __future__ import annotations

from rockscc.pipeline.producers import node_tree
from rockscc.cli.command import Param
from rockscc.xmlgraph import CompileResult, compile_host, host_input

EVAL_PARAM = Param("eval", kind="bool", default=True,
                   help="run <eval> scripts (no: replace each by a marked comment and warn)")


def compile_for(ctx, host, *, evals: bool) -> CompileResult:
    cluster = ctx.cluster
    result = compile_host(node_tree(cluster), host_input(cluster, host, evals=evals))
    for warning in result.warnings:
        ctx.warn(f"{host.name}: {warning}")
    return result


def placeholder_entities(ctx, nodes, attrs: dict[str, str]) -> None:
    """For reading one node without a host: an entity without a value stays `&name;`, reported,
    instead of failing (the fragment can be read on its own)."""
    for node in nodes:
        for name in sorted(node.entity_names - set(attrs)):
            ctx.warn(f"{node.display}: no value for &{name}; (give {name}=… on the command line)")
            attrs[name] = f"&{name};"
