"""Attacks on the cheaper service-config checks (issue 18's discovery at 10 000 hosts): the
dnsmasq hosts file checked in buckets chosen by a hash of each host's name, and tool verdicts
remembered in the build's memo by a digest of the text and of the tool's binary.

What must hold: every host's entry is checked by dnsmasq in exactly one bucket; one host added
changes one bucket; an invalid entry is refused whichever bucket it lands in, also right after
a build that remembered every other bucket as accepted; a remembered acceptance is used only for
the very same text and the very same tool binary; a rejection is never remembered.
"""

from __future__ import annotations

import shutil
import stat
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.backends import dnsmasq_conf
from rockscc.backends import service_check as validate
from rockscc.errors import RocksccError
from rockscc.memo import Memo

CONF = "dhcp-range=10.1.0.0,static,255.255.0.0,1h\ndhcp-hostsfile=/nonexistent/dnsmasq.hosts\nenable-tftp\n"


def hosts_text(names: list[str]) -> str:
    """The hosts file of these hosts, in name order as the network spec lists them; each host's
    MAC and address follow from its place in `names` (so a host added last changes no other)."""
    hosts = [
        {
            "mac": f"52:54:00:00:{i >> 8:02x}:{i & 255:02x}",
            "ip": f"10.1.{i + 1 >> 8}.{i + 1 & 255}",
            "name": n,
            "ipxe": True,
        }
        for i, n in enumerate(names)
    ]
    return dnsmasq_conf.render_hosts({"hosts": sorted(hosts, key=lambda host: host["name"])})


def entries(configs: list[tuple[str, dict[int, int]]]) -> list[str]:
    return [line for text, _lines in configs for line in text.splitlines() if line.startswith("dhcp-host=")]


def hosts_entries(text: str) -> list[str]:
    return [f"dhcp-host={line}" for line in text.splitlines()[1:]]


NAMES = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True), min_size=1, max_size=60, unique=True)


