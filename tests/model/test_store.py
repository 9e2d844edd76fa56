"""The description on disk: cluster.toml plus hosts/<name>.toml, located errors for hand edits,
the host index (derived, checked against the files), edits that write only what they touch."""

from __future__ import annotations

from pathlib import Path

import pytest

from rockscc.errors import RocksccError
from rockscc.model import Host, load, transaction
from rockscc.model.hostindex import INDEX
from rockscc.model.store import FILENAME, HOSTS_DIR, locate


def files(root: Path) -> dict[str, bytes]:
    out = {FILENAME: (root / FILENAME).read_bytes()}
    out |= {f"{HOSTS_DIR}/{p.name}": p.read_bytes() for p in sorted((root / HOSTS_DIR).iterdir())}
    return out


def test_hand_edit_is_seen_despite_the_index(cluster_dir: Path) -> None:
    load(cluster_dir)  # fills the index
    assert (cluster_dir / INDEX).exists()
    path = cluster_dir / HOSTS_DIR / "frontend.toml"
    path.write_text(path.read_text().replace('membership = "Frontend"', 'membership = "Frontend"\ncpus = 8'))
    assert load(cluster_dir).hosts["frontend"].cpus == 8
    text = (cluster_dir / FILENAME).read_text()
    (cluster_dir / FILENAME).write_text(
        text.replace('Kickstart_Timezone = "America/Los_Angeles"', 'Kickstart_Timezone = "Europe/Paris"')
    )
    assert load(cluster_dir).attrs["Kickstart_Timezone"] == "Europe/Paris"


def test_a_host_file_added_or_removed_by_hand_is_seen(cluster_dir: Path) -> None:
    load(cluster_dir)
    (cluster_dir / HOSTS_DIR / "login1.toml").write_text('membership = "Compute"\nrack = 3\n')
    assert load(cluster_dir).hosts["login1"].rack == 3
    (cluster_dir / HOSTS_DIR / "login1.toml").unlink()
    assert "login1" not in load(cluster_dir).hosts


def test_saved_description_reloads_equal_without_the_index(cluster_dir: Path) -> None:
    with transaction(cluster_dir) as cluster:
        cluster.hosts["compute-0-0"] = Host(name="compute-0-0", membership="Compute", cpus=4)
    indexed = load(cluster_dir)
    (cluster_dir / INDEX).unlink()
    parsed = load(cluster_dir)
    assert indexed.to_data() == parsed.to_data()
    assert parsed.hosts["compute-0-0"].cpus == 4
    assert indexed.host_digests() == parsed.host_digests()


def test_a_damaged_index_is_rebuilt(cluster_dir: Path) -> None:
    before = load(cluster_dir).to_data()
    (cluster_dir / INDEX).write_bytes(b"not a database at all")
    for suffix in ("-wal", "-shm"):
        Path(str(cluster_dir / INDEX) + suffix).unlink(missing_ok=True)
    assert load(cluster_dir).to_data() == before


def test_a_planted_index_row_does_not_outvote_the_file(cluster_dir: Path) -> None:
    import sqlite3

    load(cluster_dir)
    db = sqlite3.connect(cluster_dir / INDEX)
    db.execute(
        "UPDATE hosts SET data = replace(data, '\"Frontend\"', '\"Compute\"'), sig = 'x' WHERE name = 'frontend'"
    )
    db.commit()
    db.close()
    assert load(cluster_dir).hosts["frontend"].membership == "Frontend"  # its signature is not the file's


def test_failed_transaction_writes_nothing(cluster_dir: Path) -> None:
    before = files(cluster_dir)
    with pytest.raises(RuntimeError):
        with transaction(cluster_dir) as cluster:
            cluster.hosts.clear()
            cluster.attrs["x"] = "1"
            raise RuntimeError("abort")
    assert files(cluster_dir) == before
    assert not [p for p in cluster_dir.rglob(".rockscc-tmp-*")]


def test_invalid_edit_is_refused_and_files_kept(cluster_dir: Path) -> None:
    before = files(cluster_dir)
    with pytest.raises(RocksccError, match='membership "Nope" is not defined'):
        with transaction(cluster_dir) as cluster:
            cluster.hosts["x-0-0"] = Host(name="x-0-0", membership="Nope")
    assert files(cluster_dir) == before


