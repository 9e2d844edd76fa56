"""SIGKILL at any point of an edit or a load leaves the description old or new, never partial;
concurrent readers see old or new too. Faults are injected at every step of a commit
(commit.checkpoint: ROCKSCC_FAULT=commit:<step>:<n> kills the process at the n-th <step>),
including while the next process recovers from an earlier kill, and at random times."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rockscc.model import load
from rockscc.model.commit import JOURNAL

ADDED = 30


def rockscc(root: Path, *argv: str, fault: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, ROCKSCC_FAULT=fault) if fault else dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "rockscc", "-C", str(root), *argv], capture_output=True, text=True, env=env, timeout=300
    )


def state(root: Path) -> dict:
    return load(root).to_data()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, Path, dict, dict]:
    """A description of 12 hosts and a script that adds 30, edits one and removes one; the
    states before and after it."""
    root = tmp_path_factory.mktemp("crash") / "cluster"
    assert rockscc(root.parent, "init", str(root), "password=x").returncode == 0
    lines = [f"rockscc add host compute-0-{i}" for i in range(12)]
    (root.parent / "setup.sh").write_text("\n".join(lines) + "\n")
    assert rockscc(root, "load", str(root.parent / "setup.sh")).returncode == 0
    script = [f"rockscc add host compute-1-{i}" for i in range(ADDED)]
    script += [
        "rockscc set host attr compute-0-1 colour blue",
        "rockscc remove host compute-0-2",
        "rockscc set attr Kickstart_Timezone UTC",
    ]
    (root.parent / "edit.sh").write_text("\n".join(script) + "\n")
    old = state(root)
    done = root.parent / "done"
    shutil.copytree(root, done)
    assert rockscc(done, "load", str(root.parent / "edit.sh")).returncode == 0
    return root, root.parent / "edit.sh", old, state(done)


def copy_of(base_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "cluster"
    shutil.copytree(base_root, root)
    return root


def leftovers(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob(".rockscc-tmp-*")] + (
        [JOURNAL] if (root / JOURNAL).exists() else []
    )


@pytest.mark.parametrize(
    "fault, expect",
    [
        ("commit:prepared:1", "old"),
        ("commit:written:1", "old"),
        ("commit:written:17", "old"),
        (f"commit:written:{ADDED + 2}", "old"),
        ("commit:committed:1", "new"),
        ("commit:rename:1", "new"),
        ("commit:rename:2", "new"),
        ("commit:delete:1", "new"),
    ],
)
def test_a_load_killed_at_any_step_leaves_old_or_new(base, tmp_path, fault, expect) -> None:
    base_root, script, old, new = base
    root = copy_of(base_root, tmp_path)
    killed = rockscc(root, "load", str(script), fault=fault)
    assert killed.returncode == -signal.SIGKILL, (fault, killed.returncode, killed.stderr)
    assert state(root) == (old if expect == "old" else new)
    assert leftovers(root) == []
    assert rockscc(root, "add", "host", "compute-9-0").returncode == 0  # and it edits on
    assert "compute-9-0" in load(root).hosts


@pytest.mark.parametrize(
    "first, second, expect",
    [
        ("commit:written:20", "commit:rollback:3", "old"),  # killed again while rolling back
        ("commit:rename:1", "commit:rename:1", "new"),  # killed again while rolling forward
    ],
)
def test_a_recovery_killed_again_still_ends_old_or_new(base, tmp_path, first, second, expect) -> None:
    base_root, script, old, new = base
    root = copy_of(base_root, tmp_path)
    assert rockscc(root, "load", str(script), fault=first).returncode == -signal.SIGKILL
    assert rockscc(root, "list", "host", fault=second).returncode == -signal.SIGKILL
    assert state(root) == (old if expect == "old" else new)
    assert leftovers(root) == []


@pytest.mark.parametrize("fault", ["commit:committed:1", "commit:rename:1", "commit:rename:2"])
def test_a_writer_opening_after_a_kill_past_the_commit_point_rolls_forward(base, tmp_path, fault) -> None:
    """The next process is a writer: it finishes the commit before it clears temp files (the
    temp files a committed journal renames are no strays)."""
    base_root, script, _old, new = base
    root = copy_of(base_root, tmp_path)
    assert rockscc(root, "load", str(script), fault=fault).returncode == -signal.SIGKILL
    assert rockscc(root, "set", "host", "attr", "compute-0-5", "size", "9").returncode == 0
    after = state(root)
    assert after["hosts"]["compute-0-5"].pop("attrs") == {"size": "9"}
    assert after == new
    assert leftovers(root) == []


def test_a_single_edit_killed_after_its_rename_is_new(base, tmp_path) -> None:
    base_root, _script, _old, _new = base
    root = copy_of(base_root, tmp_path)
    assert (
        rockscc(root, "set", "host", "attr", "compute-0-3", "colour", "red", fault="commit:renamed:1").returncode
        == -signal.SIGKILL
    )
    assert load(root).hosts["compute-0-3"].attrs["colour"] == "red"


def test_loads_killed_at_random_times_leave_old_or_new(base, tmp_path) -> None:
    base_root, script, old, new = base
    seen = set()
    rng = random.Random(17)
    for attempt in range(8):
        root = copy_of(base_root, tmp_path / str(attempt))
        proc = subprocess.Popen(
            [sys.executable, "-m", "rockscc", "-C", str(root), "load", str(script)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = state(root)
        assert now in (old, new), attempt
        seen.add("new" if now == new else "old")
        assert not (root / JOURNAL).exists()  # rolled back or forward by the reader
        assert rockscc(root, "set", "attr", "x", "1").returncode == 0  # a writer also sweeps temp files
        assert leftovers(root) == []


def test_readers_during_a_load_see_old_or_new(base, tmp_path) -> None:
    base_root, script, old, new = base
    root = copy_of(base_root, tmp_path)
    sizes = {len(old["hosts"]), len(new["hosts"])}
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                seen.append(len(load(root).hosts))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert rockscc(root, "load", str(script)).returncode == 0
    finally:
        time.sleep(0.2)
        stop.set()
        reader.join(60)
    assert not errors and seen and set(seen) <= sizes, (errors, set(seen))
