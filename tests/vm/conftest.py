"""A description with two VM containers on libvirt's test driver (in-process, so the CLI run with
run_cli shares the driver's state across commands)."""

from __future__ import annotations

import pytest

from rockscc.runtime.connection import forget_connections
from tests.conftest import remove_test_domains, run_cli

NODE = """<node><cpu><mhz>2000</mhz><model>x86_64</model><nodes>1</nodes><sockets>1</sockets><cores>2</cores>
<threads>1</threads></cpu><memory>8388608</memory></node>
"""


@pytest.fixture
def vmc(cluster_dir, tmp_path):
    """(run, root): containers vm-container-0-0 (test:///default) and vm-container-1-0 (its own test driver)."""
    forget_connections()
    (tmp_path / "node2.xml").write_text(NODE)
    for d in ("disks0", "disks1"):
        (tmp_path / d).mkdir()

    def run(*argv):
        return run_cli("-C", str(cluster_dir), *argv)

    for cmd in (
        ["add", "host", "vm-container-0-0"],
        ["add", "host", "vm-container-1-0"],
        ["set", "host", "attr", "vm-container-0-0", "libvirt_uri", "test:///default"],
        ["set", "host", "attr", "vm-container-1-0", "libvirt_uri", f"test://{tmp_path / 'node2.xml'}"],
        ["set", "host", "attr", "vm-container-0-0", "vm_disk_dir", str(tmp_path / "disks0")],
        ["set", "host", "attr", "vm-container-1-0", "vm_disk_dir", str(tmp_path / "disks1")],
    ):
        result = run(*cmd)
        assert result.rc == 0, result.err
    yield run, cluster_dir, tmp_path
    remove_test_domains()


@pytest.fixture(scope="session")
def hypervisors(tmp_path_factory):
    """Two real libvirtd + QEMU hosts in their own namespaces (tests/vm/hypervisors.py), for the
    tests marked qemu; stopped, with everything they ran, at the end of the session."""
    from tests.vm.hypervisors import HypervisorPair, missing_tools

    missing = missing_tools()
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run scripts/setup")
    pair = HypervisorPair(tmp_path_factory.mktemp("hv"))
    try:
        pair.start()
        yield pair
    finally:
        forget_connections()
        pair.stop()


@pytest.fixture(scope="session")
def guest_disk(tmp_path_factory):
    """A bootable image of the test guest (tests/vm/guest.py), built once; copy it (sparse) per VM."""
    from tests.vm import guest

    missing = guest.missing_tools()
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run scripts/setup")
    work = tmp_path_factory.mktemp("guest")
    guest.build_disk(work / "guest.img", work)
    return work / "guest.img"


@pytest.fixture(scope="session")
def site(hypervisors, tmp_path_factory):
    """A description whose VM containers are the test hypervisors (tests/vm/site.py)."""
    from tests.vm.site import Site

    forget_connections()
    root = tmp_path_factory.mktemp("site") / "cluster"
    assert run_cli("init", str(root), "password=secret").rc == 0
    site = Site(root, hypervisors)
    site.setup()
    yield site
    site.forget()
    forget_connections()
