"""`rockscc build`: run the jobs whose dependencies changed, write their outputs atomically,
delete orphans, record everything in the manifest.

The engine knows jobs, not kickstarts: what to build comes from a JobSource (pipeline.Session),
which makes the jobs, their input stamps and the memo the jobs' results are kept in.

Failure model: each output file is replaced by rename (old or new, never partial); the manifest
is replaced last. A job that fails keeps its previous outputs and manifest record; every error
is reported, not just the first. Two builds never interleave (a lock in the build directory).
"""

from __future__ import annotations

import fcntl
import gc
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from rockscc.engine import unfinished as _unfinished
from rockscc.engine.intact import OutputCheck
from rockscc.engine.jobs import DepResolver, DepsJob, JobResult, SpecJob
from rockscc.engine.manifest import NAME as MANIFEST_NAME
from rockscc.engine.manifest import Manifest, record_text
from rockscc.engine.output import forget_checked_dirs, remove_output, write_output
from rockscc.engine.stamps import Stamps
from rockscc.engine.unfinished import Unfinished
from rockscc.errors import RocksccError
from rockscc.memo import DIRNAME as MEMO_DIRNAME
from rockscc.memo import Memo
from rockscc.model.timing import marks

LOCK_NAME = ".rockscc-build.lock"
UNFINISHED_NAME = _unfinished.NAME  # the marker of a build that may be writing (engine/unfinished.py)
PARALLEL_THRESHOLD = 64  # below this many compile jobs a process pool costs more than it saves


@dataclass
class BuildOptions:
    """How to build (which jobs, where, how many workers, what to say), not what: options that
    change the artifacts are the compile's (pipeline.CompileOptions)."""

    hosts: list[str] | None = None
    out: Path | None = None
    jobs: int = 0  # 0: one per CPU
    explain: bool = False
    dry_run: bool = False
    progress: bool = False
    with_cluster: bool = False  # with hosts=: also the jobs of no host (network files, TFTP loaders)


class JobSource(Protocol):
    """What a build is made from (pipeline.Session)."""

    memo: Memo  # pointed at the build directory for the build's duration

    def jobs(self, resolver: DepResolver, manifest: Manifest, outdir: Path, hosts: list[str] | None) -> list:
        """The jobs of the description (those of `hosts` and of no host, or all when None) that
        build into `outdir`, with the resolver taught to evaluate their dependency keys."""

    def stamps(self) -> Stamps:
        """The jobs' input stamps."""

    def host_stamps(self, hosts: list[str] | None) -> dict[str, str]:
        """The stamp of each host (of every host, or of those of `hosts` that exist): a digest of
        everything any job of the host could read (Stamps.of_hosts)."""

    def warm_up(self, jobs: list, resolver: DepResolver) -> None:
        """Fill shared caches before the build forks its workers."""


@dataclass
class BuildReport:
    """What a build did: its jobs, those rebuilt and why, files written, unchanged and removed, errors."""

    jobs: int = 0
    fresh: int = 0
    rebuilt: list[tuple[str, str]] = field(default_factory=list)  # (job id, why)
    written: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"{self.jobs} jobs: {len(self.rebuilt)} rebuilt, {self.fresh} up to date; "
            f"{self.written} files written, {self.unchanged} unchanged, {len(self.removed)} removed "
            f"in {self.seconds:.2f}s"
        )
        if self.errors:
            text += f"; {len(self.errors)} error(s)"
        return text


def output_dir(root: Path, out: Path | None) -> Path:
    return (out if out is not None else root / "build").resolve()


