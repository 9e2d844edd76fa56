"""Rocks XML node and graph files: load, merge overlays, walk, order, expand per host."""

from rockscc.xmlgraph.compiler import CompileResult, HostInput, NodeTree, compile_host, host_input
from rockscc.xmlgraph.overlay import Overlay

__all__ = ["CompileResult", "HostInput", "NodeTree", "Overlay", "compile_host", "host_input"]
