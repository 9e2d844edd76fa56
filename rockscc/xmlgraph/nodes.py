"""Finding node files across overlays: `N.xml`, then `extend-N.xml` appended, or `replace-N.xml`
alone; a later overlay (site over rolls over base) wins for each of the three names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rockscc.errors import Diagnostic
from rockscc.model.overlay import Overlay


@dataclass(frozen=True)
class NodeSource:
    """One node file as used: where it is and how it is shown (`nodes/compute.xml (base)`)."""

    path: Path
    display: str  # nodes/compute.xml
    overlay: str  # base | <roll> | site

    def __str__(self) -> str:
        return f"{self.display} ({self.overlay})"


class NodeIndex:
    """Which files define each node name, resolved once for all hosts."""

    def __init__(self, overlays: list[Overlay]) -> None:
        self.found: dict[str, dict[str, list[NodeSource]]] = {}  # name -> kind -> sources, overlay order
        for overlay in overlays:
            for path in overlay.xml_files(overlay.nodes_dir()):
                kind, name = _split(path.stem)
                source = NodeSource(path, f"nodes/{path.name}", overlay.name)
                self.found.setdefault(name, {}).setdefault(kind, []).append(source)

    def sources(self, name: str) -> list[NodeSource] | None:
        """The files that make node `name`, in parse order; None if it has no node file."""
        kinds = self.found.get(name, {})
        if "replace" in kinds:
            return [kinds["replace"][-1]]
        if "plain" not in kinds:
            return None
        chosen = [kinds["plain"][-1]]
        if "extend" in kinds:
            chosen.append(kinds["extend"][-1])
        return chosen

    def shadowed(self) -> list[Diagnostic]:
        """Files hidden by a same-named file of a later overlay (last wins, as in Rocks)."""
        notes = []
        for _name, kinds in sorted(self.found.items()):
            for sources in kinds.values():
                for hidden in sources[:-1]:
                    notes.append(
                        Diagnostic(hidden.display, 0, f"node file of {hidden.overlay} is shadowed by {sources[-1]}")
                    )
        return notes

    def names(self) -> set[str]:
        return {n for n, kinds in self.found.items() if "plain" in kinds or "replace" in kinds}


def _split(stem: str) -> tuple[str, str]:
    for prefix in ("extend", "replace"):
        if stem.startswith(prefix + "-"):
            return prefix, stem[len(prefix) + 1 :]
    return "plain", stem
