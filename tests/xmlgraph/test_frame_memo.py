"""The templates' frames kept between builds (backends/kickstart: Renderer._remembered_frame,
memo namespace kickstart-frame) are derived data: a renderer reading them writes what Jinja
renders, a damaged or ill-shaped entry is ignored and rewritten, and an edited template or
another Jinja2 makes other keys — never a stale frame."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

import rockscc.backends.kickstart as kickstart
from rockscc.backends.kickstart import DIALECTS, FRAME_NAMESPACE, Renderer, _frame_key, _template
from rockscc.memo import DIRNAME, FILENAME, Memo
from rockscc.xmlgraph.profile import Profile, Script
from tests.conftest import run_cli

PROFILE = Profile(
    "h",
    commented=["nodes/base.xml (base)", "nodes/compute.xml (base)"],
    debug=["one", "two"],
    main=[("lang en_US", "x:1"), ("timezone --utc Zone/A", "x:2"), ("network --hostname=h.local", "x:3")],
    packages=["wget", "@core"],
    disabled=["sendmail"],
    pre=[Script("pre", "echo pre\n", origin="x:4")],
    post=[Script("post", "echo post\n", node="compute (base)", origin="x:5")],
)


def memo_at(root: Path) -> Memo:
    memo = Memo()
    memo.use(root)
    return memo


def render_with_memo(root: Path, profile: Profile = PROFILE, dialect: str = "rhel6") -> str:
    """One renderer's text, its frames then stored in the memo file under root (as a build does)."""
    memo = memo_at(root)
    text = Renderer(memo).render(profile, dialect).text
    memo.store([])
    memo.close()
    return text


def frame_rows(root: Path) -> list[tuple[str, bytes]]:
    with sqlite3.connect(root / DIRNAME / FILENAME) as conn:
        return conn.execute("SELECT key, value FROM memo WHERE ns = ?", (FRAME_NAMESPACE,)).fetchall()


def set_frame_values(root: Path, value: bytes) -> None:
    with sqlite3.connect(root / DIRNAME / FILENAME) as conn:
        conn.execute("UPDATE memo SET value = ? WHERE ns = ?", (value, FRAME_NAMESPACE))


@pytest.fixture
def no_jinja(monkeypatch):
    """Rendering a template from here on fails the test: the frames must come from the memo."""

    def refuse(name):
        raise AssertionError(f"{name} rendered: the memo's frame was not used")

    monkeypatch.setattr(kickstart, "_template", refuse)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_a_remembered_frame_gives_what_jinja_renders(tmp_path, monkeypatch, dialect):
    expected = Renderer().render(PROFILE, dialect).text
    assert render_with_memo(tmp_path, dialect=dialect) == expected
    assert frame_rows(tmp_path), "no frame was remembered"
    monkeypatch.setattr(kickstart, "_template", lambda name: pytest.fail(f"{name} rendered"))
    # another host of the same kind, in a later process: other main lines and bodies, same frames
    other = Profile(
        "g",
        commented=PROFILE.commented,
        debug=PROFILE.debug,
        main=[("lang de_DE", "x:1"), ("timezone --utc Zone/B", "x:2"), ("network --hostname=g.local", "x:3")],
        packages=PROFILE.packages,
        disabled=PROFILE.disabled,
        pre=[Script("pre", "echo other pre\n", origin="x:4")],
        post=[Script("post", "echo other post\n", node="compute (base)", origin="x:5")],
    )
    later = Renderer(memo_at(tmp_path)).render(other, dialect).text
    monkeypatch.undo()
    assert later == Renderer().render(other, dialect).text


@pytest.mark.parametrize(
    "damage",
    [b"", b"\xff\xfe", b"not json", b"[", b"{}", b"42", b'"text"', b"[1, 2]", b'["a"]', b'["a", "b", "c", "d", "e"]'],
)
def test_a_damaged_frame_is_ignored_and_rewritten(tmp_path, damage):
    expected = render_with_memo(tmp_path)
    set_frame_values(tmp_path, damage)
    assert render_with_memo(tmp_path) == expected
    for _key, value in frame_rows(tmp_path):
        frame = json.loads(value)
        assert frame is None or (isinstance(frame, list) and all(isinstance(p, str) for p in frame))


def test_a_deleted_memo_file_is_rebuilt(tmp_path):
    expected = render_with_memo(tmp_path)
    (tmp_path / DIRNAME / FILENAME).write_bytes(b"this is not an sqlite database" * 10)
    assert render_with_memo(tmp_path) == expected
    assert render_with_memo(tmp_path) == expected and frame_rows(tmp_path)


