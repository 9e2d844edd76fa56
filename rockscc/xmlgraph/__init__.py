"""Rocks XML node and graph files: load, merge overlays, walk, order, expand per host.

The names below are imported on first use, so importing one module of the package (the
backends import `rockscc.xmlgraph.profile`) does not pull in lxml and lark."""

from typing import TYPE_CHECKING

__all__ = ["CompileResult", "HostInput", "NodeTree", "compile_host", "expand_nodes"]

if TYPE_CHECKING:  # pragma: no cover
    from rockscc.xmlgraph.compiler import CompileResult, HostInput, NodeTree, compile_host, expand_nodes


def __getattr__(name: str):
    if name in __all__:
        from rockscc.xmlgraph import compiler

        return getattr(compiler, name)
    raise AttributeError(f"module 'rockscc.xmlgraph' has no attribute {name!r}")
