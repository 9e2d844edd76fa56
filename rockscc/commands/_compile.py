"""What the compiling commands share: the compile options every one of them takes from its
command line the same way (`rockscc build` included), and the attributes of a host that is not in
the description (test node, test partition)."""

from __future__ import annotations

from rockscc.cli.command import Param
from rockscc.pipeline import CompileOptions

EVAL_PARAM = Param(
    "eval",
    kind="bool",
    default=CompileOptions.evals,
    help="run <eval> scripts (no: replace each by a marked comment and warn)",
)
COMPILE_PARAMS = [EVAL_PARAM]


def compile_options(opts) -> CompileOptions:
    """The CompileOptions of a command line declaring COMPILE_PARAMS."""
    return CompileOptions(evals=opts.eval)


def sample_attrs(opts, *, arch: str, os: str, base: dict[str, str] | None = None, **more: str) -> dict[str, str]:
    """A pretend host's attributes: `base` (a description's), else the global attributes of a new
    description (rockscc init's), its record's (hostname, membership, arch, os) in both Rocks
    spellings, then the key=value pairs of the command line; then the Rocks-supplied ones
    (version, rocks_version_major, …) derived from those, unless given."""
    from rockscc.model.defaults import global_attrs
    from rockscc.model.rocksversion import rocks_intrinsics

    attrs = {
        **(global_attrs() if base is None else base),
        "hostname": opts.hostname,
        "Node_Hostname": opts.hostname,
        "membership": opts.membership,
        "Node_Membership": opts.membership,
        "arch": arch,
        "Node_Architecture": arch,
        "os": os,
        **more,
        **opts.extra,
    }
    return {**rocks_intrinsics(attrs), **attrs}
