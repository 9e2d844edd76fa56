"""Secrets stay private and caches cannot be turned into code: file modes whatever the umask,
the .gitignore, no pickle anywhere, a planted or damaged parse cache ignored."""

from __future__ import annotations

import json
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

from rockscc.model import load
from rockscc.model.hostindex import INDEX
from rockscc.model.secrets import is_secret, public_data
from tests.conftest import REPO, run_cli


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def rockscc_with_umask(umask: int, *argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    code = f"import os, sys; os.umask({umask}); from rockscc.cli.main import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_nothing_rockscc_writes_is_group_or_world_writable_and_secrets_are_private(tmp_path):
    root = tmp_path / "c"
    for argv in (
        ["init", str(root), "password=x"],
        ["-C", str(root), "add", "host", "compute-0-0"],
        ["-C", str(root), "add", "hwprofile", "d", "disks=sda:80G"],
        ["-C", str(root), "set", "host", "hwprofile", "compute-0-0", "d"],
        ["-C", str(root), "build", "--eval=no"],
    ):
        result = rockscc_with_umask(0, *argv)
        assert result.returncode == 0, result.stderr
    for path in [root, *root.rglob("*")]:  # directories: nobody else may write; files: not the world
        if not path.is_symlink():
            assert not mode(path) & (0o022 if path.is_dir() else 0o002), f"{path} is {oct(mode(path))}"
    private = [
        root / "cluster.toml",
        *(root / "hosts").glob("*.toml"),
        root / ".rockscc-cache" / "hosts.sqlite",
        root / "build" / ".rockscc-manifest.sqlite",
        root / "build" / ".rockscc-cache" / "memo.sqlite",
        *(root / "build" / "kickstart").glob("*.ks"),
    ]
    assert len(private) > 6
    for path in private:
        assert mode(path) == 0o600, f"{path} is {oct(mode(path))}"
    assert mode(root / ".rockscc-cache") == 0o700 and mode(root / "hosts") == 0o700
    assert "/build/" in (root / ".gitignore").read_text()


def test_no_pickle_anywhere(tmp_path):
    """Not in the description, not in the build directory, not in the temp directory (where
    lark's cache=True would put one any user could plant)."""
    root, scratch = tmp_path / "c", tmp_path / "tmp"
    scratch.mkdir()
    for argv in (
        ["init", str(root), "password=x"],
        ["-C", str(root), "add", "host", "compute-0-0"],
        ["-C", str(root), "add", "hwprofile", "d", "disks=sda:80G"],
        ["-C", str(root), "set", "host", "hwprofile", "compute-0-0", "d"],
        ["-C", str(root), "build", "--eval=no"],
        ["-C", str(root), "list", "host"],
    ):
        assert rockscc_with_umask(0o022, *argv, env={"TMPDIR": str(scratch)}).returncode == 0
    for path in [*root.rglob("*"), *scratch.rglob("*")]:
        if path.is_file():
            head = path.read_bytes()[:2]
            assert not (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")), f"{path}: a pickle"
            assert not path.name.endswith(".pickle") and ".lark_cache" not in path.name, path


def test_a_planted_or_damaged_index_is_ignored_never_run(cluster_dir):
    index = cluster_dir / INDEX
    assert run_cli("-C", str(cluster_dir), "list", "host").rc == 0 and index.exists()
    marker = cluster_dir / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    def unlink_wal():
        for suffix in ("-wal", "-shm"):
            Path(str(index) + suffix).unlink(missing_ok=True)

    plants = {"a pickle": pickle.dumps(Payload()), "cut short": index.read_bytes()[:1000], "garbage": b"\0" * 5000}
    for name, data in plants.items():
        index.write_bytes(data)
        unlink_wal()
        for old in ("cluster.pickle", "cluster.json"):  # what earlier versions read: never again
            (cluster_dir / ".rockscc-cache" / old).write_bytes(pickle.dumps(Payload()))
        result = run_cli("-C", str(cluster_dir), "list", "host")
        assert result.rc == 0 and "Frontend" in result.out, name
        assert not marker.exists(), name
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    assert not (cluster_dir / ".rockscc-cache" / "cluster.pickle").exists()  # removed by the next edit


def test_an_index_row_for_other_bytes_of_a_host_file_is_not_used(cluster_dir):
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    load(cluster_dir)
    path = cluster_dir / "hosts" / "compute-0-0.toml"
    path.write_text(path.read_text().replace('membership = "Compute"', 'membership = "NAS Appliance"'))
    assert load(cluster_dir).hosts["compute-0-0"].membership == "NAS Appliance"


def test_secret_attributes_are_named_as_such():
    for name in (
        "Kickstart_PrivateRootPassword",
        "db_passwd",
        "api_token",
        "ssh_private_key",
        "vault_secret",
        "Kickstart_PublicRootPassword",
        "ldap_credentials",
    ):
        assert is_secret(name), name
    for name in ("Kickstart_PrivateKickstartHost", "Kickstart_Timezone", "Info_ClusterName", "vm_disk_dir"):
        assert not is_secret(name), name


def test_the_public_view_holds_no_secret_at_any_level(cluster_dir):
    for line in (
        "set host attr frontend db_password h",
        "set os attr linux api_token o",
        "set appliance attr compute my_secret a",
        "set attr ldap_passwd g",
    ):
        assert run_cli("-C", str(cluster_dir), *line.split()).rc == 0
    text = json.dumps(public_data(load(cluster_dir)))
    for word in ("Password", "password", "passwd", "token", "secret", "$6$"):
        assert word not in text, word
