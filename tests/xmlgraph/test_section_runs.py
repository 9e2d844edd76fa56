"""A host's %pre and %post sections are patched from the last list of the same length
(backends/kickstart: Renderer._run): the kickstart, its section headers and any refusal must be
those of rendering every section afresh, whatever hosts were rendered before by the renderer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.backends.kickstart import DIALECTS, Renderer
from rockscc.errors import RocksccError
from rockscc.xmlgraph.profile import Profile, Script


def pool() -> list[Script]:
    """Scripts of a few kinds: other headers (arg, interpreter), other nodes (other logging
    posts), equal content in distinct objects, and a body the installer would read as a section."""
    return [
        Script("pre", "echo a\n", node="nodes/a.xml (base)", origin="nodes/a.xml:1"),
        Script("pre", "echo a\n", node="nodes/a.xml (base)", origin="nodes/a.xml:1"),  # equal, not the same
        Script("pre", "print(1)\n", interpreter="/usr/bin/python", node="nodes/b.xml (base)", origin="nodes/b.xml:2"),
        Script("pre", "echo c\n", arg="--erroronfail", node="nodes/c.xml (base)", origin="nodes/c.xml:3"),
        Script("pre", "echo d for host-7\n", node="nodes/d.xml (site)", origin="nodes/d.xml:4"),
        Script("pre", "%post\n", node="nodes/bad.xml (site)", origin="nodes/bad.xml:5"),
    ]


def as_post(script: Script) -> Script:
    return Script("post", script.body, script.arg, script.interpreter, script.origin, script.node)


def fresh(profile: Profile, dialect: str) -> tuple[str, tuple[str, ...]]:
    """The kickstart as rendering every section afresh makes it: each %pre, then each post
    between its node's begin and end logging posts, then the <boot> post."""
    renderer = Renderer()
    d = DIALECTS[dialect]
    head = renderer._head(profile, d, [line for line, _ in profile.main])
    headers, parts = {}, [head]
    posts = []
    for post in profile.post:
        begin, end = renderer._log_posts_of(post.node)
        posts += (begin, post, end)
    boot = renderer._boot_post(profile)
    for scripts, log in ((profile.pre, d.pre_log), (posts + ([boot] if boot else []), d.post_log)):
        for script in scripts:
            header, text = renderer._section_of(script, log, d)
            headers[header] = None
            parts.append(text)
        parts.append("\n")
    return "".join(parts).rstrip("\n") + "\n", tuple(headers)


def outcome(render, profile: Profile, dialect: str):
    try:
        return render(profile, dialect)
    except RocksccError as exc:
        return ("refused", str(exc))


HOSTS = st.lists(
    st.tuples(
        st.lists(st.integers(0, 5), max_size=6),  # positions of the base lists replaced...
        st.lists(st.integers(0, 5), max_size=6),  # ...by these scripts of the pool (new objects or not)
        st.booleans(),  # copies (distinct objects) instead of the pool's own
        st.booleans(),  # <boot> text
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(
    base_pre=st.lists(st.integers(0, 4), max_size=8),
    base_post=st.lists(st.integers(0, 4), min_size=1, max_size=8),
    hosts=HOSTS,
    dialect=st.sampled_from(sorted(DIALECTS)),
)
def test_sections_patched_from_earlier_hosts_are_rendered_afresh(base_pre, base_post, hosts, dialect):
    scripts = pool()
    renderer = Renderer()
    for positions, picks, copies, boot in hosts:
        pre, post = [scripts[i] for i in base_pre], [as_post(scripts[i]) for i in base_post]
        for n, (position, pick) in enumerate(zip(positions, picks)):
            chosen = scripts[pick]
            if copies:
                chosen = Script(chosen.kind, chosen.body, chosen.arg, chosen.interpreter, chosen.origin, chosen.node)
            target = pre if n % 2 == 0 else post
            if target:
                target[position % len(target)] = chosen if target is pre else as_post(chosen)
        profile = Profile(
            "h", main=[("rootpw x", "nodes/a.xml:1")], pre=pre, post=post, boot_post=["b"] if boot else []
        )

        def patched(p, d):
            kickstart = renderer.render(p, d)
            return kickstart.text, kickstart.headers

        assert outcome(patched, profile, dialect) == outcome(fresh, profile, dialect)


def test_a_host_whose_sections_differ_only_in_a_few_places_is_patched(monkeypatch):
    """The kept rendering is used (a section rendered again is only one that changed)."""
    scripts = pool()
    renderer = Renderer()
    post = [as_post(s) for s in scripts[:5]] * 4
    renderer.render(Profile("a", post=post), "rhel5")
    rendered = []
    unit = renderer._unit
    monkeypatch.setattr(renderer, "_unit", lambda s, *a, **k: rendered.append(s) or unit(s, *a, **k))
    changed = list(post)
    changed[7] = Script("post", "echo only here\n", node="nodes/e.xml (base)")
    text = renderer.render(Profile("b", post=changed), "rhel5").text
    assert rendered == [changed[7]] and "echo only here" in text
    assert (text, renderer.render(Profile("b", post=changed), "rhel5").headers) == fresh(
        Profile("b", post=changed), "rhel5"
    )


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_a_refused_section_is_refused_after_alike_hosts(dialect):
    scripts = pool()
    renderer = Renderer()
    good = [scripts[0], scripts[2], scripts[3], scripts[4]] * 2
    renderer.render(Profile("a", pre=good), dialect)
    bad = list(good)
    bad[5] = scripts[5]
    with pytest.raises(RocksccError, match="section line"):
        renderer.render(Profile("b", pre=bad), dialect)


def test_own_rules_are_checked_per_host_whatever_head_came_before():
    """What a head holds (an unexpanded entity, the files its %include lines name) is found once
    per head text (_head_findings); whether a %pre writes an included file is still each host's."""
    from rockscc.backends.kickstart import Validator
    from rockscc.memo import Memo

    validator, renderer = Validator(Memo()), Renderer()
    writes = Script("pre", "echo x > /tmp/extra-include\n", node="nodes/a.xml (base)", origin="nodes/a.xml:1")
    silent = Script("pre", "echo nothing\n", node="nodes/a.xml (base)", origin="nodes/a.xml:1")
    main = [("rootpw --iscrypted x", "nodes/a.xml:2"), ("%include /tmp/extra-include", "nodes/a.xml:3")]
    for _ in range(2):
        for pre, refused in ((writes, None), (silent, "%include /tmp/extra-include is not written by any %pre")):
            profile = Profile("h", main=main, pre=[pre])
            kickstart = renderer.render(profile, "rhel5")
            if refused is None:
                validator.validate(kickstart, "rhel5", "h", profile)
            else:
                with pytest.raises(RocksccError, match=refused):
                    validator.validate(kickstart, "rhel5", "h", profile)
        entity = Profile("h", main=[("rootpw &Kickstart_Password;", "nodes/a.xml:2")])
        with pytest.raises(RocksccError, match="unexpanded entity &Kickstart_Password; in the kickstart"):
            validator.validate(renderer.render(entity, "rhel5"), "rhel5", "h", entity)
