"""The build log (ninja's shape): for each job, what it read and what it wrote.

`build/.rockscc-manifest.sqlite` (SQLite, one row per job, so a build that reran one job writes
one row, not the whole log) holds
- `jobs`: id, host, its input stamp (stamps.py), its dependency group, the size and ctime of each
  output (`sigs`: what a no-op build checks), and `record`: JSON of everything else: the
  fingerprint, the outputs' sha256, and the spec or the dependencies read (`key: value`);
- `files`: dependency file key -> size, a token of the rest of its stat identity (mtime, ctime,
  inode: pipeline/deps.py), sha256, so unchanged files are not re-hashed;
- `groups`: id -> {dependency key: value}, the part of many jobs' dependencies that does not
  depend on which host reads it (node and graph files, options, non-intrinsic attributes), stored
  once and checked once per attribute context instead of once per host;
- `hosts`: host -> its *host stamp* (stamps.py: Stamps.of_hosts), recorded when every job of the
  host was left fresh under its own input stamp: a build that finds the host stamp equal does
  not plan the host's jobs at all (engine/make.py: settled hosts), only checks their outputs.
`rockscc list build` prints it. A build commits its changes in one transaction at its end; a build
killed before that leaves the previous log, whose records then disagree with the files on disk,
so the next build redoes that work. An unreadable log means a full rebuild, never an error.
"""

from __future__ import annotations

import json
import marshal
import sqlite3
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from rockscc import __version__
from rockscc.memo import private_file

