"""One file per host: a description in one file is split losslessly, what users write in the
files (comments, layout) survives edits, and rockscc's own writer round-trips any record."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.model import load
from rockscc.model.hostindex import INDEX
from rockscc.model.store import FILENAME, HOSTS_DIR
from rockscc.model.tomledit import plain, rewrite
from tests.conftest import run_cli


def legacy_text(root: Path) -> str:
    """The description as one file, as rockscc wrote it before the split, with comments."""
    cluster = load(root)
    data = cluster.to_data()
    text = plain({k: v for k, v in data.items() if k != "hosts"})
    text = "# the cluster of the physics lab\n" + text
    for name, host in data["hosts"].items():
        body = plain(host)
        text += f"\n# {name}: bought in 2009\n[hosts.{name}]\n" + body.replace(
            "[[interfaces]]", f"[[hosts.{name}.interfaces]]"
        ).replace("[attrs]", f"[hosts.{name}.attrs]")
    return text


def test_a_one_file_description_is_split_losslessly(cluster_dir: Path, rockscc) -> None:
    for i in range(5):
        assert rockscc(f"add host compute-0-{i}").rc == 0
    assert rockscc("set host attr compute-0-3 colour blue").rc == 0
    before = load(cluster_dir).to_data()
    text = legacy_text(cluster_dir)
    assert tomllib.loads(text) == before  # the fixture is what it claims
    for path in (cluster_dir / HOSTS_DIR).iterdir():
        path.unlink()
    (cluster_dir / HOSTS_DIR).rmdir()
    (cluster_dir / INDEX).unlink()
    (cluster_dir / FILENAME).write_text(text)

    result = rockscc("list host")  # any command splits it
    assert result.rc == 0, result.err
    assert load(cluster_dir).to_data() == before
    assert "hosts" not in tomllib.loads((cluster_dir / FILENAME).read_text())
    assert (cluster_dir / FILENAME).read_text().startswith("# the cluster of the physics lab")
    assert sorted(p.stem for p in (cluster_dir / HOSTS_DIR).iterdir()) == sorted(before["hosts"])
    moved = (cluster_dir / HOSTS_DIR / "compute-0-3.toml").read_text()
    assert tomllib.loads(moved) == before["hosts"]["compute-0-3"]
    assert rockscc("set host attr compute-0-3 colour red").rc == 0  # and it edits as any other
    assert load(cluster_dir).hosts["compute-0-3"].attrs["colour"] == "red"


def test_a_one_file_description_with_an_error_is_not_split(cluster_dir: Path, rockscc) -> None:
    text = legacy_text(cluster_dir).replace('subnet = "public"', 'subnet = "nowhere"')
    (cluster_dir / FILENAME).write_text(text)
    frontend = (cluster_dir / HOSTS_DIR / "frontend.toml").read_bytes()
    result = rockscc("list host")
    assert result.rc == 1 and result.err.startswith("error - cluster.toml:") and "nowhere" in result.err
    line = int(result.err.split(":")[1])
    assert 'subnet = "nowhere"' in text.splitlines()[line - 1]
    assert (cluster_dir / FILENAME).read_text() == text  # nothing moved
    assert (cluster_dir / HOSTS_DIR / "frontend.toml").read_bytes() == frontend


def test_comments_in_a_host_file_survive_an_edit(cluster_dir: Path, rockscc) -> None:
    assert rockscc("add host compute-0-0").rc == 0
    path = cluster_dir / HOSTS_DIR / "compute-0-0.toml"
    text = path.read_text().replace(
        'membership = "Compute"', '# rack 0, bottom shelf\nmembership = "Compute"  # GPU node'
    )
    path.write_text(text + "\n# keep attrs below\n[attrs]\nowner = 'physics'   # single quotes on purpose\n")
    assert rockscc("set host attr compute-0-0 colour blue").rc == 0
    assert rockscc("set host cpus compute-0-0 16").rc == 0
    edited = path.read_text()
    for kept in (
        "# rack 0, bottom shelf",
        "# GPU node",
        "# keep attrs below",
        "owner = 'physics'   # single quotes on purpose",
    ):
        assert kept in edited, edited
    host = load(cluster_dir).hosts["compute-0-0"]
    assert host.attrs == {"owner": "physics", "colour": "blue"} and host.cpus == 16


def test_comments_in_a_host_file_survive_a_rename(cluster_dir: Path, rockscc) -> None:
    """The renamed host's file was written anew, plainly: every comment in it was lost."""
    assert rockscc("add host compute-0-0").rc == 0
    path = cluster_dir / HOSTS_DIR / "compute-0-0.toml"
    path.write_text("# bought in 2009\n" + path.read_text().replace("[[interfaces]]", "[[interfaces]]  # onboard"))
    assert rockscc("set host name compute-0-0 compute-1-0").rc == 0
    assert rockscc("set host name compute-1-0 compute-2-0").rc == 0
    moved = (cluster_dir / HOSTS_DIR / "compute-2-0.toml").read_text()
    assert "# bought in 2009" in moved and "# onboard" in moved, moved
    assert not path.exists() and not (cluster_dir / HOSTS_DIR / "compute-1-0.toml").exists()
    host = load(cluster_dir).hosts["compute-2-0"]
    assert host.interfaces[0].name == "compute-2-0" and host.membership == "Compute"
    # two renames in one transaction (a load): the file of the host as loaded moves along
    script = cluster_dir / "rename.sh"
    script.write_text("rockscc set host name compute-2-0 compute-3-0\nrockscc set host name compute-3-0 compute-4-0\n")
    assert rockscc(f"load {script}").rc == 0
    assert "# bought in 2009" in (cluster_dir / HOSTS_DIR / "compute-4-0.toml").read_text()


