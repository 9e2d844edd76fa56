"""Every node-file tag and attribute the compiler handles, on small hand-written trees."""

from __future__ import annotations

import re

import pytest

from rockscc.model import transaction
from tests.conftest import run_cli
from tests.xmlgraph.conftest import write

GRAPH = """<?xml version="1.0"?>
<graph>
<edge from="compute" to="{node}"/>
<edge from="server" to="{node}"/>
</graph>
"""


def profile(root, node_xml: str, *args: str, node: str = "t", host: str = "compute-0-0"):
    write(root, "graphs/default/g.xml", GRAPH.format(node=node))
    write(root, "nodes/compute.xml", "<kickstart/>\n")
    write(root, "nodes/server.xml", "<kickstart/>\n")
    write(root, f"nodes/{node}.xml", node_xml)
    return run_cli("-C", str(root), "list", "host", "profile", host, *args)


def ok(result) -> str:
    assert result.rc == 0, result.err
    return result.out


def section(text: str, header: str) -> list[str]:
    """Bodies of every section whose header line starts with `header`."""
    bodies = re.split(r"^(%\w+.*)$", text, flags=re.M)
    return [bodies[i + 1] for i in range(1, len(bodies) - 1, 2) if bodies[i].startswith(header)]


def test_var_plain_val_ref_and_undefined(bare):
    out = ok(
        profile(
            bare,
            """<kickstart>
<post>host=<var name="Node_Hostname"/> rack=<var name="rack"/></post>
<var name="Greeting" val="hello"/>
<var name="Copy" ref="Node_Membership"/>
<post>g=<var name="Greeting"/> c=<var name="Copy"/> u=[<var name="Nope"/>]</post>
</kickstart>""",
        )
    )
    assert "host=compute-0-0 rack=0" in out
    assert "g=hello c=Compute u=[]" in out


def test_undefined_var_is_a_warning_in_check(bare):
    profile(bare, '<kickstart><post><var name="Nope"/></post></kickstart>')
    result = run_cli("-C", str(bare), "check")
    assert 'nodes/t.xml: warning: <var name="Nope"/> is undefined' in result.out


def test_entities_from_attributes_and_undefined_entity_error(bare):
    out = ok(profile(bare, "<kickstart><post>tz=&Kickstart_Timezone; lt=&lt;</post></kickstart>"))
    assert "tz=America/Los_Angeles lt=<" in out
    result = profile(bare, "<kickstart>\n<post>\nx=&NoSuchAttr;\n</post></kickstart>")
    assert result.rc == 1
    assert "nodes/t.xml:3: undefined entity &NoSuchAttr;" in result.err


@pytest.mark.parametrize(
    "cond,expected",
    [
        ("rack == 0", True),
        ("rack != 0", False),
        ("rack &lt; 1 and not missing", True),
        ("missing is None", True),
        ("missing is not None", False),
        ("flag", True),
        ("flag == False", False),
        ('(rack &gt;= 1) or membership == "Compute"', True),
        ("cpus &lt;= 0.5", False),
    ],
)
def test_cond_grammar(bare, cond, expected):
    with transaction(bare) as cluster:
        cluster.hosts["compute-0-0"].attrs["flag"] = "yes"
    out = ok(profile(bare, f"<kickstart><post cond='{cond}'>MARK</post></kickstart>"))
    assert ("MARK" in out) is expected


def test_bad_cond_syntax_is_located(bare):
    result = profile(bare, '<kickstart>\n<post cond="rack ==">x</post></kickstart>')
    assert result.rc == 1
    assert "nodes/t.xml" in result.err and "cond" in result.err


def test_arch_and_os_lists_with_spaces(bare):
    out = ok(
        profile(
            bare,
            """<kickstart>
<post arch="i386, x86_64">A1</post><post arch="ia64">A2</post>
<post os="linux">O1</post><post os="sunos">O2</post>
<package arch="x86_64">pkg-x86</package><package arch="i386">pkg-i386</package>
</kickstart>""",
        )
    )
    assert "A1" in out and "A2" not in out and "O1" in out and "O2" not in out
    assert "pkg-x86" in out and "pkg-i386" not in out


def test_packages_meta_disable_and_order(bare):
    out = ok(
        profile(
            bare,
            """<kickstart>
<package>zsh</package><package type="meta">Base</package><package>Apple</package>
<package disable="yes">bad</package><package disable="no">alsobad</package>
<package disable="1">zsh</package>
</kickstart>""",
        )
    )
    packages = out.split("%packages --ignoremissing\n", 1)[1].split("\n\n")[0].splitlines()
    assert packages == ["@Base", "Apple", "zsh", "-alsobad", "-bad"]  # an enable beats a disable


