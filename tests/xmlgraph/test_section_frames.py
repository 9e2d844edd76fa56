"""A section's or a head's text from its template's frame (backends/kickstart:
Renderer._section_text, Renderer._head_text) is the text Jinja renders for it, and a template
that does anything with `body` (or `main`) but print it whole is not framed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.backends.kickstart import DIALECTS, TEMPLATES, Renderer, _template, body_is_opaque, main_is_opaque
from rockscc.xmlgraph.profile import Profile, Script

HEADERS = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=40).map(lambda h: "%post " + h)


@settings(max_examples=300, deadline=None)
@given(header=HEADERS, bodies=st.lists(st.text(), min_size=1, max_size=4), dialect=st.sampled_from(sorted(DIALECTS)))
def test_a_framed_section_is_what_jinja_renders(header, bodies, dialect):
    renderer = Renderer()
    for body in bodies + bodies:  # the second time from the remembered frame
        assert renderer._section_text(header, body, DIALECTS[dialect]) == _template("section.j2").render(
            header=header, body=body, dialect=DIALECTS[dialect]
        )


def test_the_shipped_section_template_is_framed():
    assert body_is_opaque((TEMPLATES / "section.j2").read_text())
    renderer = Renderer()
    profile = Profile("h", pre=[Script("pre", f"name={n}\n", origin="n.xml:1") for n in ("a", "b")])
    renderer.render(profile, "rhel5")
    assert len(renderer._frames) == 1 and None not in renderer._frames.values()


@pytest.mark.parametrize(
    "source",
    [
        "{{ body|trim }}",
        "{% if body %}x{% endif %}{{ body }}",
        "{{ body }}{{ body.upper() }}",
        "{{ body.strip() }}",
        "{% set body = 'x' %}{{ body }}",
        '{{ body ~ "x" }}',
        '{% include "other.j2" %}{{ body }}',
        "{% for line in body %}{{ line }}{% endfor %}",
        "{{ body if header else '' }}",
        "{% macro m() %}{{ body }}{% endmacro %}{{ m() }}",
        "{{ body[0] }}",
        '{% filter replace("x", "y") %}{{ body }}{% endfilter %}',
        "{% autoescape true %}{{ body }}{% endautoescape %}",
    ],
)
def test_a_template_that_reads_the_body_is_not_framed(source):
    assert not body_is_opaque(source)


def test_a_template_printing_the_body_twice_is_rendered_whole(monkeypatch):
    import rockscc.backends.kickstart as kickstart

    renderer = Renderer()
    twice = kickstart._template.__wrapped__("section.j2").environment.from_string(
        "{{ header }}\n{{ body }}{{ body }}\n"
    )
    monkeypatch.setattr(kickstart, "_template", lambda name: twice)
    renderer._body_opaque = True
    assert renderer._section_text("%post", "x", DIALECTS["rhel5"]) == "%post\nxx\n"
    assert renderer._frames == {("%post", "rhel5"): None}


LINES = st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    commented=LINES,
    debug=LINES,
    packages=LINES,
    disabled=LINES,
    mains=st.lists(LINES, min_size=1, max_size=3),
    dialect=st.sampled_from(sorted(DIALECTS)),
)
def test_a_framed_head_is_what_jinja_renders(commented, debug, packages, disabled, mains, dialect):
    renderer = Renderer()
    profile = Profile("h", commented=commented, debug=debug, packages=packages, disabled=disabled)
    for main in mains + mains:
        key = (dialect, tuple(commented), tuple(debug), tuple(main), tuple(packages), tuple(disabled))
        assert renderer._head_text(profile, DIALECTS[dialect], main, key) == _template("head.j2").render(
            profile=profile, dialect=DIALECTS[dialect], main=main
        )


def test_the_shipped_head_template_is_framed():
    assert main_is_opaque((TEMPLATES / "head.j2").read_text())
    renderer = Renderer()
    for host in ("a", "b", "c"):
        profile = Profile(host, main=[("lang en_US", "x:1"), (f"network --hostname={host}", "x:2")])
        assert f"--hostname={host}" in renderer.render(profile, "rhel5").head
    assert len(renderer._head_frames) == 1 and None not in renderer._head_frames.values()


@pytest.mark.parametrize(
    "source",
    [
        "{% for l in main %}{{ l|trim }}{% endfor %}",
        "{{ main|length }}{% for l in main %}{{ l }}{% endfor %}",
        "{% for l in main if l %}{{ l }}{% endfor %}",
        "{% for l in main %}{% if l %}{{ l }}{% endif %}{% endfor %}",
        "{% for l in main %}{{ l }}{% else %}none{% endfor %}",
        "{% for l in main %}{{ l }}{{ loop.index }}{% endfor %}",
        "{% for l in main|sort %}{{ l }}{% endfor %}",
        "{% for l in main %}{{ l.upper() }}{% endfor %}",
        "{% for a, b in main %}{{ a }}{% endfor %}",
        '{% filter replace("x", "y") %}{% for l in main %}{{ l }}{% endfor %}{% endfilter %}',
        "{% macro m() %}{% for l in main %}{{ l }}{% endfor %}{% endmacro %}{{ m()|upper }}",
    ],
)
def test_a_template_that_reads_the_main_lines_is_not_framed(source):
    assert not main_is_opaque(source)
