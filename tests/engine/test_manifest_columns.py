"""The build log's hosts table is read as two columns joined in SQLite and split in Python
(engine/manifest._host_stamps): whatever its rows hold (newlines, blobs, numbers, a planted
table), the result must be the rows that are two strings, exactly as reading them one by one."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.engine.manifest import NAME, Manifest, _host_stamps

VALUES = st.one_of(
    st.text(max_size=8),
    st.text(alphabet="ab\n", max_size=4),  # newlines: the joined columns no longer split right
    st.binary(max_size=4),
    st.integers(-3, 3),
    st.none(),
)


def _reference(conn: sqlite3.Connection) -> dict:
    rows = conn.execute("SELECT name, stamp FROM hosts").fetchall()
    return {name: stamp for name, stamp in rows if type(name) is str and type(stamp) is str}


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(VALUES, VALUES), max_size=12))
def test_the_hosts_table_reads_as_row_by_row(rows):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE hosts (name, stamp)")  # no key, no affinity: a planted table
    conn.executemany("INSERT INTO hosts VALUES (?, ?)", rows)
    found = _host_stamps(conn)
    assert found == _reference(conn)
    assert list(found) == list(_reference(conn))  # and in the same order


def test_a_log_without_a_hosts_table_has_no_host_stamps():
    conn = sqlite3.connect(":memory:")
    assert _host_stamps(conn) == {}


def test_a_saved_log_reads_back_its_host_stamps(tmp_path):
    manifest = Manifest()
    stamps = {f"compute-0-{n}": f"{n:064x}" for n in range(300)}
    stamps["odd\nname"] = "stamp"  # a newline: read row by row, still read
    for host, stamp in stamps.items():
        manifest.set_host_stamp(host, stamp)
    manifest.save(tmp_path)
    with sqlite3.connect(tmp_path / NAME) as conn:
        conn.execute("INSERT INTO hosts VALUES (?, ?)", (b"blob", "s"))
    loaded = Manifest.load(tmp_path)
    assert loaded.hosts == stamps
    loaded.close()
