"""`rockscc build`: compile every artifact, rebuilding only what a change touched."""

from __future__ import annotations

import sys
from pathlib import Path

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import COMPILE_PARAMS, compile_options
from rockscc.engine import make
from rockscc.errors import RocksccError, printable
from rockscc.model import load
from rockscc.model.overlay import BUILTIN_BASE
from rockscc.pipeline import Session


class Build(Command):
    """Compile the cluster description into build/: kickstarts, partition plans, pxelinux,
    UEFI grub and iPXE boot files, Xen and libvirt domain configs.

    Like make, only artifacts whose inputs changed are rebuilt: each artifact's record in
    build/.rockscc-manifest.sqlite holds exactly what it read (node and graph files, attributes,
    hardware, the rockscc version). Up-to-date files are not touched; files of removed hosts are
    deleted. Each file is replaced atomically; a build with errors reports all of them, keeps the
    previous artifacts of the failing hosts and exits non-zero. Kickstarts are mode 0600.

    Layout: kickstart/<host>.ks, partitions/<host>.txt and .json, pxelinux.cfg/<HEXIP> and
    default, uefi/grub.cfg-<HEXIP>, ipxe/<host>.ipxe, xen/<vm>.cfg and .install.cfg,
    libvirt/<vm>.xml and .install.xml."""

    name = "build"
    args = [Arg("host", repeat=True, optional=True, help="build only these hosts (names, appliances, rackN, globs)")]
    params = [
        Param(
            "out",
            help="build directory (default: build/ in the description): new, empty, or one a build wrote",
        ),
        Param("jobs", kind="int", default=0, short="j", help="parallel workers (default: one per CPU)"),
        Param("explain", kind="bool", default=False, help="say why each artifact was rebuilt"),
        Param("dry-run", kind="bool", default=False, help="say what would be rebuilt, write nothing"),
        Param("watch", kind="bool", default=False, help="rebuild whenever the description changes"),
        Param(
            "clean", kind="bool", default=False, help="delete every built artifact, the build log and the memo cache"
        ),
        *COMPILE_PARAMS,
    ]
    examples = ["rockscc build", "rockscc build compute-0-0 --explain", "rockscc build -j 2 --out /tftpboot/rockscc"]

    def run(self, ctx, opts) -> None:
        root = ctx.root
        out = Path(opts.out) if opts.out else None
        if opts.clean:
            removed = make.clean(root, out)
            ctx.out(f"removed {removed} artifacts")
            return
        hosts = [h.name for h in ctx.hosts(opts.host)] if opts.host else None
        options = make.BuildOptions(
            hosts=hosts, out=out, jobs=opts.jobs, explain=opts.explain, dry_run=opts.dry_run, progress=True
        )
        if opts.watch:
            from rockscc.pipeline.watch import watch

            def build_once() -> None:  # each round: the description as saved now, a new session
                run_build(Session(load(root), compile_options(opts)), options, ctx)

            def sources() -> list[Path]:  # the rolls' directories (not rockscc's own): their files are inputs too
                return [o.path for o in load(root).overlays() if not o.path.resolve().is_relative_to(BUILTIN_BASE)]

            def say(text: str) -> None:  # each line as it happens, also into a file or a pipe
                ctx.out(text)
                ctx.stdout.flush()

            watch(root, make.output_dir(root, out), build_once, say, sources)
            return
        report = run_build(ctx.session(compile_options(opts)), options, ctx)
        if report.errors:
            # make -k: jobs that succeeded wrote their files; a failed job's files stay as they were
            raise RocksccError(
                f"build failed with {len(report.errors)} error(s); the failed jobs' previous artifacts were kept"
            )


def group_warnings(warnings: list[str]) -> dict[str, list[str]]:
    """The same warning from many hosts' jobs is one line naming the jobs: a tree whose evals
    are off warns once per eval, not once per eval per host."""
    grouped: dict[str, dict[str, None]] = {}  # message -> jobs (an ordered set: 10k hosts × 40 warnings)
    for warning in warnings:
        job, _, message = warning.partition(": ")
        grouped.setdefault(message, {})[job] = None
    return {message: list(jobs) for message, jobs in grouped.items()}


def _jobs_text(jobs: list[str], shown: int = 3) -> str:
    names = sorted(jobs)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def run_build(session: Session, options: make.BuildOptions, ctx) -> make.BuildReport:
    """One build, its report printed."""
    report = session.build(options, wait_message=lambda: ctx.warn("waiting for another build to finish"))
    for job_id, why in report.rebuilt if (options.explain or options.dry_run) else []:
        verb = "would rebuild" if options.dry_run else "rebuilt"
        ctx.out(f"{verb} {job_id}: {why}")
    for message, jobs in sorted(group_warnings(report.warnings).items()):
        ctx.warn(f"{message} ({_jobs_text(jobs)})")
    for error in report.errors:
        sys.stderr.write(f"error - {printable(error)}\n")
    ctx.out(report.summary())
    return report
