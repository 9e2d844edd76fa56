"""Files on VM containers — disk images and saved states — and copying them between containers
without losing a byte or a hole.

A container's files are reached one of two ways (`store_for`): directly, when its libvirt URI
names this machine's own daemon (test:///…, qemu:///system: its paths are paths here), or through
libvirt's storage API (storage pools over the directories, sparse upload/download streams) for
every other container. A copy reads the source as data and holes, writes holes as holes (and
all-zero blocks as holes too), and is then read back from the target and compared with the
source by a digest of the content that does not depend on where the holes are.
"""

from __future__ import annotations

import errno
import hashlib
import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from rockscc.errors import RocksccError
from rockscc.runtime.connection import Unreachable, broken_connection

BLOCK = 4096  # holes are found and made at this granularity
PIECE = 1 << 20  # bytes read or sent at a time
_ZEROS = memoryview(bytes(PIECE + BLOCK))
Chunk = bytes | int  # data, or the length of a hole


def is_local(uri: str) -> bool:
    """Whether paths on the container are paths here: a URI without a host and without a socket=
    of another daemon (which may live in another mount namespace)."""
    parts = urlsplit(uri)
    if parts.scheme == "test":
        return True
    transport = parts.scheme.partition("+")[2]
    return not parts.netloc and transport in ("", "unix") and "socket" not in parse_qs(parts.query)


# --- content as aligned runs of data and holes ----------------------------------------------------
class Blocks:
    """Turns data and holes in chunks of any size into runs aligned to BLOCK, an all-zero block
    becoming hole, and hands them to sinks (`data(offset, bytes)`, `hole(offset, length)`)."""

    def __init__(self, *sinks) -> None:
        self.sinks = sinks
        self.pos = 0  # bytes taken in so far
        self.carry = b""  # the start of a block not yet complete

    def feed(self, chunk: Chunk) -> None:
        if isinstance(chunk, int):
            self._hole(chunk)
        else:
            self._data(chunk)

    def end(self) -> int:
        """Flush the last partial block; the total size."""
        if self.carry:
            self._emit(self.pos - len(self.carry), memoryview(self.carry))
            self.carry = b""
        return self.pos

    def _data(self, chunk: bytes) -> None:
        buf = self.carry + chunk if self.carry else chunk
        start = self.pos - len(self.carry)
        whole = len(buf) - len(buf) % BLOCK
        self._emit(start, memoryview(buf)[:whole])
        self.carry = bytes(buf[whole:])
        self.pos = start + len(buf)

    def _hole(self, length: int) -> None:
        if self.carry:
            fill = min(length, BLOCK - len(self.carry))
            self._data(bytes(fill))
            length -= fill
        whole = length - length % BLOCK
        if whole:
            for sink in self.sinks:
                sink.hole(self.pos, whole)
            self.pos += whole
        if length > whole:
            self._data(bytes(length - whole))

    def _emit(self, start: int, view: memoryview) -> None:
        size = len(view)
        if not size:
            return
        if view == _ZEROS[:size]:
            for sink in self.sinks:
                sink.hole(start, size)
            return
        run, run_zero = 0, None
        for i in range(0, size, BLOCK):
            part = view[i : i + BLOCK]
            zero = part == _ZEROS[: len(part)]
            if zero != run_zero and i > run:
                self._run(start + run, view[run:i], run_zero)
                run = i
            run_zero = zero
        self._run(start + run, view[run:], run_zero)

    def _run(self, offset: int, view: memoryview, zero: bool) -> None:
        for sink in self.sinks:
            if zero:
                sink.hole(offset, len(view))
            else:
                sink.data(offset, view)


