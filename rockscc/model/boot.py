"""Which network-boot action each host gets (Rocks 5.0's pxeboot/pxeaction tables): global
actions overlaid by the host's own rows of the same label, and the host's current action."""

from __future__ import annotations

from rockscc.errors import RocksccError
from rockscc.model.cluster import Cluster
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
    `install` action (what a new node gets before it has a row); other hosts their pxeboot row."""
    if cluster.is_frontend(host):
        install = cluster.pxeactions.get("install")
        return ("install", install) if install else None
    if host.pxeboot is None:
        return None
    return host.pxeboot, action_of(cluster, host, host.pxeboot)
