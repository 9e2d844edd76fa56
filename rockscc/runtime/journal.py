"""The journal of a VM move in progress: `.rockscc-moves/<vm>.json` beside the description, written
before each step, so a move cut short is settled (finished or undone) by the next one."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rockscc.errors import RocksccError

JOURNAL_DIR = ".rockscc-moves"


@dataclass
class Journal:
    vm: str
    source: str
    target: str
    uuid: str = ""
    live: bool = False
    state: str = "running"  # running | paused | off: the VM before the move
    disks: dict[str, str] = field(default_factory=dict)  # file disks: path on the source → on the target
    state_src: str = ""
    state_dst: str = ""
    phase: str = "planned"  # planned → saved → restoring → restored → committed
    created: list[str] = field(default_factory=list)  # files made on the target
    source_xml: str = ""  # live: the domain as it ran on the source (libvirt rewrites the source's
    # definition during a migration: going back needs the original)


def journal_path(root: Path, vm: str) -> Path:
    return Path(root) / JOURNAL_DIR / f"{vm}.json"


def pending_move(root: Path, vm: str) -> Journal | None:
    """The journal of an unfinished move of `vm`, if there is one."""
    path = journal_path(root, vm)
    try:
        return Journal(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise RocksccError(f"{path}: unreadable move journal: {exc}") from None


def pending_moves(root: Path) -> dict[str, Journal]:
    """Every unfinished move beside the description, by VM name."""
    folder = Path(root) / JOURNAL_DIR
    names = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    return {name: journal for name in names if (journal := pending_move(root, name)) is not None}


def refuse_if_moving(root: Path, vm: str) -> None:
    journal = pending_move(root, vm)
    if journal is not None:
        raise RocksccError(
            f"a move of {vm} to {journal.target} was interrupted: 'rockscc move host vm {vm} "
            f"{journal.target}' finishes or undoes it first"
        )


def write_journal(root: Path, journal: Journal) -> None:
    from rockscc.model.store import atomic_write

    path = journal_path(root, journal.vm)
    try:
        path.parent.mkdir(exist_ok=True)
        atomic_write(path, json.dumps(asdict(journal), indent=1).encode())
    except OSError as exc:
        raise RocksccError(f"{path}: cannot write the move journal: {exc.strerror}") from None


def drop_journal(root: Path, vm: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        journal_path(root, vm).unlink()