def test_an_edit_of_one_host_writes_only_its_file(cluster_dir: Path, rockscc) -> None:
    for i in range(3):
        assert rockscc(f"add host compute-0-{i}").rc == 0
    before = files(cluster_dir)
    assert rockscc("set host attr compute-0-1 colour blue").rc == 0
    after = files(cluster_dir)
    assert {k for k in after if after[k] != before.get(k)} == {f"{HOSTS_DIR}/compute-0-1.toml"}


@pytest.mark.parametrize(
    "edit, message",
    [
        (('membership = "Frontend"\n', 'membership = "Frontend"\nrack = "zero"\n'), "rack: expected an integer"),
        (('membership = "Frontend"\n', 'membership = "Frontend"\ncolour = 1\n'), "colour: unknown key"),
        (('subnet = "private"', 'subnet = "nowhere"'), 'network "nowhere" is not defined'),
        (("[[interfaces]]\n", "[[interfaces]\n"), "hosts/frontend.toml:"),
        (('ip = "10.1.1.1"', 'ip = "10.1.1.300"'), "is not an IPv4 address"),
    ],
)
def test_host_file_errors_name_file_line_and_key(cluster_dir: Path, edit, message: str) -> None:
    path = cluster_dir / HOSTS_DIR / "frontend.toml"
    text = path.read_text()
    assert edit[0] in text
    bad = text.replace(edit[0], edit[1], 1)
    path.write_text(bad)
    with pytest.raises(RocksccError) as info:
        load(cluster_dir)
    error = str(info.value)
    assert error.startswith("hosts/frontend.toml:") and message in error
    line = int(error.split(":")[1])
    assert 1 <= line <= bad.count("\n") + 1
    if "expected an integer" in message or "unknown key" in message:
        assert bad.splitlines()[line - 1].startswith(("rack", "colour"))


def test_a_duplicate_address_made_by_hand_names_the_file(cluster_dir: Path, rockscc) -> None:
    assert rockscc("add host compute-0-0").rc == 0
    load(cluster_dir)
    path = cluster_dir / HOSTS_DIR / "compute-0-0.toml"
    path.write_text(path.read_text().replace("10.1.255.254", "10.1.1.1"))
    with pytest.raises(
        RocksccError,
        match=r"hosts/compute-0-0.toml:\d+: interfaces\[0\].ip: IP 10.1.1.1 is already used by host frontend",
    ):
        load(cluster_dir)


def test_cluster_toml_errors_name_line_and_key(cluster_dir: Path) -> None:
    path = cluster_dir / FILENAME
    path.write_text(path.read_text().replace("[networks.private]\n", '[networks.private]\nmtu = "big"\n'))
    with pytest.raises(RocksccError, match=r"^cluster.toml:\d+: networks.private.mtu: expected an integer"):
        load(cluster_dir)


def test_locate_inline_table_key() -> None:
    text = '[hosts.a]\nmembership = "Compute"\ninterfaces = [\n    { device = "eth0", ip = "x" },\n]\n'
    assert locate(text, ("hosts", "a", "membership")) == 2
    assert locate(text, ("hosts", "a", "interfaces")) == 3
    assert locate(text, ("hosts", "b")) == 1


def test_host_digests_kept_in_the_index_match_the_records(cluster_dir: Path) -> None:
    from rockscc.model.cluster import host_digest

    with transaction(cluster_dir) as cluster:
        cluster.hosts["compute-0-0"] = Host(name="compute-0-0", membership="Compute")
        before = cluster.host_digests()
        cluster.hosts["compute-0-0"].attrs["x"] = "1"
        assert cluster.host_digests()["compute-0-0"] != before["compute-0-0"]  # computed while changed
    loaded = load(cluster_dir)
    remembered = loaded.host_digests()
    assert remembered == {name: host_digest(host) for name, host in loaded.hosts.items()}
    (cluster_dir / INDEX).unlink()
    assert load(cluster_dir).host_digests() == remembered


@pytest.mark.parametrize("name", ["bad name", "x\n", "-lead", "a..b"])
def test_a_host_file_whose_name_is_no_host_name_is_refused(cluster_dir: Path, name: str) -> None:
    (cluster_dir / HOSTS_DIR / f"{name}.toml").write_text('membership = "Compute"\n')
    with pytest.raises(RocksccError) as info:
        load(cluster_dir)
    assert str(info.value).startswith(f"hosts/{name}.toml:1: host: ")
