"""cluster.toml storage: located errors for hand edits, the parse cache, atomic saves."""

from __future__ import annotations

from pathlib import Path

import pytest

from rockscc.errors import RocksccError
from rockscc.model import Host, load, transaction
from rockscc.model.store import CACHE, FILENAME, locate


def test_hand_edit_is_seen_despite_the_cache(cluster_dir: Path) -> None:
    load(cluster_dir)  # fills the cache
    assert (cluster_dir / CACHE).exists()
    text = (cluster_dir / FILENAME).read_text()
    (cluster_dir / FILENAME).write_text(text.replace('Kickstart_Timezone = "America/Los_Angeles"',
                                                     'Kickstart_Timezone = "Europe/Paris"'))
    assert load(cluster_dir).attrs["Kickstart_Timezone"] == "Europe/Paris"


def test_saved_description_reloads_equal_without_the_cache(cluster_dir: Path) -> None:
    with transaction(cluster_dir) as cluster:
        cluster.hosts["compute-0-0"] = Host(name="compute-0-0", membership="Compute", cpus=4)
    cached = load(cluster_dir)
    (cluster_dir / CACHE).unlink()
    parsed = load(cluster_dir)
    assert cached.to_data() == parsed.to_data()
    assert parsed.hosts["compute-0-0"].cpus == 4


def test_failed_transaction_writes_nothing(cluster_dir: Path) -> None:
    before = (cluster_dir / FILENAME).read_bytes()
    with pytest.raises(RuntimeError):
        with transaction(cluster_dir) as cluster:
            cluster.hosts.clear()
            raise RuntimeError("abort")
    assert (cluster_dir / FILENAME).read_bytes() == before
    assert not [p for p in cluster_dir.iterdir() if p.name.startswith(f".{FILENAME}.")]


def test_invalid_edit_is_refused_and_file_kept(cluster_dir: Path) -> None:
    before = (cluster_dir / FILENAME).read_bytes()
    with pytest.raises(RocksccError, match='membership "Nope" is not defined'):
        with transaction(cluster_dir) as cluster:
            cluster.hosts["x-0-0"] = Host(name="x-0-0", membership="Nope")
    assert (cluster_dir / FILENAME).read_bytes() == before


@pytest.mark.parametrize(
    "edit, message",
    [
        (("[hosts.frontend]\n", "[hosts.frontend]\nrack = \"zero\"\n"), "hosts.frontend.rack: expected an integer"),
        (("[hosts.frontend]\n", "[hosts.frontend]\ncolour = 1\n"), "hosts.frontend.colour: unknown key"),
        (('subnet = "private"', 'subnet = "nowhere"'), 'network "nowhere" is not defined'),
        (("[networks.private]\n", "[networks.private\n"), "cluster.toml:"),
        (('ip = "10.1.1.1"', 'ip = "10.1.1.300"'), "is not an IPv4 address"),
    ],
)
def test_hand_edit_errors_name_line_and_key(cluster_dir: Path, edit, message: str) -> None:
    path = cluster_dir / FILENAME
    text = path.read_text()
    assert edit[0] in text
    bad = text.replace(edit[0], edit[1], 1)
    path.write_text(bad)
    with pytest.raises(RocksccError) as info:
        load(cluster_dir)
    error = str(info.value)
    assert message in error
    line = int(error.split(":")[1])
    assert 1 <= line <= bad.count("\n") + 1
    if "expected an integer" in message or "unknown key" in message:
        assert bad.splitlines()[line - 1].startswith(("rack", "colour"))


def test_locate_inline_table_key() -> None:
    text = '[hosts.a]\nmembership = "Compute"\ninterfaces = [\n    { device = "eth0", ip = "x" },\n]\n'
    assert locate(text, ("hosts", "a", "membership")) == 2
    assert locate(text, ("hosts", "a", "interfaces")) == 3
    assert locate(text, ("hosts", "b")) == 1


def test_host_digests_kept_with_the_cache_match_the_records(cluster_dir: Path) -> None:
    with transaction(cluster_dir) as cluster:
        cluster.hosts["compute-0-0"] = Host(name="compute-0-0", membership="Compute")
        before = cluster.host_digests()  # computed, not remembered, while editing
        cluster.hosts["compute-0-0"].attrs["x"] = "1"
        assert cluster.host_digests()["compute-0-0"] != before["compute-0-0"]
    loaded = load(cluster_dir)  # from the cache, digests attached
    assert getattr(loaded, "_host_digests", None) is not None
    remembered = loaded.host_digests()
    loaded.attach_host_digests(None)
    assert remembered == loaded.host_digests()  # the same as computing them from the records
    (cluster_dir / CACHE).unlink()
    assert load(cluster_dir).host_digests() == remembered  # and after a parse without the cache