class Digest:
    """SHA-256 of a file's content that holes cannot change: each 1 MiB window holding a non-zero
    byte, with its index, then the size. A sparse copy and its original agree exactly when their
    bytes do, however each was cut into data and holes."""

    WINDOW = 1 << 20

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._index = 0
        self._window = bytearray(self.WINDOW)
        self._dirty = False  # the window holds data (Blocks hands over non-zero blocks only)

    def data(self, offset: int, view: memoryview) -> None:
        done = 0
        while done < len(view):
            index, within = divmod(offset + done, self.WINDOW)
            if index != self._index:
                self._flush()
                self._index = index
            size = min(self.WINDOW - within, len(view) - done)
            if size == self.WINDOW:  # a whole window of data: hashed as it is, not copied
                self._hash.update(struct.pack("<Q", index))
                self._hash.update(view[done : done + size])
                self._index += 1
            else:
                self._window[within : within + size] = view[done : done + size]
                self._dirty = True
            done += size

    def hole(self, offset: int, length: int) -> None:
        pass  # the window is zero where nothing was written

    def hexdigest(self, size: int) -> str:
        final = self._hash.copy()
        if self._dirty:
            final.update(struct.pack("<Q", self._index))
            final.update(self._window)
        final.update(struct.pack("<Q", size))
        return final.hexdigest()

    def _flush(self) -> None:
        if self._dirty:
            self._hash.update(struct.pack("<Q", self._index))
            self._hash.update(self._window)
            self._window = bytearray(self.WINDOW)
            self._dirty = False


class _Coalesce:
    """Joins adjacent data runs into writes of up to PIECE bytes and adjacent holes into one."""

    def __init__(self) -> None:
        self.pending = bytearray()
        self.pending_at = 0
        self.hole_len = 0

    def data(self, offset: int, view: memoryview) -> None:
        if self.hole_len:
            self.write_hole(self.hole_len)
            self.hole_len = 0
        if self.pending and self.pending_at + len(self.pending) != offset:
            self.flush()
        if not self.pending and len(view) >= PIECE // 4:  # big enough on its own: not copied
            self.write_data(offset, view)
            return
        if not self.pending:
            self.pending_at = offset
        self.pending += view
        if len(self.pending) >= PIECE:
            self.flush()

    def hole(self, offset: int, length: int) -> None:
        self.flush()
        self.hole_len += length

    def flush(self) -> None:
        if self.pending:
            with memoryview(self.pending) as view:
                self.write_data(self.pending_at, view)
            self.pending.clear()

    def close(self, size: int) -> None:
        self.flush()
        if self.hole_len:
            self.write_hole(self.hole_len)
            self.hole_len = 0
        self.finish(size)

    def write_data(self, offset: int, data: memoryview) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def write_hole(self, length: int) -> None:
        pass

    def finish(self, size: int) -> None:
        pass