@settings(max_examples=60, deadline=None)
@given(names=NAMES, extra=st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True), size=st.integers(1, 7))
def test_every_entry_is_in_one_bucket_and_a_new_host_changes_one(names, extra, size) -> None:
    old_bucket = dnsmasq_conf.BUCKET
    dnsmasq_conf.BUCKET = size
    try:
        text = hosts_text(names)
        configs = dnsmasq_conf.host_check_configs(CONF, text)
        assert sorted(entries(configs)) == sorted(hosts_entries(text))  # each once, none lost
        hosts_lines = text.splitlines()
        for config, lines in configs:
            assert "dhcp-hostsfile=" not in config and config.startswith("dhcp-range=")
            checked = config.splitlines()
            for at, line in lines.items():  # each entry's line in the hosts file, for messages
                assert checked[at - 1] == f"dhcp-host={hosts_lines[line - 1]}"
        if extra in names:
            return
        grown = dnsmasq_conf.host_check_configs(CONF, hosts_text([*names, extra]))
        count = lambda n: 1 << max(0, (n - 1) // size).bit_length()  # noqa: E731 - buckets for n entries
        if count(len(names)) == count(len(names) + 1):  # the same buckets: one of them differs
            assert len({text for text, _ in grown} - {text for text, _ in configs}) == 1
    finally:
        dnsmasq_conf.BUCKET = old_bucket


def test_the_bucket_of_a_host_is_stable_across_processes() -> None:
    """A hash of the name that Python's per-process salt does not change (crc32)."""
    text = hosts_text([f"compute-0-{i}" for i in range(3000)])
    configs = dnsmasq_conf.host_check_configs(CONF, text)
    assert len(configs) == 4
    for index, (config, _lines) in enumerate(configs):
        for line in config.splitlines():
            if line.startswith("dhcp-host="):
                assert zlib.crc32(line.split(",")[2].encode()) % 4 == index


@pytest.fixture
def memo(tmp_path: Path):
    def fresh() -> Memo:
        made = Memo()
        made.use(tmp_path / "build")
        return made

    return fresh


def dnsmasq_check(text: str) -> validate.Check:
    return validate.Check(dnsmasq_conf.HOSTS_FILE, text, "dnsmasq")


def test_an_acceptance_is_used_only_for_the_same_text_and_tool(memo, tmp_path: Path, monkeypatch) -> None:
    good = dnsmasq_conf.host_check_configs(CONF, hosts_text(["compute-0-0", "compute-0-1"]))[0][0]
    first = memo()
    assert validate.check([dnsmasq_check(good)], first) == []
    first.store([])
    second = memo()

    def no_tool(*args, **kw):
        raise AssertionError("a tool ran for a text the memo holds as accepted")

    with monkeypatch.context() as patch:
        patch.setattr(validate.subprocess, "Popen", no_tool)
        assert validate.check([dnsmasq_check(good)], second) == []
        with pytest.raises(AssertionError):  # one byte more: not the same text, checked
            validate.check([dnsmasq_check(good + "\n")], second)
        with pytest.raises(AssertionError):  # the same text checked as another file: checked
            validate.check([validate.Check("net/other.conf", good, "dnsmasq")], second)
    bad = good.replace(",compute-0-1", ",compute-0-1,bad value")
    with pytest.raises(RocksccError, match="rejected by dnsmasq: .*bad DHCP host name"):
        validate.check([dnsmasq_check(bad)], second)
    # another binary at the same path (an upgrade, a replacement): the verdict is not reused
    fake = tmp_path / "bin" / "dnsmasq"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'dnsmasq: rejected by this build of it'\nexit 1\n")
    fake.chmod(stat.S_IRWXU)
    monkeypatch.setattr(validate, "find_program", lambda name: str(fake))
    first_key = validate.verdict_key(dnsmasq_check(good), shutil.which("dnsmasq") or "/usr/sbin/dnsmasq")
    assert first_key != validate.verdict_key(dnsmasq_check(good), str(fake))
    with pytest.raises(RocksccError, match="rejected by this build of it"):
        validate.check([dnsmasq_check(good)], second)


def test_a_rejection_is_never_remembered(memo) -> None:
    bad = dnsmasq_conf.host_check_configs(CONF, hosts_text(["compute-0-0"]))[0][0].replace(
        ",compute-0-0", ",compute-0-0,bad value"
    )
    first = memo()
    with pytest.raises(RocksccError):
        validate.check([dnsmasq_check(bad)], first)
    first.store([])
    with pytest.raises(RocksccError):
        validate.check([dnsmasq_check(bad)], memo())


def test_an_invalid_entry_is_refused_in_whichever_bucket_it_lands(cluster_dir: Path, rockscc, monkeypatch) -> None:
    """Small buckets, several of them; a good build first (every bucket remembered as
    accepted); then, host by host, that host's entry made invalid in the rendered hosts file,
    a new host added (so the network job runs again): the build is refused, the files stay."""
    monkeypatch.setattr(dnsmasq_conf, "BUCKET", 2)
    for i in range(6):
        assert rockscc(f"add host compute-0-{i} mac=52:54:00:00:01:{i:02x}").rc == 0
    assert rockscc("build --eval=no").rc == 0
    out = cluster_dir / "build" / "net"
    configs = dnsmasq_conf.host_check_configs((out / "dnsmasq.conf").read_text(), (out / "dnsmasq.hosts").read_text())
    assert len(configs) == 4
    render = dnsmasq_conf.render_hosts
    hit = set()
    for i in range(6):
        victim = f"compute-0-{i}"
        good = (out / "dnsmasq.hosts").read_bytes()

        def planted(spec, victim=victim):
            return render(spec).replace(f",{victim}\n", f",{victim},bad value\n")

        monkeypatch.setattr(dnsmasq_conf, "render_hosts", planted)
        assert rockscc(f"add host extra-{i} membership=Compute").rc == 0
        result = rockscc("build --eval=no")
        assert result.rc == 1, victim
        assert "net/dnsmasq.hosts: rejected by dnsmasq: dnsmasq: bad DHCP host name at line" in result.err
        assert (out / "dnsmasq.hosts").read_bytes() == good
        monkeypatch.setattr(dnsmasq_conf, "render_hosts", render)
        assert rockscc("build --eval=no").rc == 0  # and without the plant the same build passes
        # the message named the victim's line of the hosts file (not of the bucket's check file)
        number = next(
            n
            for n, text in enumerate((out / "dnsmasq.hosts").read_text().splitlines(), 1)
            if text.endswith(f",{victim}")
        )
        assert f"bad DHCP host name at line {number} of net/dnsmasq.hosts" in result.err, (number, result.err)
        hit.add(zlib.crc32(victim.encode()) % 4)
    assert len(hit) > 1  # the victims were in different buckets