def test_a_frame_of_another_shape_is_not_served(tmp_path):
    """The head's frame is keyed by its number of main lines: a well-formed frame of another
    host's count is never read for this one."""
    render_with_memo(tmp_path)
    longer = Profile(
        "h",
        commented=PROFILE.commented,
        debug=PROFILE.debug,
        main=[*PROFILE.main, ("skipx", "x:9")],
        packages=PROFILE.packages,
        disabled=PROFILE.disabled,
    )
    assert render_with_memo(tmp_path, longer) == Renderer().render(longer, "rhel6").text


def test_an_edited_template_is_not_served_an_old_frame(tmp_path, monkeypatch):
    render_with_memo(tmp_path)
    templates = tmp_path / "templates"
    shutil.copytree(kickstart.TEMPLATES, templates)
    head = templates / "head.j2"
    head.write_text(head.read_text().replace("%packages --ignoremissing", "%packages --ignoremissing --nobase"))
    section = templates / "section.j2"
    section.write_text(section.read_text().replace("{{ header }}\n", "{{ header }}\n# edited\n"))
    monkeypatch.setattr(kickstart, "TEMPLATES", templates)
    kickstart._template.cache_clear()
    kickstart._render_identity.cache_clear()
    try:
        text = render_with_memo(tmp_path)
    finally:
        kickstart._template.cache_clear()
        kickstart._render_identity.cache_clear()
    assert "%packages --ignoremissing --nobase" in text and "# edited" in text


def test_the_key_names_the_jinja2_installed(monkeypatch):
    dialect = DIALECTS["rhel5"]
    before = _frame_key("section.j2", dialect, ("%post", "rhel5"))
    monkeypatch.setattr(kickstart, "_render_identity", lambda: "templates:another-jinja2")
    assert _frame_key("section.j2", dialect, ("%post", "rhel5")) != before


def test_the_key_names_every_dialect_field():
    """Two dialects alike but for one field (here %end) never share a frame."""
    import dataclasses

    rhel6 = DIALECTS["rhel6"]
    keys = {
        _frame_key("section.j2", d, ("%post", "rhel6"))
        for d in (
            rhel6,
            dataclasses.replace(rhel6, end=False),
            dataclasses.replace(rhel6, post_log=""),
            dataclasses.replace(rhel6, dropped=frozenset()),
        )
    }
    assert len(keys) == 4


def test_a_one_host_rebuild_reads_the_frames_and_writes_the_same_bytes(tmp_path, cluster_dir, monkeypatch):
    """A build after an attribute change, in a session whose renderer must take its frames from
    the memo (Jinja refused), writes the bytes a fresh full build writes; then with the memo's
    frames damaged, the same again."""
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0", "mac=00:50:56:00:00:01").rc == 0
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-1", "mac=00:50:56:00:00:02").rc == 0
    assert run_cli("-C", str(cluster_dir), "build").rc == 0
    build = cluster_dir / "build"
    for n, (attr, value) in enumerate(
        [("Kickstart_Timezone", "Zone/Frame"), ("Kickstart_PrivateNTPHost", "10.1.9.9"), ("Kickstart_Timezone", "X/Y")]
    ):
        assert run_cli("-C", str(cluster_dir), "set", "host", "attr", "compute-0-0", attr, value).rc == 0
        if n == 2:
            set_frame_values(build, b"\x00damaged")
        else:
            monkeypatch.setattr(kickstart, "_template", lambda name: pytest.fail(f"{name} rendered"))
        result = run_cli("-C", str(cluster_dir), "build")
        monkeypatch.undo()
        assert result.rc == 0, result.err
        fresh = tmp_path / f"fresh{n}"
        shutil.copytree(cluster_dir, fresh, ignore=shutil.ignore_patterns("build"))
        assert run_cli("-C", str(fresh), "build").rc == 0
        for name in ("compute-0-0.ks", "compute-0-1.ks"):
            assert (build / "kickstart" / name).read_bytes() == (fresh / "build" / "kickstart" / name).read_bytes()
    # the frames the rebuilt host read were rewritten (the other hosts' stay damaged until read)
    assert any(value != b"\x00damaged" for _, value in frame_rows(build))


def test_without_a_build_directory_nothing_is_remembered():
    memo = Memo()
    renderer = Renderer(memo)
    renderer.render(PROFILE, "rhel5")
    assert memo.drain() == []
    assert _template("head.j2") is not None
