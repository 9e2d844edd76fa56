"""Session.dep_keys remembers the evaluated keys by key sequence: it must give what evaluating
each key gives, in order, whatever sequences came before."""

from __future__ import annotations

from pathlib import Path

from rockscc.pipeline import Session


def plain(session: Session, deps: dict) -> dict:
    return {session.dep_key(key): value for key, value in deps.items()}


def test_dep_keys_are_each_key_evaluated_in_order(tmp_path):
    session = Session()
    (tmp_path / "b").write_text("")
    inner = f"file:{tmp_path}/a/../b"
    sequences = [
        {"attr:x": "1", f"file:{tmp_path}/b": "h1", "walk:": "w"},
        {"attr:x": "2", f"file:{tmp_path}/b": "h2", "walk:": "w"},  # same keys, other values
        {f"file:{tmp_path}/b": "h1", "attr:x": "1", "walk:": "w"},  # another order
        {f"file:{tmp_path}/b": "first", inner: "second", "attr:y": None},  # two keys evaluating alike
        {},
    ]
    for deps in sequences + sequences:
        got = session.dep_keys(deps)
        assert got == plain(session, deps) and list(got) == list(plain(session, deps)), deps
    assert session.dep_keys(sequences[3]) == {f"file:{Path(tmp_path, 'b').resolve()}": "second", "attr:y": None}
