"""A profile as expanded XML, as Rocks' kpp printed it before kgen: every element carries the
node file and line it came from (`list host xml`, `list node xml`)."""

from __future__ import annotations

from lxml import etree

from rockscc.xmlgraph.profile import Profile


def profile_xml(profile: Profile, root: str) -> str:
    top = etree.Element("kickstart", host=profile.host, root=root)
    for node in profile.nodes:
        top.append(etree.Comment(f" {node} "))
    for line, origin in profile.main:
        tag, _, text = line.partition(" ")
        etree.SubElement(top, "main", file=origin, command=tag).text = text
    for name in sorted(profile.packages):
        etree.SubElement(top, "package").text = name
    for name in sorted(profile.disabled):
        etree.SubElement(top, "package", disable="yes").text = name
    for script in profile.pre + profile.post:
        element = etree.SubElement(top, script.kind, file=script.origin)
        if script.arg:
            element.set("arg", script.arg)
        if script.interpreter:
            element.set("interpreter", script.interpreter)
        element.text = etree.CDATA(script.body) if "]]>" not in script.body else script.body
    for body in profile.boot_pre + profile.boot_post:
        etree.SubElement(top, "boot").text = body
    etree.indent(top, space="  ")
    return etree.tostring(top, encoding="unicode", xml_declaration=False)
