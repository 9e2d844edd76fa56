"""The Rocks release a host is compiled as, and the attributes Rocks' generator supplied itself
for it: `version`, `release`, `rocks_version`, `rocks_release`, `rocks_version_major`,
`distribution` (5.2+ spellings) and `Info_RocksVersion`, `Info_RocksRelease` (5.0's).

Rocks 7 (core `rocks/db/helper.py: getHostAttrs`) adds `rocks_release`, `rocks_version`,
`rocks_version_major` and `version` from the installed rocks-pylib after the database's
attributes; `rocks list node xml` adds `release`, `distribution`, `root`. Node files test them
(`cond="rocks_version_major == 7"`) and print them (base.xml: `Rocks &version; (&release;)`).

rockscc derives them from the attribute `rocks_version` when set (e.g. "6.2"), else from the
host's `kickstart_dialect` (rhel5 → 5.0, rhel6 → 6.2, rhel7 and later → 7.0: the last Rocks). They
are defaults: an attribute of the same name set at any level wins."""

from __future__ import annotations

from rockscc.errors import RocksccError

# release names as Rocks' copyright banners and motd print them (`Rocks 7.0 (Manzanita)`)
RELEASE_NAMES = {
    "5.0": "V",
    "5.1": "V",
    "5.2": "Chimichanga",
    "5.3": "Rolled Tacos",
    "5.4": "Maverick",
    "5.4.3": "Viper",
    "5.5": "Mamba",
    "6.0": "Mamba",
    "6.1": "Emerald Boa",
    "6.1.1": "Sand Boa",
    "6.2": "SideWinder",
    "7.0": "Manzanita",
}
DEFAULT_DIALECT = "rhel5"  # the kickstart dialect of a host whose attributes name none (Rocks 5.0's)
DIALECT_VERSIONS = {"rhel5": "5.0", "rhel6": "6.2"}  # every later dialect: LATEST
LATEST = "7.0"
DERIVED = (
    "rocks_version",
    "rocks_version_major",
    "rocks_release",
    "version",
    "release",
    "distribution",
    "Info_RocksVersion",
    "Info_RocksRelease",
)


def rocks_version_of(attrs: dict[str, str]) -> str:
    explicit = (attrs.get("rocks_version") or "").strip()
    if explicit:
        major = explicit.split(".", 1)[0]
        if not major.isdigit():
            raise RocksccError(f'attribute rocks_version="{explicit}": not a Rocks version such as 5.0, 6.2 or 7.0')
        return explicit
    dialect = attrs.get("kickstart_dialect") or DEFAULT_DIALECT
    return DIALECT_VERSIONS.get(dialect, LATEST)


def rocks_intrinsics(attrs: dict[str, str]) -> dict[str, str]:
    """The Rocks-supplied attributes for a host whose other attributes are `attrs`."""
    version = rocks_version_of(attrs)
    release = RELEASE_NAMES.get(version, "")
    return {
        "rocks_version": version,
        "rocks_version_major": version.split(".", 1)[0],
        "rocks_release": release,
        "version": version,
        "release": release,
        "distribution": "rocks-dist",
        "Info_RocksVersion": version,
        "Info_RocksRelease": release,
    }