# --- a container's files ----------------------------------------------------------------------------
class LocalStore:
    """A container whose paths are paths here."""

    def __init__(self, container: str) -> None:
        self.container = container

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def size(self, path: str) -> int:
        return self._stat(path).st_size

    def allocated(self, path: str) -> int:
        return self._stat(path).st_blocks * 512

    def available(self, directory: str) -> int:
        here = Path(directory)
        while not here.exists() and here != here.parent:
            here = here.parent
        stat = os.statvfs(here)
        return stat.f_bavail * stat.f_frsize

    def remove(self, path: str) -> None:
        with suppress(FileNotFoundError):
            os.unlink(path)

    def create_sparse(self, path: str, size: int) -> None:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.ftruncate(fd, size)
            finally:
                os.close(fd)
        except OSError as exc:
            raise RocksccError(f"creating {path} on {self.container}: {exc.strerror}") from None

    def chunks(self, path: str) -> Iterator[Chunk]:
        """The file as data and holes (SEEK_DATA/SEEK_HOLE; a file system without them is all data)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise RocksccError(f"reading {path} on {self.container}: {exc.strerror}") from None
        try:
            size, pos = os.fstat(fd).st_size, 0
            while pos < size:
                try:
                    start = os.lseek(fd, pos, os.SEEK_DATA)
                except OSError as exc:
                    if exc.errno != errno.ENXIO:
                        raise
                    start = size
                if start > pos:
                    yield start - pos
                if start >= size:
                    break
                end = os.lseek(fd, start, os.SEEK_HOLE)
                while start < end:
                    data = os.pread(fd, min(PIECE, end - start), start)
                    if not data:
                        raise RocksccError(f"reading {path} on {self.container}: it shrank while being read")
                    yield data
                    start += len(data)
                pos = end
        finally:
            os.close(fd)

    @contextmanager
    def writer(self, path: str, size: int, mode: int = 0o600):
        """A sink writing `path` sparsely; the file is synced at the end, removed if writing fails."""
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        except OSError as exc:
            raise RocksccError(f"creating {path} on {self.container}: {exc.strerror}") from None
        sink = _FileSink(fd)
        try:
            yield sink
            sink.close(size)
            os.fsync(fd)
        except OSError as exc:
            self.remove(path)
            raise RocksccError(f"writing {path} on {self.container}: {exc.strerror}") from None
        except BaseException:
            self.remove(path)
            raise
        finally:
            os.close(fd)

    def _stat(self, path: str) -> os.stat_result:
        try:
            return os.stat(path)
        except OSError as exc:
            raise RocksccError(f"{path} on {self.container}: {exc.strerror}") from None


class _FileSink(_Coalesce):
    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd

    def write_data(self, offset: int, data: memoryview) -> None:
        while data:
            written = os.pwrite(self.fd, data, offset)
            data, offset = data[written:], offset + written

    def finish(self, size: int) -> None:
        os.ftruncate(self.fd, size)


class LibvirtStore:
    """A container reached through libvirt: its directories are storage pools (defined when
    missing, as `create host vm` does), files are volumes, and content moves in sparse streams."""

    def __init__(self, connect: Callable[[], object], container: str) -> None:
        self._connect, self.container = connect, container

    @property
    def conn(self):
        """The container's connection, reopened if it broke (a daemon restarted)."""
        return self._connect()

    def exists(self, path: str) -> bool:
        return self._volume(self.conn, path, missing_ok=True) is not None

    def size(self, path: str) -> int:
        return self._info(path)[1]

    def allocated(self, path: str) -> int:
        return self._info(path)[2]

    def available(self, directory: str) -> int:
        with self._errors(f"asking for the free space of {directory} on"):
            pool = pool_for(self.conn, directory)
            pool.refresh(0)
            return pool.info()[3]

    def remove(self, path: str) -> None:
        volume = self._volume(self.conn, path, missing_ok=True)
        if volume is not None:
            with self._errors(f"removing {path} on"):
                volume.delete(0)

    def create_sparse(self, path: str, size: int) -> None:
        directory, name = os.path.split(path)
        with self._errors(f"creating {path} on"):
            pool_for(self.conn, directory).createXML(volume_xml(name, size), 0)

    def chunks(self, path: str) -> Iterator[Chunk]:
        import libvirt

        conn = self.conn  # the volume and its stream must share a connection
        volume = self._volume(conn, path)
        with self._errors(f"reading {path} on"):
            stream = conn.newStream(0)
            volume.download(stream, 0, 0, libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
        done = False
        try:
            while True:
                with self._errors(f"reading {path} on"):
                    got = stream.recvFlags(PIECE, libvirt.VIR_STREAM_RECV_STOP_AT_HOLE)
                    if got == -3:
                        got = stream.recvHole(0)
                if isinstance(got, bytes) and not got:
                    break
                yield got
            with self._errors(f"reading {path} on"):
                stream.finish()
            done = True
        finally:
            if not done:
                with suppress(Exception):
                    stream.abort()

    @contextmanager
    def writer(self, path: str, size: int, mode: int = 0o600):
        """A sink uploading a new volume `path` in a sparse stream; removed if the upload fails."""
        import libvirt

        directory, name = os.path.split(path)
        conn = self.conn  # the volume and its stream must share a connection
        with self._errors(f"creating {path} on"):
            volume = pool_for(conn, directory).createXML(volume_xml(name, size, mode), 0)
        ok = False
        try:
            with self._errors(f"writing {path} on"):
                stream = conn.newStream(0)
                volume.upload(stream, 0, size, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM)
            sink = _StreamSink(stream)
            try:
                yield sink
                with self._errors(f"writing {path} on"):
                    sink.close(size)
            except BaseException:
                with suppress(Exception):
                    stream.abort()
                raise
            ok = True
        finally:
            if not ok:
                with suppress(Exception):
                    volume.delete(0)

    def _volume(self, conn, path: str, missing_ok: bool = False):
        import libvirt

        directory, name = os.path.split(path)
        with self._errors(f"looking for {path} on"):
            pool = pool_for(conn, directory)
            pool.refresh(0)
            try:
                return pool.storageVolLookupByName(name)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
                    raise
        if missing_ok:
            return None
        raise RocksccError(f"{path} on {self.container}: no such file")

    def _info(self, path: str) -> list[int]:
        volume = self._volume(self.conn, path)
        with self._errors(f"reading the size of {path} on"):
            return volume.info()

    @contextmanager
    def _errors(self, action: str):
        import libvirt

        try:
            yield
        except libvirt.libvirtError as exc:
            kind = Unreachable if broken_connection(exc) else RocksccError
            raise kind(f"{action} {self.container}: {(exc.get_error_message() or str(exc)).strip()}") from None


class _StreamSink(_Coalesce):
    def __init__(self, stream) -> None:
        super().__init__()
        self.stream = stream

    def write_data(self, offset: int, data: memoryview) -> None:
        while data:
            data = data[self.stream.send(bytes(data)) :]

    def write_hole(self, length: int) -> None:
        self.stream.sendHole(length, 0)

    def finish(self, size: int) -> None:
        self.stream.finish()


def pool_for(conn, directory: str):
    """The storage pool over `directory` on the connection's host, defined, built and started when
    there is none (autostarted, so it survives the daemon's restart)."""
    from lxml import etree

    directory = directory.rstrip("/") or "/"
    for pool in conn.listAllStoragePools():
        if (etree.fromstring(pool.XMLDesc(0).encode()).findtext("target/path") or "").rstrip("/") == directory:
            if not pool.isActive():
                pool.create(0)
            return pool
    name = "rockscc-" + directory.strip("/").replace("/", "-")
    pool = conn.storagePoolDefineXML(
        f"<pool type='dir'><name>{escape(name)}</name><target><path>{escape(directory)}</path></target></pool>", 0
    )
    pool.build(0)
    pool.create(0)
    pool.setAutostart(1)
    return pool


def volume_xml(name: str, capacity: int, mode: int = 0o600) -> str:
    return (
        f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{capacity}</capacity>"
        f"<allocation unit='bytes'>0</allocation><target><format type='raw'/>"
        f"<permissions><mode>{mode:04o}</mode></permissions></target></volume>"
    )


# --- copying ---------------------------------------------------------------------------------------
def digest_of(store, path: str) -> str:
    digest = Digest()
    blocks = Blocks(digest)
    for chunk in store.chunks(path):
        blocks.feed(chunk)
    return digest.hexdigest(blocks.end())


def copy_verified(src, src_path: str, dst, dst_path: str, progress: Callable[[int], None] = lambda n: None) -> str:
    """Copy src_path (on store src) to dst_path (on store dst) keeping holes, then read the copy
    back and compare digests. The copy is removed if anything fails. Returns the digest."""
    size = src.size(src_path)
    digest = Digest()
    with dst.writer(dst_path, size) as sink:
        blocks = Blocks(sink, digest)
        for chunk in src.chunks(src_path):
            blocks.feed(chunk)
            progress(blocks.pos)
        if blocks.end() != size:
            raise RocksccError(f"{src_path} on {src.container} changed size while it was copied")
    expected = digest.hexdigest(size)
    try:
        found = digest_of(dst, dst_path)
    except BaseException:
        dst.remove(dst_path)
        raise
    if found != expected:
        dst.remove(dst_path)
        raise RocksccError(
            f"the copy of {src_path} on {dst.container} differs from the original "
            f"(sha256 of the content {found[:12]}… instead of {expected[:12]}…)"
        )
    return expected


def store_for(cluster, container):
    """How to reach the files of `container` (a Host)."""
    from rockscc.runtime.connection import connect, uri_for

    if is_local(uri_for(cluster, container)):
        return LocalStore(container.name)
    return LibvirtStore(lambda: connect(cluster, container), container.name)
