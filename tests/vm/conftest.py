"""A description with two VM containers on libvirt's test driver (in-process, so the CLI run with
run_cli shares the driver's state across commands)."""

from __future__ import annotations

import pytest

from rockscc.runtime.connection import forget_connections
from tests.conftest import run_cli

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

    for cmd in (["add", "host", "vm-container-0-0"], ["add", "host", "vm-container-1-0"],
                ["set", "host", "attr", "vm-container-0-0", "libvirt_uri", "test:///default"],
                ["set", "host", "attr", "vm-container-1-0", "libvirt_uri", f"test://{tmp_path / 'node2.xml'}"],
                ["set", "host", "attr", "vm-container-0-0", "vm_disk_dir", str(tmp_path / "disks0")],
                ["set", "host", "attr", "vm-container-1-0", "vm_disk_dir", str(tmp_path / "disks1")]):
        result = run(*cmd)
        assert result.rc == 0, result.err
    yield run, cluster_dir, tmp_path
    import libvirt

    for uri in ("test:///default",):
        conn = libvirt.open(uri)
        for dom in conn.listAllDomains():
            if dom.name().startswith("compute-"):
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
    forget_connections()
