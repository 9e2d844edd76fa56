"""insert-ethers' decisions without a socket (`Inserter.handle`), against hand edits made while
it runs. Since issue 17/18's discovery work it stats every host file once per new machine (in
the transaction), not three times: a MAC the last reading knew is checked against the files as
they are now; one it did not know goes to the transaction, which decides under the lock. And
the description's signature after an add is derived from what the transaction checked and
wrote (`store.loaded_signature`), which must equal a fresh `description_signature` — and must
not once any file changed afterwards.
"""

from __future__ import annotations

from pathlib import Path

from rockscc.model import load, transaction
from rockscc.model.store import description_signature, host_file, loaded_signature
from rockscc.pipeline import CompileOptions
from rockscc.provision.dhcpsniff import DhcpRequest
from rockscc.provision.discover import Added, DiscoverOptions, Inserter
from tests.model.test_store_lazy import keep_size_and_mtime, settle


def request(mac: str) -> DhcpRequest:
    return DhcpRequest(mac=mac, kind="DISCOVER", vendor_class="PXEClient:Arch:00000")


def inserter(root: Path, **options) -> Inserter:
    return Inserter(root, DiscoverOptions(compile=CompileOptions(evals=False), **options), lambda line: None)


def test_the_signature_after_an_add_is_the_files_as_they_are(cluster_dir: Path, rockscc) -> None:
    assert rockscc("add host compute-0-0 mac=52:54:00:00:00:01").rc == 0
    settle()
    cluster = load(cluster_dir)
    assert loaded_signature(cluster) == description_signature(cluster_dir)
    assert loaded_signature(load(cluster_dir, lazy=True)) is None  # not every file checked: unknown
    with transaction(cluster_dir) as edited:
        edited.hosts["compute-0-0"].rank = 5
        edited.attrs["x"] = "1"  # cluster.toml written too
    assert loaded_signature(edited) == description_signature(cluster_dir)
    # any change after it, even one keeping size and mtime, makes the two differ
    keep_size_and_mtime(host_file(cluster_dir, "compute-0-0"), "rank = 5", "rank = 6")
    assert loaded_signature(edited) != description_signature(cluster_dir)


def test_a_file_changed_between_the_first_use_and_the_whole_check_keeps_the_first_reading(
    cluster_dir: Path, rockscc
) -> None:
    """A host used alone and then changed by hand before the command checks all files: the
    command keeps the record as first used, so the signature must be of that file, not of the
    changed one (else a poller would never read the change)."""
    for i in range(3):
        assert rockscc(f"add host compute-0-{i}").rc == 0
    settle()
    assert rockscc("list host").rc == 0
    settle()
    cluster = load(cluster_dir, lazy=True)
    assert cluster.hosts["compute-0-1"].rank == 1  # used: its row checked now
    keep_size_and_mtime(host_file(cluster_dir, "compute-0-1"), "rank = 1", "rank = 4")
    cluster.host_table().check_files()  # every other file checked
    assert cluster.hosts["compute-0-1"].rank == 1
    assert loaded_signature(cluster) != description_signature(cluster_dir)


def test_known_macs_are_ignored_and_new_ones_added(cluster_dir: Path, rockscc) -> None:
    assert rockscc("add host compute-0-0 mac=52:54:00:00:00:01").rc == 0
    ins = inserter(cluster_dir)
    assert ins.handle(request("52:54:00:00:00:01")) is None
    added = ins.handle(request("52:54:00:00:00:aa"))
    assert isinstance(added, Added) and added.name == "compute-0-1" and not added.errors
    assert (cluster_dir / "build" / "kickstart" / "compute-0-1.ks").is_file()
    assert ins.handle(request("52:54:00:00:00:aa")) is None  # seen


def test_a_mac_written_by_hand_while_it_runs_is_not_added_twice(cluster_dir: Path, rockscc) -> None:
    """The MAC was unknown when insert-ethers read the description; a user then gives it to a
    host by hand: the request goes to the transaction, which finds it and adds nothing."""
    assert rockscc("add host compute-0-0").rc == 0
    ins = inserter(cluster_dir)
    assert rockscc("set host interface compute-0-0 eth0 mac=52:54:00:00:00:bb").rc == 0
    before = sorted(p.name for p in (cluster_dir / "hosts").iterdir())
    assert ins.handle(request("52:54:00:00:00:bb")) is None
    assert sorted(p.name for p in (cluster_dir / "hosts").iterdir()) == before


