"""The compile pipeline: the Session that chains the stages for a description and owns every
cache (session.py), the jobs it gives the build engine (producers.py, deps.py), the specs of the
spec-built artifacts (specs.py), and --watch (watch.py)."""

from rockscc.pipeline.session import CompileOptions, Session

__all__ = ["CompileOptions", "Session"]