NAME = ".rockscc-manifest.sqlite"
FORMAT = "4"  # 4: the outputs' signatures hold their ctime, not their mtime (output.stat_sig)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, host TEXT, stamp TEXT, grp TEXT, sigs BLOB, record TEXT);
CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, sha256 TEXT);
CREATE TABLE IF NOT EXISTS groups (id TEXT PRIMARY KEY, deps TEXT);
CREATE TABLE IF NOT EXISTS hosts (name TEXT PRIMARY KEY, stamp TEXT);
CREATE INDEX IF NOT EXISTS jobs_index ON jobs (id, host, stamp, sigs);
CREATE INDEX IF NOT EXISTS jobs_hosts ON jobs (id, host);
"""
# jobs_index covers what a build reads of a job (its stamp and output signatures: Jobs._entry,
# the output check's range scans): a scan of it reads a few MB, where a scan of the table reads
# every record too (20 MB at ten thousand hosts). jobs_hosts covers what every build reads of
# every job (Jobs.__init__): a scan of it reads a tenth of jobs_index's pages. Both are in id
# order, the order the jobs are listed in (Jobs.__iter__).


FETCH_ONE_BY_ONE = 64  # jobs whose stamps and output signatures are fetched one by one; then all at once


class Jobs:
    """id -> record, loaded lazily: a build reads every job's id and host (one query), the stamp
    and output signatures of a job when it asks for them (of every job at once past
    FETCH_ONE_BY_ONE: a no-op build of ten thousand settled hosts asks for a handful; the output
    check reads them a chunk at a time, `sigs_run`), and the full record only of jobs whose
    stamp changed. No one writes the log while a build reads it (the build lock)."""

    ABSENT = object()

    def __init__(self, conn: sqlite3.Connection | None, path: Path | None = None) -> None:
        self._conn, self._path = conn, path
        self._hosts: dict[str, str | None] = {}  # id -> host, of every job
        # id -> [host, stamp, output signatures: marshalled bytes until first asked for, then a list],
        # of the jobs fetched or set so far
        self._index: dict[str, list] = {}
        self._fetched = 0
        self._records: dict[str, dict[str, Any]] = {}
        self._texts: dict[str, str] = {}  # id -> record_text of a record set in this build
        self.changed: set[str] = set()
        self.deleted: set[str] = set()
        self.restamped: dict[str, str | None] = {}
        if conn is not None:
            self._hosts = dict(conn.execute("SELECT id, host FROM jobs"))

    def detach(self) -> None:
        """The connection is closed: records not loaded yet can no longer be (the build is over)."""
        self._conn = None

    def reconnect(self) -> None:
        """A connection of this process's own (in a forked child: SQLite's do not cross a fork)."""
        if self._conn is not None and self._path is not None:
            self._conn = sqlite3.connect(self._path, timeout=30)

    def _entry(self, job_id: str) -> list:
        """[host, stamp, signatures] of a job of the log (KeyError: no such job)."""
        entry = self._index.get(job_id)
        if entry is not None:
            return entry
        host = self._hosts[job_id]
        if self._conn is None:
            raise RuntimeError(f"the build log is closed: {job_id} cannot be read")
        self._fetched += 1
        if self._fetched > FETCH_ONE_BY_ONE:
            self._fetch_all()
            return self._index[job_id]
        found = self._conn.execute("SELECT stamp, sigs FROM jobs WHERE id = ?", (job_id,)).fetchone()
        entry = self._index[job_id] = [host, *(found or (None, None))]
        return entry

    def sigs_run(self, job_ids: list[str]) -> list[tuple[str, bytes | list | None]]:
        """(id, output signatures) of a run of consecutive jobs of the log in id order (a slice
        of the sorted ids, all str: SQLite orders TEXT as Python orders str), read in one range
        scan of jobs_index, not one lookup per id: marshalled bytes as stored, or what `sigs`
        gives for a job this process fetched or set. The output check's chunks (engine/intact.py)."""
        index = self._index
        if self._conn is None:
            return [(job_id, self.sigs(job_id)) for job_id in job_ids]
        rows = self._conn.execute(
            "SELECT id, sigs FROM jobs WHERE id BETWEEN ? AND ?", (job_ids[0], job_ids[-1])
        ).fetchall()
        if index:
            rows = [(job_id, self.sigs(job_id)) if job_id in index else (job_id, blob) for job_id, blob in rows]
        return rows

    def _fetch_all(self) -> None:
        index, hosts = self._index, self._hosts
        for job_id, stamp, sigs in self._conn.execute("SELECT id, stamp, sigs FROM jobs"):
            if job_id in hosts and job_id not in index:
                index[job_id] = [hosts[job_id], stamp, sigs]
        for job_id in hosts.keys() - index.keys():  # gone from the log meanwhile: no stamp, no output known
            index[job_id] = [hosts[job_id], None, None]

    def stamp(self, job_id: str):
        """The job's recorded input stamp (None: it has none), or ABSENT when there is no record."""
        if job_id not in self._hosts:
            return self.ABSENT
        return self._entry(job_id)[1]

    def sigs(self, job_id: str) -> list | None:
        """[path, size, mtime, path, …] of the job's outputs, without loading its record; None
        when the log's entry is damaged (the job is rebuilt, none of its paths trusted)."""
        entry = self._entry(job_id)
        if isinstance(entry[2], bytes):
            entry[2] = _checked_sigs(entry[2])
        return entry[2]

    def get(self, job_id: str, default: Any = None) -> dict[str, Any] | None:
        if job_id in self._records:
            return self._records[job_id]
        if job_id not in self._hosts or self._conn is None:
            return default
        (text,) = self._conn.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
        host, stamp, sigs = self._hosts[job_id], self._entry(job_id)[1], self.sigs(job_id) or []
        if not all(type(path) is str for path in sigs[0::3]):  # a damaged entry: no output is known
            sigs = []
        record = json.loads(text)
        digests = record.pop("digests", {})
        record.update(
            host=host,
            outputs={sigs[i]: [sigs[i + 1], sigs[i + 2], digests.get(sigs[i])] for i in range(0, len(sigs), 3)},
        )
        record["in"] = self.restamped.get(job_id, stamp)
        self._records[job_id] = record
        return record

    def fingerprint(self, job_id: str) -> str | None:
        """The job's recorded fingerprint, without loading its record: a spec job's record holds
        its whole spec (the network files': ~1 MB of JSON at ten thousand hosts)."""
        if job_id in self._records or job_id not in self._hosts or self._conn is None:
            return (self.get(job_id) or {}).get("fp")
        try:
            found = self._conn.execute(
                "SELECT json_extract(record, '$.fp') FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        except sqlite3.Error:  # an SQLite without JSON functions, a record that is not JSON
            return (self.get(job_id) or {}).get("fp")
        return found[0] if found is not None and type(found[0]) is str else None

    def __getitem__(self, job_id: str) -> dict[str, Any]:
        record = self.get(job_id)
        if record is None:
            raise KeyError(job_id)
        return record

    def __setitem__(self, job_id: str, record: dict[str, Any]) -> None:
        self.put(job_id, record)

    def put(self, job_id: str, record: dict[str, Any], text: str | None = None) -> None:
        """Set a job's record (not changed afterwards but for its stamp: Jobs.restamp), and its
        JSON as the log stores it: `text`, record_text(record) made where the job ran (a build
        worker), or made now, as the results arrive, instead of all at once when the log is saved."""
        self._records[job_id] = record
        self._texts[job_id] = text if text is not None else record_text(record)
        self._hosts[job_id] = record.get("host")
        self._index[job_id] = [record.get("host"), record.get("in"), _flat_sigs(record)]
        self.changed.add(job_id)
        self.deleted.discard(job_id)

    def text(self, job_id: str) -> str:
        """The job's record as the log stores it (record_text)."""
        text = self._texts.get(job_id)
        return text if text is not None else record_text(self[job_id])

    def __delitem__(self, job_id: str) -> None:
        self._records.pop(job_id, None)
        self._texts.pop(job_id, None)
        self._hosts.pop(job_id, None)
        self._index.pop(job_id, None)
        self.changed.discard(job_id)
        self.deleted.add(job_id)

    def restamp(self, job_id: str, stamp: str | None) -> None:
        """Record a new input stamp for a job found fresh by its exact check."""
        self._entry(job_id)[1] = stamp
        if job_id in self._records:
            self._records[job_id]["in"] = stamp
        self.restamped[job_id] = stamp

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._hosts))

    def ids(self) -> set[str]:
        """Every job id, as a set (made in C: twenty thousand on every build)."""
        return set(self._hosts)

    def __len__(self) -> int:
        return len(self._hosts)

    def of_hosts(self, hosts: Collection[str]) -> dict[str, list[str]]:
        """{host: its recorded jobs' ids} of those of `hosts` that have any (one pass over the
        log's twenty thousand jobs, on every build)."""
        found: dict[str, list[str]] = {}
        for job_id, host in self._hosts.items():
            if host in hosts:
                ids = found.get(host)
                if ids is None:
                    found[host] = [job_id]
                else:
                    ids.append(job_id)
        return found

    def host_of(self, job_id: str) -> str | None:
        return self._hosts[job_id]

    def output_paths(self, job_id: str) -> list[str]:
        """The paths of the job's outputs (none of a damaged entry's that are not even strings)."""
        return [path for path in (self.sigs(job_id) or [])[0::3] if type(path) is str]


