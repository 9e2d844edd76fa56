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
    """A host's partition plan: /tmp/partition-info's text and the planned table."""

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
        self._hardware: dict[int, tuple] = {}  # id(hardware) -> (hardware, its JSON): hosts share a profile's
        self._chains = None  # programs.ChainCache, made on the first plan (programs.py imports the sandbox)

    @property
    def chains(self):
        if self._chains is None:
            from rockscc.partitions.programs import ChainCache

            self._chains = ChainCache()
        return self._chains

    def plan(
        self, pre_scripts: list, hardware: Hardware, host: str, recorded: Sequence[ExistingPartition] = ()
    ) -> PlannedHost:
        import json

        from rockscc.partitions.programs import chain_key

        hardware_json = self._hardware_json(hardware)
        key = (
            chain_key(pre_scripts, hardware_json, host, self.chains),
            json.dumps([encode(p) for p in recorded], sort_keys=True) if recorded else "[]",
        )
        if key not in self._plans:
            self._plans[key] = self._remembered(key, pre_scripts, hardware_json, hardware, host, list(recorded))
        return self._plans[key]

    def _hardware_json(self, hardware: Hardware) -> dict:
        """The hardware as the chain reads it (read only: shared by the hosts of one object)."""
        known = self._hardware.get(id(hardware))
        if known is None or known[0] is not hardware:  # the object kept in the entry: its id stays its own
            hardware_json = encode(hardware)
            hardware_json.setdefault("disks", [])
            hardware_json.setdefault("raids", [])
            if len(self._hardware) > 4096:
                self._hardware.clear()
            known = self._hardware[id(hardware)] = (hardware, hardware_json)
        return known[1]

    def _remembered(
        self,
        key: tuple,
        pre_scripts,
        hardware_json: dict,
        hardware: Hardware,
        host: str,
        recorded: list[ExistingPartition],
    ) -> PlannedHost:
        """A plan from an earlier build's memo (the chain key covers programs and hardware), else
        run the chain and plan it, and remember the result (JSON: a memo entry is data, never code)."""
        import hashlib

        from rockscc.partitions.programs import run_chain

        digest = hashlib.sha256(repr(key).encode()).hexdigest()
        cached = _from_memo(self.memo.get("partition-plan", digest))
        if cached is not None:
            return cached
        planned = _plan(run_chain(pre_scripts, hardware_json, host, self.chains), hardware, host, recorded)
        self.memo.remember("partition-plan", digest, _to_memo(planned))
        return planned


def _to_memo(planned: PlannedHost) -> bytes:
    import json

    return json.dumps(
        {
            "info_text": planned.info_text,
            "plan": planned.plan,
            "scheme": planned.scheme,
            "user_text": planned.user_text,
            "installer_text": planned.installer_text,
            "warnings": [[w.file, w.line, w.message] for w in planned.warnings],
        }
    ).encode()


def _from_memo(data: bytes | None) -> PlannedHost | None:
    """A remembered plan, if the entry has exactly the shape _to_memo writes (else plan again)."""
    import json

    if data is None:
        return None
    try:
        entry = json.loads(data)
        texts = [entry["info_text"], entry["scheme"]]
        optional = [entry["user_text"], entry["installer_text"]]
        warnings = [Diagnostic(str(f), int(n), str(m)) for f, n, m in entry["warnings"]]
        if not (
            all(isinstance(t, str) for t in texts)
            and all(t is None or isinstance(t, str) for t in optional)
            and _plan_shaped(entry["plan"])
        ):
            return None
    except (ValueError, TypeError, KeyError):
        return None
    return PlannedHost(texts[0], entry["plan"], texts[1], optional[0], optional[1], warnings)


_ROW_TYPES = {
    "disk": str,
    "device": str,
    "start": int,
    "end": int,
    "size": int,
    "fstype": str,
    "mountpoint": str,
    "format": bool,
    "kind": str,
}


def _plan_shaped(plan) -> bool:
    """A planned table as layout.Plan.as_json writes it (what plan_rows and the JSON artifact read)."""
    if not isinstance(plan, dict) or not isinstance(plan.get("partitions"), list):
        return False
    return all(
        isinstance(row, dict) and all(isinstance(row.get(k), t) for k, t in _ROW_TYPES.items())
        for row in plan["partitions"]
    )


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
    return PlannedHost(
        decision.text,
        result,
        decision.scheme,
        chain.user_partition_info,
        chain.installer_partition_info,
        list(chain.warnings),
    )


PLAN_HEADER = ["disk", "device", "start", "end", "size", "fstype", "mountpoint", "format"]


def plan_rows(plan: dict) -> list[list]:
    """A planned table as rows under PLAN_HEADER; md and LVM devices have no sectors of their own."""
    from rockscc.model import format_size

    rows = []
    for p in plan["partitions"]:
        on_disk = p["kind"] not in ("raid", "lvm")
        size = format_size(p["size"]) if p["size"] % 1024**2 == 0 else p["size"]
        rows.append(
            [
                p["disk"],
                p["device"],
                p["start"] if on_disk else "",
                p["end"] if on_disk else "",
                size,
                p["fstype"],
                p["mountpoint"],
                "yes" if p["format"] else "no",
            ]
        )
    return rows
