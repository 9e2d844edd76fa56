"""Generate a synthetic cluster description for benchmarks: N hosts on the Rocks 5.0 corpus graph.

Layout (`python bench/gen_cluster.py OUT N [PROGRAM]`):
- a bare description whose nodes/ and graphs/default/ are the Rocks 5.0 base and Xen roll corpus
  (copied from ../shared/corpus/rocks-5.0), plus a site `replace-partition.xml` holding the seed
  deck's partition program, so every host runs a partition program;
- hosts: 80 % compute, 10 % NAS, 10 % VM containers; a quarter of the containers hold two VMs;
- three hardware profiles (one sda disk, two IDE disks, four-disk NAS) shared by all hosts;
- every host's next boot is `install`, as `rockscc add host` leaves it, so each gets boot files.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from rockscc.model import VM, Appliance, Disk, Hardware, Host, Interface, VMDisk
from rockscc.model.defaults import new_cluster
from rockscc.model.store import load, locked, save

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "rocks-5.0"
GB = 1024**3

SEED_PROGRAM = (Path(__file__).resolve().parent.parent / "examples" / "seed-partition.xml").read_text()


def shared_program() -> str:
    """The seed program without the host name and membership baked into its text: what a site
    writes when its layout depends only on the disks, so hosts sharing a profile share one run."""
    return SEED_PROGRAM.replace(
        """membership = '<var name="Node_Membership"/>'\nnodename = '<var name="Node_Hostname"/>'\n""", ""
    )


def reads_hostname_program() -> str:
    """The seed program, but it reads the host name it embeds (a comment in its output): a
    distinct program and a distinct result per host, the worst case for the memo."""
    line = r"""    file.write('clearpart --all --initlabel --drives=%s\n' % disk)"""
    return SEED_PROGRAM.replace(line, r"""    file.write('# partitioned for %s\n' % nodename)""" + "\n" + line)


PROGRAMS = {"seed": lambda: SEED_PROGRAM, "shared": shared_program, "reads-hostname": reads_hostname_program}


def copy_corpus(root: Path, program: str = SEED_PROGRAM) -> None:
    for roll in ("base", "xen"):
        for sub in ("nodes", "graphs/default"):
            for path in sorted((CORPUS / roll / sub).glob("*.xml")):
                target = root / sub / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    (root / "nodes" / "replace-partition.xml").write_text(program)


def generate(root: Path, count: int, *, program: str = "seed") -> None:
    """program: one of PROGRAMS (the seed deck's as written, shared, reads-hostname)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    copy_corpus(root, PROGRAMS[program]())
    cluster, _ = new_cluster(root.resolve(), name=f"bench{count}", bare=True, password="bench")
    # a bare description has only Rocks' own appliances: the VM containers' is the bench tree's
    cluster.appliances["vm-container"] = Appliance(
        membership="VM Container",
        node="vm-container",
        short_name="vc",
        schedulable=False,
        public=True,
        attrs={"vm_container": "true", "xen": "true"},
    )
    cluster.hwprofiles = {
        "one-sda": Hardware(disks=[Disk("sda", 250 * GB)]),
        "two-ide": Hardware(disks=[Disk("hda", 80 * GB), Disk("hdb", 80 * GB)]),
        "nas-4": Hardware(disks=[Disk(f"sd{c}", 1024 * GB) for c in "abcd"]),
    }
    plan = [("compute", "Compute", 8), ("nas", "NAS Appliance", 1), ("vm-container", "VM Container", 1)]
    mac = 0
    index = {name: 0 for name, _, _ in plan}
    containers: list[Host] = []
    made = 0
    while made < count:
        for appliance, membership, share in plan:
            for _ in range(share):
                if made >= count:
                    break
                n = index[appliance]
                index[appliance] += 1
                name = f"{appliance}-{n // 100}-{n % 100}"
                mac += 1
                host = Host(
                    name=name,
                    membership=membership,
                    rack=n // 100,
                    rank=n % 100,
                    hwprofile={"compute": ("one-sda", "two-ide")[n % 2], "nas": "nas-4"}.get(appliance, "one-sda"),
                    interfaces=[Interface(device="eth0", ip=_ip(made), mac=_mac(mac), subnet="private", name=name)],
                    pxeboot="install",
                )  # as `rockscc add host` sets it: BIOS, UEFI and iPXE files
                cluster.hosts[name] = host
                if appliance == "vm-container":
                    containers.append(host)
                made += 1
    for c_index, container in enumerate(containers):
        if c_index % 4:
            continue
        for slot in range(2):
            mac += 1
            name = f"compute-{container.rack}-{container.rank}-{slot}"
            disk = VMDisk("file", f"/state/partition1/xen/disks/{name}.hda", "hda", "w", 36)
            cluster.hosts[name] = Host(
                name=name,
                membership="Compute",
                rack=container.rack,
                rank=container.rank,
                interfaces=[
                    Interface(
                        device="eth0",
                        ip=_ip(count + mac),
                        mac=f"00:16:3e:{mac >> 16 & 255:02x}:{mac >> 8 & 255:02x}:{mac & 255:02x}",
                        subnet="private",
                        name=name,
                        module="xennet",
                    )
                ],
                vm=VM(container=container.name, slice=slot, disks=[disk]),
                pxeboot="install",
            )
    with locked(root):
        save(cluster)
    # the host index as rockscc's own commands leave it (an `add host` records its host's row):
    # without it the timed build would first read and check every host file (~1 ms a host)
    load(root)


def _ip(i: int) -> str:
    return f"10.1.{254 - i // 250}.{1 + i % 250}"


def _mac(i: int) -> str:
    return f"00:50:56:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"


if __name__ == "__main__":  # gen_cluster.py OUT N [seed|shared|reads-hostname]
    generate(Path(sys.argv[1]), int(sys.argv[2]), program=sys.argv[3] if len(sys.argv) > 3 else "seed")
    print(f"generated {sys.argv[2]} hosts in {sys.argv[1]}")