def test_comments_in_cluster_toml_survive_an_edit(cluster_dir: Path, rockscc) -> None:
    path = cluster_dir / FILENAME
    path.write_text(
        "# our cluster, see the wiki\n"
        + path.read_text().replace("[networks.private]", "# do not renumber\n[networks.private]")
    )
    assert rockscc("set attr Kickstart_Timezone UTC").rc == 0
    text = path.read_text()
    assert text.startswith("# our cluster, see the wiki") and "# do not renumber\n[networks.private]" in text
    assert load(cluster_dir).attrs["Kickstart_Timezone"] == "UTC"


_scalars = st.one_of(st.text(max_size=12), st.integers(-(2**63), 2**63 - 1), st.booleans())
_keys = st.text(min_size=1, max_size=8)
_tables = st.recursive(
    st.dictionaries(_keys, _scalars, max_size=4),
    lambda inner: st.dictionaries(
        _keys, st.one_of(_scalars, inner, st.lists(inner, max_size=3), st.lists(_scalars, max_size=3)), max_size=4
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(data=_tables)
def test_rocksccs_writer_round_trips_any_table(data: dict) -> None:
    assert tomllib.loads(plain(data)) == data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=_tables, new=_tables, comment=st.sampled_from(["# a note\n", "", "#\n# two lines\n"]))
def test_a_rewrite_holds_exactly_the_new_data(old: dict, new: dict, comment: str) -> None:
    text = comment + plain(old).replace("\n", "  # why\n", 1) if plain(old) else comment
    assert tomllib.loads(rewrite(text, old, new)) == new


def test_host_files_are_written_whatever_the_umask(cluster_dir: Path) -> None:
    import os

    old = os.umask(0o077)
    try:
        assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    finally:
        os.umask(old)
    mode = (cluster_dir / HOSTS_DIR / "compute-0-0.toml").stat().st_mode & 0o777
    assert mode == (cluster_dir / HOSTS_DIR / "frontend.toml").stat().st_mode & 0o777
