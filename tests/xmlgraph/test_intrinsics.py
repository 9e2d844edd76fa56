"""The attributes Rocks' generator supplied itself (Rocks 7 core rocks/db/helper.py
`getHostAttrs`, rocks/commands/list/node/xml `run`): derived from kickstart_dialect or an explicit
rocks_version, overridable, visible to cond=, entities and `list host attr`, and inputs of a build."""

from __future__ import annotations

import pytest

from rockscc.model import transaction
from tests.conftest import run_cli
from tests.xmlgraph.test_tags import ok, profile

NODE = """<kickstart>
<post>v=&version; r=&release; rv=&rocks_version; rr=&rocks_release; m=&rocks_version_major; d=&distribution; old=<var name="Info_RocksVersion"/></post>
<post cond="rocks_version_major == 7">MAJOR-SEVEN</post>
<post cond="rocks_version_major &gt;= 6">SIX-OR-LATER</post>
<post cond="version &gt;= 7">FLOAT-SEVEN</post>
</kickstart>"""


def set_attrs(root, **attrs):
    with transaction(root) as cluster:
        cluster.attrs.update(attrs)


@pytest.mark.parametrize(
    "dialect, version, release",
    [
        ("rhel5", "5.0", "V"),
        ("rhel6", "6.2", "SideWinder"),
        ("rhel7", "7.0", "Manzanita"),
        ("rhel8", "7.0", "Manzanita"),
        ("rhel9", "7.0", "Manzanita"),
    ],
)
def test_derived_from_the_dialect(bare, dialect, version, release):
    set_attrs(bare, kickstart_dialect=dialect)
    out = ok(profile(bare, NODE))
    major = version.split(".")[0]
    assert f"v={version} r={release} rv={version} rr={release} m={major} d=rocks-dist old={version}" in out
    assert ("MAJOR-SEVEN" in out) == (major == "7")
    assert ("SIX-OR-LATER" in out) == (int(major) >= 6)
    assert ("FLOAT-SEVEN" in out) == (major == "7")  # version typed as a float, as Rocks' cond.py did


def test_explicit_rocks_version_wins_over_the_dialect(bare):
    set_attrs(bare, kickstart_dialect="rhel7", rocks_version="6.1")
    out = ok(profile(bare, NODE))
    assert "v=6.1 r=Emerald Boa rv=6.1 rr=Emerald Boa m=6" in out
    assert "MAJOR-SEVEN" not in out and "SIX-OR-LATER" in out


def test_an_unknown_version_has_an_empty_release_name(bare):
    set_attrs(bare, rocks_version="7.1")
    out = ok(profile(bare, NODE))
    assert "v=7.1 r= rv=7.1 rr= m=7" in out


@pytest.mark.parametrize("bad", ["seven", ".7", "x.0", "7a"])
def test_a_malformed_rocks_version_is_refused_where_it_is_set(bare, bad):
    for argv in (
        ["set", "attr", "rocks_version", bad],
        ["set", "host", "attr", "compute-0-0", "rocks_version", bad],
        ["set", "appliance", "attr", "compute", "rocks_version", bad],
    ):
        before = (bare / "cluster.toml").read_bytes()
        result = run_cli("-C", str(bare), *argv)
        assert result.rc == 1 and f'attribute rocks_version="{bad}": not a Rocks version' in result.err
        assert "Traceback" not in result.err and (bare / "cluster.toml").read_bytes() == before


def test_a_malformed_rocks_version_edited_by_hand_names_the_line(bare):
    path = bare / "cluster.toml"
    text = path.read_text()
    path.write_text(text.replace("[attrs]\n", '[attrs]\nrocks_version = "seven"\n', 1))
    line = path.read_text().splitlines().index('rocks_version = "seven"') + 1
    result = profile(bare, NODE)
    assert result.rc == 1 and f"cluster.toml:{line}:" in result.err and "not a Rocks version" in result.err


def test_a_set_attribute_of_the_same_name_wins_at_every_level(bare):
    set_attrs(bare, kickstart_dialect="rhel7")
    with transaction(bare) as cluster:
        cluster.hosts["compute-0-0"].attrs["release"] = "Site Special"
        cluster.appliances["compute"].attrs["rocks_version_major"] = "6"
    out = ok(profile(bare, NODE))
    assert "r=Site Special" in out and "v=7.0" in out
    assert "m=6" in out and "MAJOR-SEVEN" not in out


def test_list_host_attr_shows_them_and_where_they_come_from(bare):
    set_attrs(bare, kickstart_dialect="rhel7")
    out = ok(run_cli("-C", str(bare), "list", "host", "attr", "compute-0-0", "output-format=json"))
    import json

    rows = {r["attr"]: r for r in json.loads(out)}
    assert rows["rocks_version_major"]["value"] == "7" and rows["rocks_version_major"]["source"] == "rocks"
    assert rows["ksmac"]["source"] == "intrinsic"


def test_ksmac_is_the_install_interface_mac_and_cannot_be_set(bare):
    assert run_cli("-C", str(bare), "add", "host", "compute-0-1", "mac=52:54:00:aa:bb:cc").rc == 0
    out = ok(profile(bare, "<kickstart><post>ks=[&ksmac;]</post></kickstart>", host="compute-0-1"))
    assert "ks=[52:54:00:aa:bb:cc]" in out
    assert "ks=[]" in ok(profile(bare, "<kickstart><post>ks=[&ksmac;]</post></kickstart>"))  # no MAC known yet
    result = run_cli("-C", str(bare), "set", "attr", "ksmac", "x")
    assert result.rc == 1 and "intrinsic" in result.err


def test_changing_rocks_version_rebuilds_the_kickstart(bare):
    """The derived values are read through attributes: a build records them as inputs."""
    profile(bare, NODE)
    assert run_cli("-C", str(bare), "build").rc == 0
    kickstart = bare / "build/kickstart/compute-0-0.ks"
    assert "v=5.0 " in kickstart.read_text()
    set_attrs(bare, rocks_version="6.2")
    assert run_cli("-C", str(bare), "build").rc == 0
    assert "v=6.2 r=SideWinder" in kickstart.read_text()
    set_attrs(bare, rocks_version="")  # empty: derived from the dialect again
    with transaction(bare) as cluster:
        cluster.attrs["kickstart_dialect"] = "rhel7"
        del cluster.attrs["rocks_version"]
    assert run_cli("-C", str(bare), "build").rc == 0
    assert "v=7.0 r=Manzanita" in kickstart.read_text() and "MAJOR-SEVEN" in kickstart.read_text()
