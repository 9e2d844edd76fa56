"""`rockscc init DIR`: create a cluster description with Rocks' defaults."""

from __future__ import annotations

from pathlib import Path

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError
from rockscc.model.defaults import new_cluster
from rockscc.model.names import check_host_name
from rockscc.model.store import FILENAME, locked, save


class Init(Command):
    """Create a cluster description: cluster.toml with a frontend, the appliances frontend,
    compute, nas and tile, the built-in xen roll with its vm-container appliance (xen=no leaves it
    out), a private and a public network, Rocks' global attributes and PXE actions, plus empty
    site nodes/ and graphs/default/ directories, and a .gitignore for what is built or cached.

    With bare=yes (or --bare) the description uses only its own nodes/ and graphs/ (no built-in
    base) and has only Rocks' own appliances (frontend, compute, nas: no tile, no vm-container,
    no xen roll unless xen=yes), so any tree - the Rocks corpus, a roll under development -
    compiles as it is, and rolls added to it bring their own appliances.
    The root password for installed hosts is stored only as a SHA-512 crypt hash; without
    password= a random one is generated and printed once."""

    name = "init"
    args = [Arg("dir", help="directory to create (may exist if empty of cluster.toml)")]
    params = [
        Param("name", default="cluster", help="cluster name (Info_ClusterName)"),
        Param("frontend", default="frontend", help="frontend host name"),
        Param("bare", kind="bool", default=False, help="no built-in base nodes and graphs"),
        Param("password", help="root password for installed hosts (stored crypted)"),
        Param(
            "xen",
            kind="bool",
            help="add the built-in xen roll (vm-container appliance, global boot flag dom0_mem=1024M); default: yes unless bare",
        ),
    ]
    examples = ["rockscc init /tmp/c", "rockscc init --bare corpus-test"]

    def run(self, ctx, opts) -> None:
        root = Path(opts.dir)
        if (root / FILENAME).exists():
            raise RocksccError(f"{root / FILENAME} already exists")
        check_host_name(opts.frontend)
        try:
            (root / "nodes").mkdir(parents=True, exist_ok=True)
            (root / "graphs" / "default").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RocksccError(f"cannot create {root}: {exc.strerror}") from None
        cluster, generated = new_cluster(
            root.resolve(), name=opts.name, frontend=opts.frontend, bare=opts.bare, password=opts.password, xen=opts.xen
        )
        with locked(root):
            save(cluster)
        _gitignore(root)
        ctx.out(f"created cluster description {root / FILENAME}")
        if generated:
            ctx.warn(f"generated root password for installed hosts (stored only as a hash): {generated}")


GITIGNORE = """# rockscc: what is made from the description (and holds copies of its secrets)
/build/
/.rockscc-cache/
/.cluster.lock
/.cluster.commit.lock
/.rockscc-commit.json
"""


def _gitignore(root: Path) -> None:
    path = root / ".gitignore"
    if not path.exists():
        path.write_text(GITIGNORE)
