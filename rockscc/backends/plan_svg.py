"""Partition plans drawn as disk bars: one bar per disk, partitions to scale, labelled."""

from __future__ import annotations

from xml.sax.saxutils import escape

from rockscc.model import format_size

WIDTH, BAR, GAP, LEFT = 900, 44, 26, 80
COLOURS = {
    "ext3": "#9ecae1",
    "ext4": "#9ecae1",
    "xfs": "#a1d99b",
    "swap": "#fdae6b",
    "raid": "#bcbddc",
    "lvmpv": "#c7e9c0",
    "extended": "#eeeeee",
}


def plan_svg(host: str, plan: dict) -> str:
    disks = plan["disks"]
    height = GAP + len(disks) * (BAR + GAP) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + LEFT + 20}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<text x="10" y="16" font-size="13" font-weight="bold">{escape(host)}: partition plan ({escape(plan.get("scheme", ""))})</text>',
    ]
    for i, disk in enumerate(disks):
        y = GAP + 10 + i * (BAR + GAP)
        scale = WIDTH / disk["sectors"]
        out.append(f'<text x="10" y="{y + BAR / 2 + 4}">{escape(disk["name"])}</text>')
        out.append(f'<rect x="{LEFT}" y="{y}" width="{WIDTH}" height="{BAR}" fill="white" stroke="#444"/>')
        out.append(
            f'<text x="{LEFT}" y="{y + BAR + 12}" fill="#666">{escape(disk["label"])}, '
            f"{format_size(disk['size'])}, {disk['sectors']} sectors</text>"
        )
        for part in (p for p in plan["partitions"] if p["disk"] == disk["name"] and p["kind"] != "extended"):
            x = LEFT + part["start"] * scale
            w = max(1.0, (part["end"] - part["start"] + 1) * scale)
            fill = COLOURS.get(part["fstype"], "#dddddd") if part["format"] else "#fee391"
            label = f"{part['device']} {part['mountpoint']} {format_size(part['size'])}"
            out.append(
                f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{BAR - 4}" fill="{fill}" stroke="#333">'
                f"<title>{escape(label)}: sectors {part['start']}-{part['end']}{'' if part['format'] else ', kept'}</title></rect>"
            )
            if w > 40:
                out.append(f'<text x="{x + 3:.1f}" y="{y + BAR / 2 + 4}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