def test_a_host_removed_by_hand_while_it_runs_is_discovered_again(cluster_dir: Path, rockscc) -> None:
    """The MAC was a host's when insert-ethers read the description (and again after its own
    add); the host file is then deleted by hand: its next request makes a host again."""
    assert rockscc("add host compute-0-0 mac=52:54:00:00:00:01").rc == 0
    ins = inserter(cluster_dir)
    assert isinstance(ins.handle(request("52:54:00:00:00:02")), Added)  # the signature now derived
    host_file(cluster_dir, "compute-0-0").unlink()
    added = ins.handle(request("52:54:00:00:00:01"))
    assert isinstance(added, Added) and added.mac == "52:54:00:00:00:01"


def test_a_mac_changed_by_hand_in_place_is_seen(cluster_dir: Path, rockscc) -> None:
    """Same size, same mtime (only the ctime tells): the known MAC is gone, so it is discovered."""
    assert rockscc("add host compute-0-0 mac=52:54:00:00:00:01").rc == 0
    ins = inserter(cluster_dir)
    assert isinstance(ins.handle(request("52:54:00:00:00:02")), Added)
    keep_size_and_mtime(host_file(cluster_dir, "compute-0-0"), "52:54:00:00:00:01", "52:54:00:00:00:09")
    assert isinstance(ins.handle(request("52:54:00:00:00:01")), Added)
    assert ins.handle(request("52:54:00:00:00:09")) is None  # compute-0-0's now


def test_record_mode_checks_every_mac_against_the_files(cluster_dir: Path, rockscc, tmp_path: Path) -> None:
    record = tmp_path / "macs.txt"
    assert rockscc("add host compute-0-0").rc == 0
    ins = inserter(cluster_dir, record=record)
    assert rockscc("set host interface compute-0-0 eth0 mac=52:54:00:00:00:cc").rc == 0
    assert ins.handle(request("52:54:00:00:00:cc")) is None  # a host's by now: not recorded
    assert ins.handle(request("52:54:00:00:00:dd")) == "52:54:00:00:00:dd"
    assert [line.split("\t")[0] for line in record.read_text().splitlines()] == ["52:54:00:00:00:dd"]


def test_a_vendor_class_cannot_forge_lines_of_the_record(cluster_dir: Path, tmp_path: Path) -> None:
    """Option 60 is the client's text: a newline in it wrote a second line naming another MAC,
    which the next run read as already recorded (that machine was then never recorded)."""
    record = tmp_path / "macs.txt"
    forged = DhcpRequest(mac="52:54:00:00:00:aa", kind="DISCOVER", vendor_class="PXEClient\n52:54:00:00:00:bb\tx\ty")
    assert inserter(cluster_dir, record=record).handle(forged) == "52:54:00:00:00:aa"
    lines = record.read_text().splitlines()
    assert len(lines) == 1 and lines[0].split("\t")[0] == "52:54:00:00:00:aa" and len(lines[0].split("\t")) == 3
    assert inserter(cluster_dir, record=record).handle(request("52:54:00:00:00:bb")) == "52:54:00:00:00:bb"


def test_the_next_rank_follows_a_rank_set_by_hand(cluster_dir: Path, rockscc) -> None:
    """The rank comes from the rows, each checked against its file: a rank a user wrote by
    hand (size and mtime kept) counts; other racks and appliances do not."""
    for command in ("add host compute-0-0", "add host compute-0-1", "add host compute-1-0 rack=1 rank=9"):
        assert rockscc(command).rc == 0
    assert rockscc("add host nas-0-0").rc == 0
    assert rockscc("set host rank nas-0-0 5").rc == 0
    ins = inserter(cluster_dir)
    settle()
    assert rockscc("list host").rc == 0
    settle()
    keep_size_and_mtime(host_file(cluster_dir, "compute-0-1"), "rank = 1", "rank = 7")
    added = ins.handle(request("52:54:00:00:00:ee"))
    assert isinstance(added, Added) and added.name == "compute-0-8", added