def refuse_foreign_dir(outdir: Path) -> None:
    """A build writes only into a directory that is new, empty, or a build directory already
    (it holds a `.rockscc-` file: the log, the lock, the unfinished marker, the memo): `out=/etc`
    or `out=/srv/tftp` mistyped would have the build write its tree among a system's own files
    and replace any that share an artifact's name (`libvirt/<vm>.xml` in /etc)."""
    try:
        entries = os.listdir(outdir)
    except (FileNotFoundError, NotADirectoryError):
        return  # made by the build (or refused as not a directory by the mkdir that follows)
    if entries and not any(name.startswith(".rockscc-") for name in entries):
        shown = ", ".join(sorted(entries)[:3]) + (", …" if len(entries) > 3 else "")
        raise RocksccError(
            f"{outdir}: holds {len(entries)} file(s) ({shown}) and no build of rockscc: a build writes "
            "only into a new or empty directory, or one an earlier build wrote (name another out=)"
        )


@contextmanager
def build_lock(outdir: Path, wait_message: Callable[[], None] | None = None) -> Iterator[None]:
    if not os.path.lexists(outdir / LOCK_NAME):  # a build directory already: nothing to list (every build)
        refuse_foreign_dir(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    # O_NOFOLLOW: a link planted in the lock's place must not make the build create the file it names
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
    with os.fdopen(os.open(outdir / LOCK_NAME, flags, 0o644), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if wait_message:
                wait_message()
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build(
    outdir: Path, options: BuildOptions, source: JobSource, wait_message: Callable[[], None] | None = None
) -> BuildReport:
    """Build what is stale into `outdir` (see output_dir)."""
    started = time.perf_counter()
    mark = marks()  # ROCKSCC_TIMING=1: the phases on stderr
    report = BuildReport()
    with (
        build_lock(outdir, wait_message),
        _unfinished_marker(outdir) as unfinished,
        _heap_settled(),
        ExitStack() as stack,
    ):
        forget_checked_dirs()  # links planted since the last build of this process are found
        source.memo.use(outdir)
        stack.callback(source.memo.close)
        manifest = stack.enter_context(closing(Manifest.load(outdir)))
        check = stack.enter_context(closing(OutputCheck(manifest.jobs, outdir, every_job=options.hosts is None)))
        resolver = DepResolver()
        stamps = source.stamps()
        host_stamps = source.host_stamps(options.hosts)
        _settle_heap()
        settled = _settled(host_stamps, manifest)
        plan = source.jobs(resolver, manifest, outdir, [h for h in host_stamps if h not in settled])
        if options.hosts is not None:
            wanted = set(options.hosts)
            plan = [job for job in plan if job.host in wanted or (options.with_cluster and job.host is None)]
        settled_jobs = [job_id for ids in settled.values() for job_id in ids]
        report.jobs = len(plan) + len(settled_jobs)
        mark("plan")
        stale, unchanged = _stale_jobs(plan, manifest, resolver, stamps, options, report)
        mark("stale check")
        _settle_heap()
        if options.dry_run:
            _damaged(unchanged, manifest, resolver, stamps, check, report)
            _damaged_settled(settled_jobs, source, resolver, manifest, outdir, stamps, check, report)
            report.seconds = time.perf_counter() - started
            return report
        unfinished.writing()
        claimed: dict[str, str] = {}
        held = _Held(manifest, [job.id for job in plan] + settled_jobs, {job.id for job in stale})
        absent = manifest.jobs.ABSENT
        unrecorded = {job.id for job in stale if manifest.jobs.stamp(job.id) is absent}
        run = _Run(stale, resolver, options, outdir, source, unfinished, unrecorded)
        applied = _Applied()
        _apply(run.results(), run, manifest, stamps, report, claimed, held, applied)
        # only now wait for the output check: the jobs whose inputs changed were built meanwhile
        damaged = _damaged(unchanged, manifest, resolver, stamps, check, report)
        damaged += _damaged_settled(settled_jobs, source, resolver, manifest, outdir, stamps, check, report)
        if damaged:
            run = _Run(damaged, resolver, options, outdir, source, unfinished)
            _apply(run.results(), run, manifest, stamps, report, claimed, held, applied)
        mark("run jobs")
        source.memo.store(applied.memo)
        _remember_files(applied, resolver)
        _remove_orphans({job.id for job in plan} | set(settled_jobs), manifest, applied.ran, outdir, options, report)
        unfinished.remove_debris(manifest.outputs, report.removed)
        _record_host_stamps(host_stamps, settled, plan, manifest, options)
        _save_manifest(manifest, outdir)
        mark("record")
    report.seconds = time.perf_counter() - started
    return report


def _settle_heap() -> None:
    """Exempt what the build has made so far from the cyclic collector (`gc.freeze`): the
    description's rows, the build log, the stamps and the plan of ten thousand hosts live until
    the build ends, and each collection that ran while they were young traversed all of them —
    in a one-host build 40–70 ms of collections, mostly while the compiler is imported after
    planning. Frozen objects are still freed by reference counting; forked workers inherit them
    without touching their pages."""
    gc.freeze()


@contextmanager
def _heap_settled() -> Iterator[None]:
    """Give frozen objects back to the collector when the build ends (a --watch process runs
    many builds: a cycle left by one is then collected, not kept for good)."""
    try:
        yield
    finally:
        gc.unfreeze()


def _save_manifest(manifest: Manifest, outdir: Path) -> None:
    import sqlite3

    try:
        manifest.save(outdir)
    except (sqlite3.Error, OSError) as exc:  # the artifacts are written; the next build checks them all again
        manifest.close()
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise RocksccError(
            f"cannot record the build in {outdir / MANIFEST_NAME}: {why} (every artifact is "
            "complete, old or new; the next build checks them all again)"
        ) from None


def clean(root: Path, out: Path | None = None) -> int:
    """Delete every artifact the build log records (and those a killed build wrote before it could
    record them: engine/unfinished.py), the log and the memo cache."""
    import shutil

    outdir = output_dir(root, out)
    if not outdir.is_dir():
        return 0
    with build_lock(outdir):
        manifest = Manifest.load(outdir)
        removed = sum(remove_output(outdir, path) for path in sorted(manifest.outputs()))
        unfinished = Unfinished(outdir)  # a killed build's files no record claims yet: built artifacts too
        debris: list[str] = []
        unfinished.remove_debris(set, debris)
        unfinished.close(ended=True)
        removed += len(debris)
        (outdir / MANIFEST_NAME).unlink(missing_ok=True)
        shutil.rmtree(outdir / MEMO_DIRNAME, ignore_errors=True)
    shutil.rmtree(outdir, ignore_errors=True) if not any(p.name != LOCK_NAME for p in outdir.iterdir()) else None
    return removed


def _stale_jobs(
    plan, manifest: Manifest, resolver: DepResolver, stamps: Stamps, options: BuildOptions, report: BuildReport
) -> tuple[list, list]:
    """(jobs whose inputs changed, [(job, its record if it was checked exactly)] of jobs whose
    inputs did not: those are fresh if their outputs are intact, see _damaged)."""
    stale, unchanged = [], []
    recorded_stamp, absent = manifest.jobs.stamp, manifest.jobs.ABSENT
    for job in plan:  # tens of thousands of jobs: this loop is most of a no-op build
        job.stamp = stamps.of(job)
        recorded = recorded_stamp(job.id)
        if job.stamp is not None and recorded == job.stamp:
            unchanged.append((job, None))  # nothing the job could read changed
            continue
        if recorded is absent:  # no record: stale whatever its inputs are
            stale.append(job)
            report.rebuilt.append((job.id, "new"))
            continue  # its fingerprint is made when it runs (_Run.run_one), not in this serial loop
        if isinstance(job, SpecJob) and not (options.explain or options.dry_run):
            # a spec job's check needs only its fingerprint and stamp, not its recorded spec
            previous = {"fp": manifest.jobs.fingerprint(job.id), "in": recorded}
        else:
            previous = manifest.jobs.get(job.id)
        fingerprint, _ = job.current(previous, resolver)
        job.fingerprint = fingerprint
        if fingerprint is not None and fingerprint == previous.get("fp"):
            unchanged.append((job, previous))
            continue
        why = job.explain(previous, resolver) if options.explain or options.dry_run else ""
        stale.append(job)
        report.rebuilt.append((job.id, why))
    return stale, unchanged


def _settled(host_stamps: dict[str, str], manifest: Manifest) -> dict[str, list[str]]:
    """The hosts whose stamp is the one recorded, with their recorded jobs: nothing any of their
    jobs could read changed since each was last found fresh under its own stamp, so none is
    planned (at ten thousand hosts, making and stamping their twenty thousand jobs is most of a
    no-op build); only their outputs are checked (_damaged_settled)."""
    recorded = manifest.hosts
    same = {host for host, stamp in host_stamps.items() if recorded.get(host) == stamp}
    return manifest.jobs.of_hosts(same) if same else {}


def _damaged_settled(
    job_ids: list[str],
    source: JobSource,
    resolver: DepResolver,
    manifest: Manifest,
    outdir: Path,
    stamps: Stamps,
    check: OutputCheck,
    report: BuildReport,
) -> list:
    """Of the settled hosts' jobs, those whose outputs changed on disk, made now (to rebuild);
    the rest are up to date."""
    broken = check.broken(job_ids)
    report.fresh += len(job_ids) - len(broken)
    if not broken:
        return []
    hosts = sorted({manifest.jobs.host_of(job_id) for job_id in broken})
    wanted = set(broken)
    jobs = [job for job in source.jobs(resolver, manifest, outdir, hosts) if job.id in wanted]
    for job in jobs:
        job.stamp = stamps.of(job)
        job.fingerprint, _ = job.current(manifest.jobs.get(job.id), resolver)
        report.rebuilt.append((job.id, "an output is missing or was changed outside rockscc"))
    return jobs


def _record_host_stamps(
    host_stamps: dict[str, str], settled: dict, plan: list, manifest: Manifest, options: BuildOptions
) -> None:
    """Record the stamp of each planned host whose every job now holds its own current stamp
    (fresh or rebuilt, none failed, none that reads the whole description); forget the others'
    and those of the hosts the build was for that are gone."""
    jobs_of: dict[str, list] = {}
    for job in plan:
        if job.host is not None:
            jobs_of.setdefault(job.host, []).append(job)
    recorded = manifest.jobs.stamp
    for host in sorted(host_stamps.keys() - settled.keys()):  # set differences in C: ten thousand hosts
        jobs = jobs_of.get(host, [])
        fresh = bool(jobs) and all(job.stamp is not None and recorded(job.id) == job.stamp for job in jobs)
        manifest.set_host_stamp(host, host_stamps[host] if fresh else None)
    asked = manifest.hosts.keys() if options.hosts is None else set(options.hosts).intersection(manifest.hosts)
    for host in sorted(asked - host_stamps.keys()):
        manifest.set_host_stamp(host, None)


def _damaged(
    unchanged: list, manifest: Manifest, resolver: DepResolver, stamps: Stamps, check: OutputCheck, report: BuildReport
) -> list:
    """Of the jobs whose inputs did not change, those whose outputs did (to rebuild); the rest
    are up to date."""
    damaged = []
    for job, previous in unchanged:
        if check.ok(job.id):
            report.fresh += 1
            if previous is not None:
                _restamp(job, previous, manifest, stamps)
            continue
        if previous is None:  # found by its stamp: compute what the exact check would have
            job.fingerprint, _ = job.current(manifest.jobs.get(job.id), resolver)
        damaged.append(job)
        report.rebuilt.append((job.id, "an output is missing or was changed outside rockscc"))
    return damaged


def _restamp(job, record: dict, manifest: Manifest, stamps: Stamps) -> None:
    """An exact check found the job fresh under a new stamp: record it for the next build."""
    stamp = _stamp_to_record(job, record, manifest, stamps)
    if record.get("in") != stamp:
        manifest.jobs.restamp(job.id, stamp)
        manifest.dirty = True


def _stamp_to_record(job, record: dict, manifest: Manifest, stamps: Stamps) -> str | None:
    """The job's stamp, if its record's dependencies are all covered by one (stamps.py)."""
    return job.stamp if job.stamp is not None and stamps.stampable(record, manifest.groups) else None


@contextmanager
def _unfinished_marker(outdir: Path) -> Iterator[Unfinished]:
    """The marker of a build that may be writing (engine/unfinished.py): found, it names the
    files an unfinished build may have left; this build's own is made when its first job is
    about to run, and removed when the build runs to its end (job errors included)."""
    unfinished = Unfinished(outdir)
    try:
        yield unfinished
    except BaseException:
        unfinished.close(ended=False)
        raise
    unfinished.close(ended=True)


# --- running ---------------------------------------------------------------------------------
@dataclass
class _Run:
    """The jobs of one run and what running them needs. Forked workers inherit it (workers.py): a
    worker is given job indexes, never pickled jobs."""

    jobs: list
    resolver: DepResolver
    options: BuildOptions
    outdir: Path
    source: JobSource
    unfinished: Unfinished  # journals the paths of each job's files before they are written
    unrecorded: set[str] = field(default_factory=set)  # ids of the jobs the log has no record of: their files are new
    sent_groups: set[str] = field(default_factory=set)  # groups this process's results carried

    def run_one(self, index: int) -> tuple[int, _Ran | None, str | None]:
        job = self.jobs[index]
        try:
            if isinstance(job, SpecJob) and job.id in self.unrecorded:  # not checked: see _stale_jobs
                job.fingerprint, _ = job.current(None, self.resolver)
            result = job.run(self.resolver)
            result.memo = self.source.memo.drain()  # a forked worker's results reach the memo file through the parent
            ran = _Ran(result)
            if isinstance(job, DepsJob):  # a host's kickstart and plan: paths no other job produces
                result.written = _write(result, self.outdir, self.unfinished, new=job.id in self.unrecorded)
                result.outputs = []  # written here, in parallel, instead of shipped to the parent
                # its record as the log stores it, made here too (in a worker: not in the build process)
                ran.fingerprint = job.fingerprint_of(result.record)
                ran.text = record_text(_record(job, ran.fingerprint, _outputs(result.written), result))
            self._send_group_once(result)
            return index, ran, None
        except RocksccError as exc:
            return index, None, f"{job.id}: {exc}"
        except OSError as exc:  # a full disk, a read-only build directory: this job's outputs stay as they were
            return index, None, f"{job.id}: {_os_error(exc)}"
        except Exception as exc:  # a bug: report it against the job, keep building the others
            return index, None, f"{job.id}: internal error: {type(exc).__name__}: {exc}"

    def _send_group_once(self, result: JobResult) -> None:
        """A dependency group travels to the parent with the first result of this process that
        reaches it (not one whose files failed to be written: it is reported as an error, and the
        parent never sees its group)."""
        if result.shared is not None:
            if result.record["group"] in self.sent_groups:
                result.shared = None
            else:
                self.sent_groups.add(result.record["group"])

    def results(self) -> Iterator:
        """Results as they come: the cheap spec jobs in order in this process, and the compile jobs,
        in a pool of forked workers when there are many (each writes its own host's files)."""
        heavy = [i for i, job in enumerate(self.jobs) if isinstance(job, DepsJob)]
        light = [i for i, job in enumerate(self.jobs) if not isinstance(job, DepsJob)]
        workers = self.options.jobs or os.cpu_count() or 1
        progress = _progress(len(self.jobs)) if self.options.progress else None
        try:
            if workers > 1 and len(heavy) >= PARALLEL_THRESHOLD:
                yield from self._in_pool(heavy, light, workers, progress)
            else:
                for index in light + heavy:
                    yield self.run_one(index)
                    progress and progress()
        finally:
            if progress:
                progress(done=True)

    def _in_pool(self, heavy: list[int], light: list[int], workers: int, progress) -> Iterator:
        """The compile jobs in forked workers, the first of which warms up the shared caches
        (engine/workers.py); the spec jobs here meanwhile (their files are written by this process
        while the workers compile)."""
        from rockscc.engine.workers import WarmPool  # here: a build with few compile jobs forks no pool

        compiled = [self.jobs[i] for i in heavy]  # warm_up compiles one host of each kind among them
        pool = WarmPool(self.run_one, heavy, workers, lambda: self.source.warm_up(compiled, self.resolver))
        try:
            for index in light:
                yield self.run_one(index)
                progress and progress()
            for item in pool.results():
                yield item
                progress and progress()
        finally:
            pool.close()


def _progress(total: int):
    """A rich progress bar on a terminal; nothing otherwise."""
    if not sys.stderr.isatty() or total < 20:
        return None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task("building", total=total)
    bar.start()

    def step(done: bool = False) -> None:
        if done:
            bar.stop()
        else:
            bar.advance(task)

    return step


# --- applying results --------------------------------------------------------------------------
@dataclass(slots=True)
class _Ran:
    """A job's result as _Run.run_one returns it, with, for a compile job, its fingerprint and
    its record's text in the build log (manifest.record_text), made where it ran."""

    result: JobResult
    fingerprint: str | None = None
    text: str | None = None


def _record(job, fingerprint: str | None, outputs: dict[str, list], result: JobResult) -> dict:
    """A job's record in the build log but its input stamp (`in`, set by the build process)."""
    return {"host": job.host, "fp": fingerprint, "outputs": outputs, **result.record}


def _outputs(written: list) -> dict[str, list]:
    """{path: [size, ctime, sha256]} of _write's (path, written, stat signature, sha256)."""
    return {path: [*sig, digest] for path, _, sig, digest in written}


class _Held:
    """The output paths the records of the jobs that do not run in this build hold: a job that
    runs may not take one, as it may not take a path another running job wrote. A safety net: a
    valid description has no two jobs writing one path (one frontend, unique addresses). Built on
    first need, when a job writes a path it did not write before."""

    def __init__(self, manifest: Manifest, planned: list[str], running: set[str]) -> None:
        self.manifest, self.planned, self.running = manifest, planned, running
        self._by_path: dict[str, str] | None = None

    def holder(self, path: str) -> str | None:
        if self._by_path is None:
            jobs, absent = self.manifest.jobs, self.manifest.jobs.ABSENT
            self._by_path = {
                p: job_id
                for job_id in self.planned
                if job_id not in self.running and jobs.stamp(job_id) is not absent
                for p in jobs.output_paths(job_id)
            }
        return self._by_path.get(path)


def _clash(job, result: JobResult, previous: dict, claimed: dict[str, str], held: _Held) -> str | None:
    """An output path another job produces: in this build, or by its record if it does not run."""
    before = previous.get("outputs", {})
    for path in _paths(result):
        if path in claimed:
            return f"{path} is also produced by {claimed[path]}"
        if path not in before and held.holder(path) not in (None, job.id):
            return f"{path} is also produced by {held.holder(path)}"
    return None


@dataclass
class _Applied:
    """What a build keeps of the results it applied, gathered as they arrive, not the results
    themselves (kept until the end, they grew the build by kilobytes a host)."""

    ran: set[str] = field(default_factory=set)  # the ids of the jobs whose records were replaced
    memo: list = field(default_factory=list)  # new persistent-memo entries (memo.py)
    files: set[str] = field(default_factory=set)  # the `file:` keys the new records read
    groups: set[str] = field(default_factory=set)  # the dependency groups they name

    def note(self, result: JobResult) -> None:
        self.memo.extend(result.memo)
        self.files.update(key for key in result.record.get("deps", ()) if key.startswith("file:"))
        self.groups.add(result.record.get("group"))


def _apply(
    results: Iterator,
    run: _Run,
    manifest: Manifest,
    stamps: Stamps,
    report: BuildReport,
    claimed: dict[str, str],
    held: _Held,
    applied: _Applied,
) -> None:
    """Record each result as it arrives (writing the outputs the job did not write itself), into
    the manifest and `applied`. `claimed`: output path -> job id."""
    outdir = run.outdir
    for index, ran, error in results:
        job = run.jobs[index]
        if error:
            report.errors.append(error)
            continue
        result = ran.result
        applied.note(result)
        if result.shared is not None:  # before anything may reject the result: later ones omit it (_Run.run_one)
            manifest.groups.setdefault(result.record["group"], result.shared)
        report.warnings.extend(f"{job.id}: {w}" for w in result.warnings)
        previous = manifest.jobs.get(job.id, {})
        clash = _clash(job, result, previous, claimed, held)
        if clash:
            report.errors.append(f"{job.id}: {clash}")
            continue
        try:
            written_files = _write(result, outdir, run.unfinished, new=not previous)
        except OSError as exc:
            report.errors.append(f"{job.id}: {_os_error(exc)}")
            continue
        for path, written, _, _ in written_files:
            claimed[path] = job.id
            report.written += written
            report.unchanged += not written
        outputs = _outputs(written_files)
        for path in sorted(set(previous.get("outputs", {})) - set(outputs)):
            if path not in claimed and remove_output(outdir, path):  # not a path another job now writes
                report.removed.append(path)
        record = _record(job, ran.fingerprint if isinstance(job, DepsJob) else job.fingerprint, outputs, result)
        record["in"] = _stamp_to_record(job, record, manifest, stamps)
        manifest.jobs.put(job.id, record, ran.text)  # a spec job's text is made now, while workers compile
        manifest.dirty = True
        applied.ran.add(job.id)
    report.errors.sort()  # workers finish in any order; the report does not
    report.warnings.sort()


def _os_error(exc: OSError) -> str:
    return f"cannot write {exc.filename or 'an output'}: {exc.strerror or exc} (its previous version is kept)"


def _paths(result: JobResult) -> list[str]:
    return [w[0] for w in result.written] if result.written is not None else [o.path for o in result.outputs]


def _write(
    result: JobResult, outdir: Path, unfinished: Unfinished, *, new: bool
) -> list[tuple[str, bool, list[int], str]]:
    """(path, written, stat signature, sha256) of each output, writing those not yet written.
    `new`: the job has no record, its files are most likely not there (write_output). Their
    paths are journalled first: a build killed before its log is saved leaves files no record
    claims yet (engine/unfinished.py)."""
    if result.written is not None:
        return result.written
    unfinished.will_write(o.path for o in result.outputs)
    return [(o.path, *write_output(outdir, o, new=new), o.digest) for o in result.outputs]


def _remember_files(applied: _Applied, resolver: DepResolver) -> None:
    """Record size/mtime of every file the new records read, so the next build's up-to-date
    check is a stat per file, and a no-op build rewrites nothing, not even the manifest."""
    keys = set(applied.files)
    for group in applied.groups:  # thousands of records share a handful of groups
        keys.update(resolver.groups.get(group, {}))
    for key in keys:
        if key.startswith("file:"):
            resolver.value(key, None)


def _remove_orphans(
    planned: set[str], manifest: Manifest, ran: set[str], outdir: Path, options: BuildOptions, report: BuildReport
) -> None:
    """Jobs that no longer exist (a removed host, a VM gone): delete what they wrote. `planned`:
    the ids of the jobs of this build (settled hosts' included)."""
    wanted = set(options.hosts) if options.hosts is not None else None
    orphans = [
        job_id
        for job_id in sorted(manifest.jobs.ids() - planned)
        if wanted is None or manifest.jobs.host_of(job_id) in wanted
    ]  # a partial build tidies its hosts only
    if not orphans:
        return
    # a file an existing job now writes stays (a job renamed or merged into another)
    absent, recorded = manifest.jobs.ABSENT, manifest.jobs.stamp
    kept = {path for job_id in planned if recorded(job_id) is not absent for path in manifest.jobs.output_paths(job_id)}
    for job_id in orphans:
        for path in sorted(manifest.jobs.output_paths(job_id)):
            if path not in kept and remove_output(outdir, path):
                report.removed.append(path)
        del manifest.jobs[job_id]
        manifest.dirty = True
