"""Reading Rocks XML files safely and as Rocks did.

- any line containing `<?xml` is blanked before parsing (Rocks dropped them; keeping the line
  keeps every later line number right), even inside CDATA;
- `&name;` attribute entities (Rocks 5.2+) are not declared anywhere in the files: they are
  turned into placeholders the expander fills per host, so one parse serves every host;
- no DTD loading, no network, no entity resolution, comments and processing instructions dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from rockscc.errors import RocksccError

ENTITY_OPEN, ENTITY_CLOSE = "\ue000", "\ue001"  # private-use characters: cannot occur in real files
_PREDEFINED = {"lt", "gt", "amp", "quot", "apos"}
_ENTITY = re.compile(r"&([A-Za-z_][A-Za-z0-9_.:-]*);")
ENTITY_REF = re.compile(f"{ENTITY_OPEN}([^{ENTITY_CLOSE}]*){ENTITY_CLOSE}")

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    remove_comments=True,
    remove_pis=True,
    strip_cdata=True,
    huge_tree=False,
)


def _protect_entities(text: str) -> str:
    def swap(match: re.Match) -> str:
        name = match[1]
        return match[0] if name in _PREDEFINED else f"{ENTITY_OPEN}{name}{ENTITY_CLOSE}"

    return _ENTITY.sub(swap, text)


def read_xml(path: Path, display: str) -> etree._Element:
    """Parse a node or graph file; errors name `display:line`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RocksccError(f"{display}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_xml_text(text, display)


def parse_xml_text(text: str, display: str) -> etree._Element:
    lines = ["" if "<?xml" in line else line for line in text.split("\n")]
    text = _protect_entities("\n".join(lines))
    text = re.sub(r"<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", lambda m: "\n" * m[0].count("\n"), text, flags=re.S)
    try:
        return etree.fromstring(text.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        message = re.sub(r",? line \d+, column \d+.*$", "", exc.msg or str(exc))
        raise RocksccError(f"{display}:{line}: XML error: {message}") from None


def entity_names(text: str) -> set[str]:
    return set(ENTITY_REF.findall(text))
