"""Programmatic partitioning at build time: run the host's `%pre` chain against its declared
hardware (programs.py), apply Rocks' do_partition rules (do_partition.py), parse the resulting
directives (grammar/partition.py) and plan them on sparse disk images with pyparted (layout.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from rockscc.errors import Diagnostic
from rockscc.model.codec import encode
from rockscc.model.hardware import ExistingPartition, Hardware

if TYPE_CHECKING:  # the session hands the planner its memo; this package never opens one
    from rockscc.memo import Memo


@dataclass
class PlannedHost:
    info_text: str  # /tmp/partition-info
    plan: dict  # the planned table (JSON)
    scheme: str
    user_text: str | None  # what the programs wrote to /tmp/user_partition_info
    installer_text: str | None  # what the kickstart's own %pre chain wrote to /tmp/partition-info
    warnings: list[Diagnostic] = field(default_factory=list)

    @cached_property  # plans are shared by the hosts of a profile: serialized once
    def plan_json(self) -> str:
        import json

        return json.dumps(self.plan, indent=2, sort_keys=True) + "\n"


class Planner:
    """Partition plans for one session (pipeline.Session holds it). Hosts with the same programs,
    hardware and recorded partitions get the same plan, computed once (error messages name the
    first such host); `memo` keeps plans between builds."""

    def __init__(self, memo: Memo) -> None:
        self.memo = memo
        self._plans: dict[tuple, PlannedHost] = {}
        self._chains = None  # programs.ChainCache, made on the first plan (programs.py imports the sandbox)

    @property
    def chains(self):
        if self._chains is None:
            from rockscc.partitions.programs import ChainCache

            self._chains = ChainCache()
        return self._chains

    def plan(self, pre_scripts: list, hardware: Hardware, host: str,
             recorded: Sequence[ExistingPartition] = ()) -> PlannedHost:
        import json

        from rockscc.partitions.programs import chain_key

        hardware_json = encode(hardware)
        hardware_json.setdefault("disks", [])
        hardware_json.setdefault("raids", [])
        key = (chain_key(pre_scripts, hardware_json, host), json.dumps([encode(p) for p in recorded], sort_keys=True))
        if key not in self._plans:
            self._plans[key] = self._remembered(key, pre_scripts, hardware_json, hardware, host, list(recorded))
        return self._plans[key]

    def _remembered(self, key: tuple, pre_scripts, hardware_json: dict, hardware: Hardware, host: str,
                    recorded: list[ExistingPartition]) -> PlannedHost:
        """A plan from an earlier build's memo (the chain key covers programs and hardware), else
        run the chain and plan it, and remember the result."""
        import hashlib
        import pickle

        from rockscc.partitions.programs import run_chain

        digest = hashlib.sha256(repr(key).encode()).hexdigest()
        cached = self.memo.get("partition-plan", digest)
        if cached is not None:
            try:
                return pickle.loads(cached)
            except Exception:  # written by another version of rockscc: plan again
                pass
        planned = _plan(run_chain(pre_scripts, hardware_json, host, self.chains), hardware, host, recorded)
        self.memo.remember("partition-plan", digest, pickle.dumps(planned))
        return planned


def _plan(chain, hardware: Hardware, host: str, recorded: list[ExistingPartition]) -> PlannedHost:
    from rockscc.grammar.partition import parse_directives
    from rockscc.partitions.do_partition import decide
    from rockscc.partitions.layout import plan_layout

    decision = decide(chain.user_partition_info, hardware, recorded)
    directives = parse_directives(decision.text, f"host {host} partition-info")
    plan = plan_layout(directives, hardware, host)
    result = plan.as_json()
    result["scheme"] = decision.scheme
    result["reconnected"] = decision.reconnected
    return PlannedHost(decision.text, result, decision.scheme, chain.user_partition_info, chain.installer_partition_info,
                       list(chain.warnings))


PLAN_HEADER = ["disk", "device", "start", "end", "size", "fstype", "mountpoint", "format"]


def plan_rows(plan: dict) -> list[list]:
    """A planned table as rows under PLAN_HEADER; md and LVM devices have no sectors of their own."""
    from rockscc.model import format_size

    rows = []
    for p in plan["partitions"]:
        on_disk = p["kind"] not in ("raid", "lvm")
        size = format_size(p["size"]) if p["size"] % 1024**2 == 0 else p["size"]
        rows.append([p["disk"], p["device"], p["start"] if on_disk else "", p["end"] if on_disk else "", size,
                     p["fstype"], p["mountpoint"], "yes" if p["format"] else "no"])
    return rows