def record_text(record: dict[str, Any]) -> str:
    """The `record` column: JSON of a job's record but its host, input stamp and outputs (columns
    of their own), with the outputs' sha256 (`digests`)."""
    rest = {k: v for k, v in record.items() if k not in ("host", "in", "outputs")}
    rest["digests"] = {path: sig[2] for path, sig in record.get("outputs", {}).items()}
    return json.dumps(rest, sort_keys=True)


def _flat_sigs(record: dict[str, Any]) -> list:
    return [x for path, sig in sorted(record.get("outputs", {}).items()) for x in (path, sig[0], sig[1])]


class Manifest:
    def __init__(self, conn: sqlite3.Connection | None = None, path: Path | None = None) -> None:
        self.jobs = Jobs(conn, path)
        self.files: dict[str, list] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.hosts: dict[str, str] = {}  # host -> its host stamp (see above)
        self._hosts_changed: set[str] = set()
        self.dirty = conn is None  # a loaded manifest is clean until a build changes something in it
        self._files_dirty = False
        self._conn = conn
        if conn is not None:
            self.files = {key: [size, mtime, sha] for key, size, mtime, sha in conn.execute("SELECT * FROM files")}
            self.groups = {gid: json.loads(deps) for gid, deps in conn.execute("SELECT id, deps FROM groups")}
            self.hosts = _host_stamps(conn)
        self._known_groups = set(self.groups)

    @classmethod
    def load(cls, outdir: Path) -> Manifest:
        path = outdir / NAME
        if not path.exists():
            return cls()
        try:
            conn = sqlite3.connect(path, timeout=30)
            meta = dict(conn.execute("SELECT key, value FROM meta"))
            if meta.get("format") != FORMAT or meta.get("version") != __version__:
                conn.close()
                return cls()  # another rockscc's log: everything is rebuilt, nothing is lost
            return cls(conn, path)
        except sqlite3.Error:
            _delete(path)
            return cls()  # no usable log: everything is rebuilt, nothing is lost

    def close(self) -> None:
        """Release the log without writing (a no-op build, a dry run, a failed one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self.jobs.detach()

    def set_host_stamp(self, host: str, stamp: str | None) -> None:
        """Record a host's stamp (None: forget it, the host's jobs are planned next time)."""
        if self.hosts.get(host) == stamp:
            return
        if stamp is None:
            del self.hosts[host]
        else:
            self.hosts[host] = stamp
        self._hosts_changed.add(host)
        self.dirty = True

    def file_changed(self) -> None:
        self._files_dirty = self.dirty = True

    def save(self, outdir: Path) -> None:
        if not self.dirty and (outdir / NAME).exists():
            return  # a no-op build leaves the manifest untouched
        outdir.mkdir(parents=True, exist_ok=True)
        if self._conn is None:
            _delete(outdir / NAME)  # an unusable or foreign log is replaced, not mixed with
            private_file(outdir / NAME)
            self._conn = sqlite3.connect(outdir / NAME, timeout=30)
            self._files_dirty = True
            self.jobs.changed |= set(self.jobs)
            self._hosts_changed |= set(self.hosts)
        conn = self._conn
        with conn:
            conn.executescript(_SCHEMA)
            conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", [("format", FORMAT), ("version", __version__)]
            )
            conn.executemany("DELETE FROM jobs WHERE id = ?", [(j,) for j in self.jobs.deleted])
            conn.executemany(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?)",
                [self._row(j) for j in sorted(self.jobs.changed)],
            )
            conn.executemany(
                "UPDATE jobs SET stamp = ? WHERE id = ?",
                [(s, j) for j, s in self.jobs.restamped.items() if j not in self.jobs.changed],
            )
            if self._files_dirty:
                conn.execute("DELETE FROM files")
                conn.executemany("INSERT INTO files VALUES (?, ?, ?, ?)", [(k, *v) for k, v in self.files.items()])
            conn.executemany(
                "INSERT OR REPLACE INTO groups VALUES (?, ?)",
                [(g, json.dumps(d, sort_keys=True)) for g, d in self.groups.items() if g not in self._known_groups],
            )
            conn.execute("DELETE FROM groups WHERE id NOT IN (SELECT grp FROM jobs WHERE grp IS NOT NULL)")
            gone = [(h,) for h in self._hosts_changed if h not in self.hosts]
            conn.executemany("DELETE FROM hosts WHERE name = ?", gone)
            conn.executemany(
                "INSERT OR REPLACE INTO hosts VALUES (?, ?)",
                [(h, self.hosts[h]) for h in sorted(self._hosts_changed) if h in self.hosts],
            )
        self.close()
        (outdir / ".rockscc-manifest.json").unlink(missing_ok=True)  # the log of rockscc before format 3

    def _row(self, job_id: str) -> tuple:
        record = self.jobs[job_id]
        return (
            job_id,
            record.get("host"),
            record.get("in"),
            record.get("group"),
            marshal.dumps(self.jobs.sigs(job_id)),  # _flat_sigs(record), made when it was set
            self.jobs.text(job_id),
        )

    def outputs(self) -> set[str]:
        return {path for job_id in self.jobs for path in self.jobs.output_paths(job_id)}


def _host_stamps(conn: sqlite3.Connection) -> dict[str, str]:
    """The hosts table (none in a log written before it existed: every host is planned once),
    but rows that are not two strings. Ten thousand rows on every build: read as two columns
    joined in SQLite and split here, row by row only when a value holds a newline."""
    text = "typeof(name) = 'text' AND typeof(stamp) = 'text'"
    try:
        count, names, stamps = conn.execute(
            f"SELECT count(*), group_concat(name, char(10)), group_concat(stamp, char(10)) FROM hosts WHERE {text}"
        ).fetchone()
        if not count:
            return {}
        names, stamps = names.split("\n"), stamps.split("\n")
        if len(names) != count or len(stamps) != count:
            names, stamps = zip(*conn.execute(f"SELECT name, stamp FROM hosts WHERE {text}"))
    except sqlite3.OperationalError:
        return {}
    return dict(zip(names, stamps))


def _checked_sigs(blob: bytes) -> list | None:
    """The output signatures of one log entry, or None when the entry is not a list of triples
    (a damaged or planted log). What each item is, is checked where it is used (cheaply, per
    entry of a no-op build's 64 000): intact() takes a wrong type as a changed output, and
    engine/output.remove_output deletes nothing outside the build directory."""
    try:
        sigs = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return None
    return sigs if type(sigs) is list and len(sigs) % 3 == 0 else None


def _delete(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