def test_pre_post_arg_interpreter_and_three_posts(bare):
    out = ok(
        profile(
            bare,
            """<kickstart>
<pre arg="--interpreter /usr/bin/python">print(1)</pre>
<post interpreter="/bin/bash">echo two</post>
<post arg="--nochroot">echo three</post>
</kickstart>""",
        )
    )
    assert "%pre --interpreter /usr/bin/python\nprint(1)" in out
    assert re.search(r"%post --interpreter[= ]/bin/bash\necho two", out)
    assert "%post --nochroot\necho three" in out
    # Rocks 5.0: each <post> is framed by log markers in their own %post sections
    assert out.count("%post") >= 3 * 2


def test_file_tag_here_doc_modes_owner_perms_vars_expr(bare):
    out = ok(
        profile(
            bare,
            """<kickstart><post>
<file name="/etc/a b" perms="0600" owner="root:root">literal $HOME &amp; &hostname;</file>
<file name="/etc/c" mode="append" vars="expanded">$HOME</file>
<file name="/etc/d" expr="date"/>
<file name="/etc/e"/>
</post></kickstart>""",
        )
    )
    assert "cat > '/etc/a b' << 'EOF'\nliteral $HOME & compute-0-0\nEOF" in out
    assert "chmod 0600 '/etc/a b'" in out and "chown root:root '/etc/a b'" in out
    assert "cat >> /etc/c << EOF\n$HOME\nEOF" in out
    assert "date > /etc/d" in out
    assert "touch /etc/e" in out


def test_main_whitelist_debug_and_dropped_elements(bare):
    result = profile(
        bare,
        """<kickstart>
<description>gone</description><changelog>gone</changelog><copyright>gone</copyright>
<main><lang>en_US</lang><timezone>UTC</timezone><frobnicate>x</frobnicate></main>
<debug>look here</debug>
<screen-title>installer DSL</screen-title><screen><title>x</title></screen>
<bogus>?</bogus>
</kickstart>""",
    )
    out = ok(result)
    assert "lang en_US" in out and "timezone UTC" in out and "frobnicate" not in out
    assert "# look here" in out and "gone" not in out and "installer DSL" not in out
    assert "<frobnicate> is not a kickstart command" in result.err
    assert "nodes/t.xml:6: warning: unknown element <bogus> ignored" in result.err


def test_include_and_sinclude(bare):
    write(bare, "include/motd.txt", "hello from include\n")
    out = ok(
        profile(
            bare,
            """<kickstart><post>
<include file="motd.txt"/><sinclude file="absent.txt"/>
</post></kickstart>""",
        )
    )
    assert "hello from include" in out
    result = profile(bare, '<kickstart>\n<post><include file="absent.txt"/></post></kickstart>')
    assert result.rc == 1 and 'nodes/t.xml:2: <include file="absent.txt">' in result.err


def test_several_xml_declarations_cdata_and_comments(bare):
    out = ok(
        profile(
            bare,
            """<?xml version="1.0"?>
<?xml version="1.0" standalone="no"?>
<kickstart>
<!-- a comment -->
<post><![CDATA[
if [ 1 < 2 ]; then echo "<?xml dropped, as Rocks dropped every such line"; fi
echo kept
]]></post>
</kickstart>""",
        )
    )
    assert "echo kept" in out and "dropped" not in out


def test_eval_quote_xml_and_disabled(bare):
    node = """<kickstart>
<post>E=<eval>echo "$Node_Hostname-$rack"</eval></post>
<eval mode="xml">echo '&lt;post&gt;FROM-XML-EVAL&lt;/post&gt;'</eval>
</kickstart>"""
    out = ok(profile(bare, node))
    assert "E=compute-0-0-0" in out and "FROM-XML-EVAL" in out
    result = profile(bare, node, "eval=no")
    out = ok(result)
    assert "# rockscc: <eval> from nodes/t.xml:2 not run" in out
    assert result.err.count("not run") == 2


def test_eval_failure_names_file_line_and_stderr(bare):
    with transaction(bare) as cluster:
        cluster.attrs["rocks_eval_errors"] = "fail"
    result = profile(bare, "<kickstart>\n\n<post><eval>echo boom >&amp;2; exit 3</eval></post></kickstart>")
    assert result.rc == 1
    assert "nodes/t.xml:3" in result.err and "boom" in result.err


def test_eval_output_holding_a_nul_byte_is_an_error(bare):
    """A NUL byte in a kickstart: the installer's shell drops it, its parser may stop there, and
    pykickstart lets it through — so the build stops at the eval instead."""
    result = profile(bare, "<kickstart>\n<post>X=<eval>printf 'a\\000b'</eval></post></kickstart>")
    assert result.rc == 1, result.out
    assert "nodes/t.xml:2: <eval> printed a NUL byte (byte 1 of its output): a kickstart is text" in result.err
    assert "\0" not in result.out


