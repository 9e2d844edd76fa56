"""Sparse, verified copies of VM files (rockscc/runtime/storage.py) on real sparse files: the copy
has the same bytes, no more allocated blocks, and the content digest does not depend on where the
holes are or how the data was chunked — but does on every byte."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.runtime.storage import BLOCK, Blocks, Digest, LocalStore, copy_verified, digest_of, is_local

# a file: (offset, data) writes over a sparse file of a size
writes = st.lists(
    st.tuples(
        st.integers(0, 3 << 20), st.one_of(st.binary(min_size=1, max_size=9000), st.integers(1, 70000).map(bytes))
    ),
    max_size=8,
)
sizes = st.integers(0, 4 << 20)


def make(path, size: int, parts) -> None:
    with open(path, "wb") as fh:
        fh.truncate(size)
        for offset, data in parts:
            if offset < size:
                fh.seek(offset)
                fh.write(data[: size - offset])


def chunked(store, path, rng):
    """The file's chunks re-cut at random points (what a stream delivers is cut anywhere)."""
    for chunk in store.chunks(path):
        if isinstance(chunk, int):
            while chunk:
                piece = rng.randint(1, chunk)
                yield piece
                chunk -= piece
        else:
            while chunk:
                piece = rng.randint(1, len(chunk))
                yield chunk[:piece]
                chunk = chunk[piece:]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=sizes, parts=writes, seed=st.integers(0, 2**32))
def test_copy_is_identical_no_denser_and_verified(tmp_path, size, parts, seed):
    src, dst = tmp_path / "src.img", tmp_path / "dst.img"
    make(src, size, parts)
    store = LocalStore("here")
    digest = copy_verified(store, str(src), store, str(dst))
    assert dst.read_bytes() == src.read_bytes()
    assert dst.stat().st_blocks <= src.stat().st_blocks + BLOCK // 512  # at most the last partial block more
    assert digest == digest_of(store, str(dst)) == digest_of(store, str(src))
    rng = random.Random(seed)
    again = Digest()
    blocks = Blocks(again)
    for chunk in chunked(store, str(src), rng):
        blocks.feed(chunk)
    assert again.hexdigest(blocks.end()) == digest  # however the content arrives
    os.unlink(dst)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(1, 1 << 20), parts=writes, where=st.integers(0, 1 << 20), flip=st.integers(1, 255))
def test_digest_sees_every_byte(tmp_path, size, parts, where, flip):
    one, two = tmp_path / "one.img", tmp_path / "two.img"
    make(one, size, parts)
    make(two, size, parts)
    where %= size
    with open(two, "r+b") as fh:
        fh.seek(where)
        byte = fh.read(1)[0]
        fh.seek(where)
        fh.write(bytes([byte ^ flip]))
    store = LocalStore("here")
    assert digest_of(store, str(one)) != digest_of(store, str(two))


def test_holes_and_written_zeros_are_the_same_content(tmp_path):
    sparse, dense = tmp_path / "sparse", tmp_path / "dense"
    make(sparse, 8 << 20, [(5 << 20, b"data")])
    make(dense, 8 << 20, [(0, bytes(5 << 20)), (5 << 20, b"data")])
    store = LocalStore("here")
    assert digest_of(store, str(sparse)) == digest_of(store, str(dense))
    copy_verified(store, str(dense), store, str(tmp_path / "copy"))
    assert (tmp_path / "copy").stat().st_blocks <= 16  # written zeros became holes: one 4 KiB block of data


def test_a_big_sparse_image_copies_sparse(tmp_path):
    src = tmp_path / "disk.img"
    make(src, 36 * 10**9, [(0, os.urandom(1 << 20)), (20 * 10**9, os.urandom(5000))])
    store = LocalStore("here")
    copy_verified(store, str(src), store, str(tmp_path / "copy.img"))
    copy = tmp_path / "copy.img"
    assert copy.stat().st_size == 36 * 10**9 and copy.stat().st_blocks <= src.stat().st_blocks


def test_a_failed_copy_leaves_nothing(tmp_path):
    store = LocalStore("here")
    with pytest.raises(RocksccError, match="no such|No such"):
        copy_verified(store, str(tmp_path / "missing"), store, str(tmp_path / "copy"))
    assert not (tmp_path / "copy").exists()
    src = tmp_path / "src"
    make(src, 1 << 20, [(0, b"x" * 5000)])

    def fail(done):
        raise RocksccError("injected")

    with pytest.raises(RocksccError, match="injected"):
        copy_verified(store, str(src), store, str(tmp_path / "copy"), progress=fail)
    assert not (tmp_path / "copy").exists()


def test_a_full_target_is_an_error_naming_it(tmp_path):
    """ENOSPC on a real small file system (/dev/shm is too big to fill: a loop device needs root
    and mkfs; a 1-block RLIMIT_FSIZE gives the same EFBIG path for a write that does not fit)."""
    import resource
    import signal

    src = tmp_path / "src"
    make(src, 4 << 20, [(0, os.urandom(3 << 20))])
    store = LocalStore("vm-container-1-0")
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, old_limit[1]))
    try:
        with pytest.raises(RocksccError, match=r"writing .*copy on vm-container-1-0: File too large"):
            copy_verified(store, str(src), store, str(tmp_path / "copy"))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert not (tmp_path / "copy").exists()


@pytest.mark.parametrize(
    "uri,local",
    [
        ("test:///default", True),
        ("qemu:///system", True),
        ("qemu+unix:///system", True),
        ("qemu+unix:///system?socket=/run/other/libvirt-sock", False),
        ("qemu+ssh://vm-container-0-0/system", False),
        ("xen+ssh://vm-container-0-0/system", False),
        ("qemu+tcp://10.1.1.1/system", False),
        ("xen:///system", True),
    ],
)
def test_which_containers_share_this_file_system(uri, local):
    assert is_local(uri) is local
