"""A roll path `pkg:<name>` in cluster.toml names an installed package: rockscc finds its
directory without running any of its code (a description names it, and every command reads the
roll list: `pkg:antigravity` opened a browser, a module where the command runs from is anyone's)."""

from __future__ import annotations

import sys

from tests.conftest import run_cli


def test_a_pkg_roll_is_found_without_importing_it(cluster_dir, tmp_path, monkeypatch):
    site = tmp_path / "site"
    package = site / "evilroll"
    (package / "nodes").mkdir(parents=True)
    (package / "nodes" / "evil-extra.xml").write_text(
        "<kickstart>\n<post>\necho from the roll\n</post>\n</kickstart>\n"
    )
    marker = tmp_path / "ran"
    (package / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    monkeypatch.syspath_prepend(str(site))
    with open(cluster_dir / "cluster.toml", "a") as fh:
        fh.write('\n[rolls.evilroll]\npath = "pkg:evilroll"\n')
    result = run_cli("-C", str(cluster_dir), "list", "node", "xml", "evil-extra")
    assert not marker.exists(), "the package's code ran"
    assert result.rc == 0, result.err
    assert "echo from the roll" in result.out
    assert "evilroll" not in sys.modules


def test_a_pkg_roll_path_naming_no_package_is_one_error(cluster_dir):
    with open(cluster_dir / "cluster.toml", "a") as fh:
        fh.write('\n[rolls.zen]\npath = "pkg:this"\n')
    result = run_cli("-C", str(cluster_dir), "check")
    assert result.rc == 1
    assert 'roll path "pkg:this": no installed Python package of that name' in result.err, result.err
    assert "The Zen of Python" not in result.out
    listed = run_cli("-C", str(cluster_dir), "list", "host")  # the hosts stay listable, the roll broken
    assert listed.rc == 0 and "The Zen of Python" not in listed.out, listed.err