def test_eval_output_that_is_not_utf8_is_replaced_with_a_warning(bare):
    """A Latin-1 file cat'ed by an eval: Rocks passed the bytes on raw; rockscc writes U+FFFD
    for each and says so at the eval's file:line."""
    out = profile(bare, "<kickstart>\n<post>X=<eval>printf 'caf\\351'</eval></post></kickstart>")
    assert "X=caf\ufffd" in ok(out)
    assert "nodes/t.xml:2: warning: <eval> output is not UTF-8 (byte 3 first)" in out.err, out.err


def test_eval_has_no_network(bare):
    """The eval's network namespace has a loopback device and nothing else."""
    result = profile(
        bare,
        """<kickstart><post>NET=<eval>tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' \\n'</eval></post></kickstart>""",
    )
    out = ok(result)
    assert "NET=lo\n" in out


def test_eval_can_run_rockscc_commands_as_rocks(bare):
    out = ok(
        profile(
            bare,
            "<kickstart><post>H=<eval>rocks list host compute-0-0 output-header=no output-col=rack</eval></post></kickstart>",
        )
    )
    assert re.search(r"H=0\s", out)


def test_xml_syntax_error_is_located(bare):
    result = profile(bare, "<kickstart>\n<post>\n</pots></kickstart>")
    assert result.rc == 1 and "nodes/t.xml:3" in result.err


def test_extend_and_replace_node_files(bare):
    write(bare, "nodes/extend-t.xml", "<kickstart><post>EXTENDED</post></kickstart>")
    out = ok(profile(bare, "<kickstart><post>ORIGINAL</post></kickstart>"))
    assert out.index("ORIGINAL") < out.index("EXTENDED")
    write(bare, "nodes/replace-t.xml", "<kickstart><post>REPLACED</post></kickstart>")
    out = ok(profile(bare, "<kickstart><post>ORIGINAL</post></kickstart>"))
    assert "REPLACED" in out and "ORIGINAL" not in out and "EXTENDED" not in out


def test_rocks_evals_calling_opt_rocks_bin_rocks_run_rockscc(bare):
    """The corpus' grub-client reads boot flags with /opt/rocks/bin/rocks at generation time."""
    from tests.conftest import run_cli as cli

    assert cli("-C", str(bare), "set", "host", "bootflags", "compute-0-0", "flags=dom0_mem=1024M ucsd=rocks").rc == 0
    out = ok(
        profile(
            bare,
            """<kickstart><post>
<eval mode="xml">
BOOTFLAGS=`/opt/rocks/bin/rocks report host bootflags $Node_Hostname`
echo "args = \\"$BOOTFLAGS\\""
</eval>
</post></kickstart>""",
        )
    )
    assert 'args = "dom0_mem=1024M ucsd=rocks"' in out


@pytest.mark.parametrize(
    "name, make",
    [
        ("/etc/hostname", None),
        ("../cluster.toml", None),
        ("sub/../../cluster.toml", None),
        ("leak.txt", lambda root: (root / "include" / "leak.txt").symlink_to("/etc/hostname")),
        ("dir/x.txt", lambda root: (root / "include" / "dir").symlink_to("/etc")),
    ],
)
def test_an_include_reads_nothing_outside_the_trees(bare, name, make):
    """<include> names a file under include/ of the description or a roll: an absolute path, a
    `..`, or a link (file or folder) out of the tree is one error naming the node file's line."""
    (bare / "include").mkdir(exist_ok=True)
    if make is not None:
        make(bare)
    result = profile(bare, f'<kickstart>\n<post>\n<include file="{name}"/></post></kickstart>')
    assert result.rc == 1 and result.err.count("\n") == 1, result.err
    assert result.err.startswith(f'error - nodes/t.xml:3: <include file="{name}">: '), result.err
    assert "Traceback" not in result.err and result.out == ""


def test_a_link_inside_the_tree_is_followed(bare):
    write(bare, "include/real.txt", "REAL TEXT\n")
    (bare / "include" / "alias.txt").symlink_to("real.txt")
    assert "REAL TEXT" in ok(profile(bare, '<kickstart><post><include file="alias.txt"/></post></kickstart>'))


@pytest.mark.parametrize("where", ["nodes/leak.xml", "graphs/default/leak.xml", "nodes"])
def test_node_and_graph_files_are_read_only_inside_the_trees(bare, tmp_path, where):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.xml").write_text("<kickstart><post>OUTSIDE-SECRET</post></kickstart>\n")
    profile(bare, "<kickstart/>\n")  # the node tree, before the link goes in
    link = bare / where
    if where == "nodes":
        for path in link.iterdir():
            (outside / path.name).write_text(path.read_text())
        __import__("shutil").rmtree(link)
        link.symlink_to(outside)
    else:
        link.symlink_to(outside / "leak.xml")
    result = run_cli("-C", str(bare), "list", "host", "profile", "compute-0-0")
    assert result.rc == 1 and result.err.count("\n") == 1, result.err
    assert result.err.startswith(f"error - {where}") and "leads outside" in result.err, result.err
    assert "OUTSIDE-SECRET" not in result.out
