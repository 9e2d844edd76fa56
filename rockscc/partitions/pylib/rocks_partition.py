"""Rocks 5.0's `rocks_partition` module for partition programs, driven by declared hardware.

A `<pre>` program run by `rockscc build` imports this module inside the sandbox. Instead of
probing disks with parted and mounting partitions, it reads the host's declared hardware from
/tmp/.rockscc/hardware.json (written by rockscc) and /tmp/discovered.disks (as Rocks' installer
wrote it). Method names, arguments and return shapes follow Rocks 5.0.
"""

import json

HARDWARE = "/tmp/.rockscc/hardware.json"


def _hardware():
    try:
        with open(HARDWARE) as fh:
            return json.load(fh)
    except OSError:
        return {"disks": [], "raids": [], "frontend": False}


def _mb(size):
    """parted's print form of a byte count, as Rocks stored it ('8001MB')."""
    return "%dMB" % round(size / 1000.0 / 1000.0)


class RocksPartition:
    saved_fstab = []
    raidinfo = ""
    mountpoints = []

    # --- what the installer found ----------------------------------------------------------
    def _discovered(self, key):
        try:
            with open("/tmp/discovered.disks") as fh:
                for line in fh:
                    name, _, rest = line.partition(":")
                    if name.strip() == key:
                        return rest.split()
        except OSError:
            pass
        return []

    def getDisks(self):
        return self._discovered("disks")

    def getRaids(self):
        return self._discovered("raids")

    # --- existing partitions ------------------------------------------------------------------
    def getNodePartInfo(self, disks):
        hw = _hardware()
        by_name = dict((d["name"], d) for d in hw["disks"])
        raids = dict((r["name"], r) for r in hw["raids"])
        info = {}
        for disk in disks:
            if disk in raids:
                r = raids[disk]
                parts = " ".join("raid.%s" % m for m in r["members"])
                info[disk] = [
                    (disk, "", "", "", r.get("fstype", ""), parts, "--level=%d" % r["level"], r.get("mountpoint", ""))
                ]
                continue
            d = by_name.get(disk)
            if d is None or not d.get("partitions"):
                info[disk] = [(disk, "", "", "", "", "", "", "")]
                continue
            rows = []
            for p in d["partitions"]:
                mount = p.get("mountpoint", "")
                fstype = p.get("fstype", "")
                if fstype in ("swap", "linux-swap"):
                    fstype, mount = "linux-swap", "swap"
                rows.append((p["device"], str(p["start"]), _mb(p["size"]), "", fstype, p.get("flags", ""), "", mount))
            info[disk] = rows
        return info

    def isRocksDisk(self, partinfo, touchit=0):
        hw = _hardware()
        stamped = set()
        for d in hw["disks"]:
            for p in d.get("partitions", []):
                if p.get("rocks_release"):
                    stamped.add(p["device"])
        for r in hw["raids"]:
            if r.get("rocks_release"):
                stamped.add(r["name"])
        return any(self.getDevice(p) in stamped for p in partinfo)

    def getRaidLevel(self, device):
        for r in _hardware()["raids"]:
            if r["name"] == device:
                return str(r["level"])
        return None

    def getRaidParts(self, device):
        for r in _hardware()["raids"]:
            if r["name"] == device:
                return " ".join("raid.%s" % m for m in r["members"])
        return ""

    def gptDrive(self, devname):
        for d in _hardware()["disks"]:
            if d["name"] == devname:
                return d["size"] > 2 * 1024**4
        return False

    def listDiskPartitionNumbers(self, disk):
        for d in _hardware()["disks"]:
            if d["name"] == disk:
                return [p["device"][len(disk) :] for p in d.get("partitions", [])]
        return []

    # --- the tuple accessors of getNodePartInfo rows -------------------------------------------
    def getDevice(self, p):
        return p[0]

    def getSectorStart(self, p):
        return p[1]

    def getPartitionSize(self, p):
        return p[2]

    def getPartId(self, p):
        return p[3]

    def getFsType(self, p):
        return p[4]

    def getBootFlags(self, p):
        return p[5]

    def getPartitionFlags(self, p):
        return p[6]

    def getMountPoint(self, p):
        return p[7]

    # --- Rocks' default layout -----------------------------------------------------------------
    def RocksGetPartsize(self, mountpoint):
        return {"root": 8000, "var": 4000, "swap": 1000}.get(mountpoint, 0)

    def defaultDataDisk(self, disk):
        n = 1
        while "/state/partition%d" % n in RocksPartition.mountpoints:
            n += 1
        mount = "/state/partition%d" % n
        RocksPartition.mountpoints.append(mount)
        return ["part %s --size=1 --fstype=ext3 --grow --ondisk=%s" % (mount, disk)]

    def defaultRootDisk(self, disk):
        RocksPartition.mountpoints += ["/", "/var", "swap"]
        return [
            "part / --size=%d --fstype=ext3 --ondisk=%s" % (self.RocksGetPartsize("root"), disk),
            "part /var --size=%d --fstype=ext3 --ondisk=%s" % (self.RocksGetPartsize("var"), disk),
            "part swap --size=%d --ondisk=%s" % (self.RocksGetPartsize("swap"), disk),
        ] + self.defaultDataDisk(disk)
