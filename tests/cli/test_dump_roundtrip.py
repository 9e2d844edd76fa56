"""`dump` output always loads back: any value the description accepts, however it is quoted or
whatever words it holds (=, a leading -, help, #, both quotes), comes back exactly."""

from __future__ import annotations

import shlex
import shutil

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.model import load, transaction
from rockscc.model.records import Host, Interface, PxeAction
from tests.conftest import run_cli

# one line of printable text, leaning on what quoting and command-line parsing find hard
TRICKY = ["=", "-", "--", "help", "#", "'", '"', "\\", ";", "{}", "$x", "%end", " ", "a=b", "-h", "ä", "☃"]
text = st.lists(
    st.one_of(
        st.sampled_from(TRICKY),
        st.text(st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp", "Zs", "Cf")), max_size=4),
    ),
    min_size=1,
    max_size=5,
).map("".join)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.:-]{0,8}", fullmatch=True)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    root = tmp_path_factory.mktemp("fresh") / "c"
    assert run_cli("init", str(root), "password=x").rc == 0
    return root


# each example runs init-dump-load (seconds): a few, and the first failure as found (no shrinking)
@settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(attrs=st.dictionaries(names, text, max_size=4), comment=text, label=text, args=text, membership=text)
def test_dump_then_load_recreates_the_description(tmp_path_factory, fresh, attrs, comment, label, args, membership):
    tmp = tmp_path_factory.mktemp("roundtrip")
    source, copy = tmp / "source", tmp / "copy"
    for root in (source, copy):
        shutil.copytree(fresh, root)
    try:
        edit(source, attrs, comment, label, args, membership)
    except RocksccError:
        assume(False)  # refused by the model: nothing to dump
    dumped = run_cli("-C", str(source), "dump")
    assert dumped.rc == 0, dumped.err
    script = tmp / "dump.sh"
    script.write_text(dumped.out)
    loaded = run_cli("-C", str(copy), "load", str(script))
    assert loaded.rc == 0, (loaded.err, dumped.out)
    a, b = load(source), load(copy)
    a.root = b.root = None
    assert a == b


def edit(root, attrs, comment, label, args, membership) -> None:
    with transaction(root) as cluster:
        cluster.attrs.update(attrs)
        cluster.appliances["compute"].attrs.update(attrs)
        if attrs:  # an empty table is no table: dump has nothing to say about it
            cluster.os["linux"] = dict(attrs)
        cluster.pxeactions[label] = PxeAction("kernel vmlinuz", "append " + args)
        cluster.appliances["compute"].membership = membership
        cluster.hosts["compute-0-0"] = Host(
            membership=membership,
            comment=comment,
            attrs=dict(attrs),
            pxeboot=label,
            interfaces=[Interface("eth0", ip="10.1.255.254", subnet="private")],
        )


def test_a_value_the_command_line_would_read_otherwise_is_dumped_by_name(cluster_dir):
    assert run_cli("-C", str(cluster_dir), "set", "attr", "k", "value=-h=x").rc == 0
    out = run_cli("-C", str(cluster_dir), "dump").out
    assert "rockscc set attr k value=-h=x" in [" ".join(shlex.split(line)) for line in out.splitlines()]
