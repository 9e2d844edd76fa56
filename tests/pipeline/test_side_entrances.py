"""Every side entrance compiles as `rockscc build` does (pipeline.Session): what `list host
profile`, `list host partition plan`, `report host vm [config]` print is what the build wrote,
byte for byte, partition_inline and <eval> output included; the VM commands build with the build's
options; `test node` validates as a build does."""

from __future__ import annotations

import pytest

from rockscc.runtime.connection import forget_connections
from tests.conftest import remove_test_domains, run_cli

EVAL_NODE = """<kickstart>
<post>
<eval shell="sh">echo EVAL-RAN-FOR-$(echo compute)</eval>
</post>
</kickstart>
"""


@pytest.fixture
def built(cluster_dir, tmp_path):
    run = lambda *a: run_cli("-C", str(cluster_dir), *a)  # noqa: E731
    (cluster_dir / "nodes" / "extend-compute.xml").write_text(EVAL_NODE)
    (tmp_path / "disks").mkdir()
    for command in (
        ["add", "host", "compute-0-0"],
        ["add", "host", "compute-0-1"],
        ["add", "hwprofile", "two", "disks=sda:80G,sdb:80G"],
        ["set", "host", "hwprofile", "compute", "two"],
        ["set", "host", "attr", "compute-0-1", "partition_inline", "yes"],
        ["add", "host", "vm-container-0-0"],
        ["set", "host", "attr", "vm-container-0-0", "libvirt_uri", "test:///default"],
        ["set", "host", "attr", "vm-container-0-0", "vm_disk_dir", str(tmp_path / "disks")],
        ["add", "host", "vm", "vm-container-0-0", "membership=Compute", "disksize=1"],
    ):
        result = run(*command)
        assert result.rc == 0, (command, result.err)
    result = run("build")
    assert result.rc == 0, result.err
    forget_connections()
    yield run, cluster_dir / "build"
    remove_test_domains()


def test_list_host_profile_prints_the_built_kickstart(built):
    run, build = built
    for host in ("frontend", "compute-0-0", "compute-0-1", "vm-container-0-0", "compute-0-0-0"):
        result = run("list", "host", "profile", host)
        assert result.rc == 0, result.err
        assert result.out == (build / "kickstart" / f"{host}.ks").read_text(), host
    inlined = (build / "kickstart" / "compute-0-1.ks").read_text()
    assert "%include /tmp/partition-info" not in inlined and "EVAL-RAN-FOR-compute" in inlined


def test_list_host_partition_plan_prints_the_built_plan(built):
    run, build = built
    for host in ("compute-0-0", "compute-0-1"):
        result = run("list", "host", "partition", "plan", host, "text=yes")
        assert result.rc == 0, result.err
        assert result.out == (build / "partitions" / f"{host}.txt").read_text()


def test_report_host_vm_prints_the_built_configs(built):
    run, build = built
    assert (
        run("report", "host", "vm", "config", "compute-0-0-0").out
        == (build / "libvirt" / "compute-0-0-0.install.xml").read_text()
    )
    assert run("report", "host", "vm", "compute-0-0-0").out == (build / "xen" / "compute-0-0-0.install.cfg").read_text()


def test_create_host_vm_builds_with_the_options_of_build(built):
    """It used to rebuild the VM's kickstart with <eval> off: markers a build never writes."""
    run, build = built
    before = (build / "kickstart" / "compute-0-0-0.ks").read_text()
    assert "EVAL-RAN-FOR-compute" in before
    result = run("create", "host", "vm", "compute-0-0-0")
    assert result.rc == 0, result.err
    assert (build / "kickstart" / "compute-0-0-0.ks").read_text() == before
    assert "up to date" in run("build", "--explain").out.splitlines()[-1]


def test_build_of_some_hosts_uses_the_options_of_a_whole_build(built):
    run, build = built
    assert run("build", "compute-0-0", "--eval=no").rc == 0
    assert "not run (eval disabled)" in (build / "kickstart" / "compute-0-0.ks").read_text()
    result = run("build", "compute-0-0", "--explain")
    assert "rebuilt profile:compute-0-0: build option evals changed" in result.out
    text = (build / "kickstart" / "compute-0-0.ks").read_text()
    assert "EVAL-RAN-FOR-compute" in text and "not run" not in text


def test_test_node_rejects_what_a_build_would_reject(tmp_path):
    node = tmp_path / "nodes" / "bad.xml"
    node.parent.mkdir()
    node.write_text("<kickstart>\n<main>\n<timezone>--bogus-option UTC</timezone>\n</main>\n</kickstart>\n")
    result = run_cli("test", "node", str(node))
    assert result.rc == 1
    assert "kickstart rejected by pykickstart RHEL5" in result.err and "bad.xml:3" in result.err
    assert "timezone --bogus-option UTC" in result.out  # shown, then refused
    node.write_text("<kickstart>\n<main>\n<timezone>--utc UTC</timezone>\n</main>\n</kickstart>\n")
    assert run_cli("test", "node", str(node)).rc == 0


# Commands that make a compile session with options of their own, each for a reason a user sees in
# its help. Every other command that compiles takes COMPILE_PARAMS and compile_options(opts).
OWN_OPTIONS = {
    "check": "a lint runs no user code: <eval>s stay off",
    "test partition": "it runs a node file's partition programs on given disks; <eval>s stay off",
    "test node": "a fragment without a description: eval=yes runs its <eval>s (rocks has nothing to read)",
    "list node xml": "a node without a host or a description's build: eval=yes runs its <eval>s",
}


def _compiling_commands():
    import inspect

    from rockscc.cli import registry

    for name in registry.names():
        cls = registry.load(name)
        source = inspect.getsource(inspect.getmodule(cls))
        if any(call in source for call in ("session(", "Session(", "compile_options(")):
            yield name, cls, source


def test_every_compiling_command_takes_the_options_of_build():
    """One code path: a command that compiles declares build's compile parameters and builds its
    CompileOptions from them the way build does; the few exceptions say why."""
    from rockscc.commands._compile import COMPILE_PARAMS

    found = {}
    for name, cls, source in _compiling_commands():
        found[name] = all(param in cls.params for param in COMPILE_PARAMS) and "compile_options(opts)" in source
    assert found, "no compiling commands found"
    wrong = sorted(name for name, ok in found.items() if not ok and name not in OWN_OPTIONS)
    assert not wrong, f"compile with options of their own, not build's: {wrong}"
    assert set(OWN_OPTIONS) <= {name for name, ok in found.items() if not ok}, "an exception is no longer needed"
    assert {"build", "create host vm", "start host vm", "list host profile", "serve", "insert-ethers"} <= set(found)


@pytest.mark.parametrize(
    "command",
    [
        "list host profile compute-0-0",
        "list host xml compute-0-0",
        "list host partition plan compute-0-0",
        "report host vm compute-0-0-0",
        "report host vm config compute-0-0-0",
        "list host graph compute-0-0",
        "report graph compute",
    ],
)
def test_side_entrances_accept_build_s_eval_option(built, command):
    run, _build = built
    assert run(*command.split(), "eval=no").rc == 0
