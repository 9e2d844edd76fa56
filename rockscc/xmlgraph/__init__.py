"""Rocks XML node and graph files: load, merge overlays, walk, order, expand per host.

The names below are imported on first use, so `rockscc.xmlgraph.overlay` (which the model needs)
does not pull in lxml and lark for commands that never compile anything."""

from typing import TYPE_CHECKING

__all__ = ["CompileResult", "HostInput", "NodeTree", "Overlay", "compile_host", "host_input"]

if TYPE_CHECKING:  # pragma: no cover
    from rockscc.xmlgraph.compiler import CompileResult, HostInput, NodeTree, compile_host, host_input
    from rockscc.xmlgraph.overlay import Overlay


def __getattr__(name: str):
    if name == "Overlay":
        from rockscc.xmlgraph.overlay import Overlay

        return Overlay
    if name in __all__:
        from rockscc.xmlgraph import compiler

        return getattr(compiler, name)
    raise AttributeError(f"module 'rockscc.xmlgraph' has no attribute {name!r}")
