"""Which network-boot action each host gets (Rocks 5.0's pxeboot/pxeaction tables): global
actions overlaid by the host's own rows of the same label, and the host's current action."""

from __future__ import annotations

from rockscc.errors import RocksccError
from rockscc.model.cluster import Cluster
from rockscc.model.defaults import PRESEED_DIALECTS
from rockscc.model.records import Host, PxeAction


def actions_for(cluster: Cluster, host: Host | None) -> dict[str, PxeAction]:
    """label → action, sorted by label; host rows override global rows of the same label."""
    merged = dict(cluster.pxeactions)
    if host is not None:
        merged.update(host.pxeactions)
    return dict(sorted(merged.items()))


def action_of(cluster: Cluster, host: Host, label: str) -> PxeAction:
    action = actions_for(cluster, host).get(label)
    if action is None:
        raise RocksccError(f"PXE command ({label}) is not defined for host ({host.name})")
    return action


def boot_action(cluster: Cluster, host: Host) -> tuple[str, PxeAction] | None:
    """What the host boots next: the frontend's file is `default`, built from the global
    `install` action (what a new node gets before it has a row); other hosts their pxeboot row.
    A host whose kickstart_dialect names another installer (debian12) boots the action of that
    name (`install debian12`) where one is defined: its installer, not Rocks'."""
    if cluster.is_frontend(host):
        install = cluster.pxeactions.get("install")
        return ("install", install) if install else None
    if host.pxeboot is None:
        return None
    dialect = cluster.attr(host, "kickstart_dialect") or ""
    if dialect in PRESEED_DIALECTS:
        variant = f"{host.pxeboot} {dialect}"
        if variant in actions_for(cluster, host):
            return variant, action_of(cluster, host, variant)
        action = action_of(cluster, host, host.pxeboot)
        if "ks" in (action.args or "").split():
            from rockscc.model.defaults import DEBIAN12_INSTALL_ARGS, DEBIAN12_INSTALL_COMMAND

            raise RocksccError(
                f"host {host.name} (kickstart_dialect={dialect}) would boot action {host.pxeboot}, "
                f"a kickstart installer: add the Debian installer's, e.g. rockscc add host pxeaction "
                f'action="{variant}" command="{DEBIAN12_INSTALL_COMMAND}" '
                f'args="{DEBIAN12_INSTALL_ARGS}"'
            )
        return host.pxeboot, action
    return host.pxeboot, action_of(cluster, host, host.pxeboot)
