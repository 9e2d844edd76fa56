"""`<file>` inside scripts, as Rocks' generator wrote it: each test names the Rocks function it
follows, and runs the shell the kickstart carries (bash, in a scratch directory) to check the file
a node would end up with, not only the text."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from rockscc.model import transaction
from tests.conftest import CORPUS, run_cli
from tests.xmlgraph.conftest import write
from tests.xmlgraph.test_tags import ok, profile, section


def run_posts(text: str, tmp_path) -> subprocess.CompletedProcess:
    """Run every %post body of a (rhel5-dialect) kickstart in order, as the installer would."""
    script = "set -e\n" + "\n".join(section(text, "%post"))
    return subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=30)


def posts_of(bare, node_xml: str, **attrs: str) -> str:
    if attrs:
        with transaction(bare) as cluster:
            cluster.attrs.update(attrs)
    return ok(profile(bare, node_xml))


def test_os_on_a_nested_file_keeps_only_this_os(bare, tmp_path):
    """Rocks 7 core rocks/gen.py `Generator.parseFile` returns '' for a <file os=X> when X is not the
    generator's os (CVS 1.61: "file tag needs to support os conditionals"): base's mail-client.xml
    appends a Solaris postfix line that must not reach a Linux host."""
    out = posts_of(
        bare,
        f"""<kickstart><post>
<file name="{tmp_path}/main.cf" mode="append" os="linux">linux line</file>
<file name="{tmp_path}/main.cf" mode="append" os="sunos">sunos line</file>
</post></kickstart>""",
    )
    assert "sunos line" not in out
    assert run_posts(out, tmp_path).returncode == 0
    assert (tmp_path / "main.cf").read_text() == "linux line\n"


def test_corpus_mail_client_has_no_solaris_postfix_line(bare):
    """The same rule on the real file: Rocks 7 base nodes/mail-client.xml."""
    shutil.copyfile(CORPUS / "rocks-7/base/nodes/mail-client.xml", bare / "nodes/mail-client.xml")
    text = (bare / "nodes/mail-client.xml").read_text()
    sunos_only = text.split('os="sunos">', 1)[1].split("</file>", 1)[0].strip()
    linux_only = text.split('os="linux">', 1)[1].split("</file>", 1)[0].strip()
    write(bare, "graphs/default/g.xml", '<graph><edge from="compute" to="mail-client"/></graph>')
    write(bare, "nodes/compute.xml", "<kickstart/>")
    out = ok(run_cli("-C", str(bare), "list", "host", "profile", "compute-0-0", "eval=no"))
    assert linux_only == "canonical_maps = hash:/etc/postfix/canonical" and linux_only in out
    assert sunos_only == "canonical_maps = dbm:/etc/postfix/canonical" and sunos_only not in out


@pytest.mark.parametrize("mode, expected", [("append", "old\nexpr\nbody\n"), ("create", "body\n")])
def test_expr_follows_the_mode(bare, tmp_path, mode, expected):
    """Rocks 7 core rocks/gen.py `Generator.parseFile`: `'%s %s %s' % (fileCommand, gt, fileName)`
    with gt = '>>' for mode="append" (Rocks 5.0's parseFile the same): the command's output is
    appended, then the body; with create the body's `cat >` then replaces what expr wrote."""
    (tmp_path / "f").write_text("old\n")
    out = posts_of(
        bare,
        f"""<kickstart><post>
<file name="{tmp_path}/f" mode="{mode}" expr="echo expr">body</file>
</post></kickstart>""",
    )
    assert run_posts(out, tmp_path).returncode == 0
    assert (tmp_path / "f").read_text() == expected


def test_expr_alone_writes_only_its_output(bare, tmp_path):
    """Rocks 7 core rocks/gen.py `Generator.parseFile`: expr and no text → `CMD > NAME` (then a
    `touch`, which changes nothing): Rocks 7 base ssh.xml `<file name="/etc/ssh/sshd_config"
    expr="cat /tmp/sshd_config"/>`."""
    (tmp_path / "src").write_text("a\nb\n")
    out = posts_of(bare, f'<kickstart><post><file name="{tmp_path}/dst" expr="cat {tmp_path}/src"/></post></kickstart>')
    assert run_posts(out, tmp_path).returncode == 0
    assert (tmp_path / "dst").read_text() == "a\nb\n"


def test_pipe_with_src_filters_the_source_into_the_file(bare, tmp_path):
    """Rocks 7 core rocks/gen.py `Generator.parseFile`, mode == 'pipe' with src:
    `cat SRC | (TEXT) > NAME` (the text stripped): the command is run, not written as text."""
    (tmp_path / "in").write_text("keep\ndrop me\nkeep too\n")
    out = posts_of(
        bare,
        f"""<kickstart><post>
<file name="{tmp_path}/out" mode="pipe" src="{tmp_path}/in">
grep -v drop
</file></post></kickstart>""",
    )
    assert "<< " not in section(out, "%post")[1]  # no here-doc: the body is a command
    assert run_posts(out, tmp_path).returncode == 0
    assert (tmp_path / "out").read_text() == "keep\nkeep too\n"


def test_pipe_without_src_filters_the_file_in_place(bare, tmp_path):
    """Rocks 7 core rocks/gen.py `Generator.parseFile`, mode == 'pipe' without src: the file is
    piped through the command into a temporary file that replaces it."""
    target = tmp_path / "conf"
    target.write_text("a=1\nb=2\n")
    target.chmod(0o640)
    out = posts_of(
        bare,
        f"""<kickstart><post>
<file name="{target}" mode="pipe">sed -e s/2/3/</file></post></kickstart>""",
    )
    assert run_posts(out, tmp_path).returncode == 0
    assert target.read_text() == "a=1\nb=3\n"
    assert target.stat().st_mode & 0o777 == 0o640  # rockscc copies back: the file keeps its mode
    again = posts_of(
        bare, f'<kickstart><post><file name="{target}" mode="pipe">sed -e s/2/3/</file></post></kickstart>'
    )
    assert again == out  # Rocks' mktemp() name made each kickstart differ; rockscc's does not


def test_include_inlines_a_file_of_the_description_with_entities(bare, tmp_path):
    """Rocks 6.2+/7 core rocks/profile.py `Pass1NodeHandler.startElement_file`: with include=, the
    named file's contents are put into the <file> (raw XML, so its &attr; are filled in pass 2)."""
    write(bare, "include/motd.txt", "Welcome to &hostname;\n")
    out = posts_of(
        bare, f'<kickstart><post><file name="{tmp_path}/motd" include="include/motd.txt"/></post></kickstart>'
    )
    assert run_posts(out, tmp_path).returncode == 0
    assert (tmp_path / "motd").read_text() == "Welcome to compute-0-0\n"


def test_include_of_a_missing_file_is_empty_and_warned(bare, tmp_path):
    """Rocks 7 `Pass1NodeHandler.startElement_file`: an IOError gives data = '' (silently); rockscc
    gives the same file and a warning naming file:line."""
    result = profile(bare, f'<kickstart>\n<post><file name="{tmp_path}/m" include="include/nope"/></post></kickstart>')
    assert result.rc == 0, result.err
    assert 'nodes/t.xml:2: warning: <file include="include/nope">: no such file' in result.err
    assert run_posts(result.out, tmp_path).returncode == 0
    assert (tmp_path / "m").read_text() == ""


def test_include_rebuilds_when_the_file_appears(bare, tmp_path):
    """The included file is a dependency: creating it later changes the build."""
    node = f'<kickstart><post><file name="{tmp_path}/m" include="include/late.txt"/></post></kickstart>'
    profile(bare, node)
    assert run_cli("-C", str(bare), "build").rc == 0
    write(bare, "include/late.txt", "now here\n")
    assert run_cli("-C", str(bare), "build").rc == 0
    assert "now here" in (bare / "build/kickstart/compute-0-0.ks").read_text()


@pytest.mark.parametrize("path", ["/etc/shadow", "../../etc/passwd"])
def test_include_outside_the_description_is_refused(bare, tmp_path, path):
    """Rocks read any frontend path (`open(include)`); a build reads only the description's files."""
    result = profile(bare, f'<kickstart>\n<post><file name="{tmp_path}/m" include="{path}"/></post></kickstart>')
    assert result.rc == 1
    assert f'nodes/t.xml:2: <file include="{path}">' in result.err and "relative" in result.err


def test_later_file_keeps_the_earlier_owner_and_perms(bare, tmp_path):
    """Rocks core rocks/gen.py `Generator.rcsBegin` (CVS 1.63): 'Revert to the previous perms and
    owner settings for all file tags that do not specify these optional attributes'."""
    out = posts_of(
        bare,
        f"""<kickstart><post>
<file name="{tmp_path}/a" perms="0600" owner="{__import__("os").getuid()}">first</file>
<file name="{tmp_path}/a" mode="append">second</file>
</post></kickstart>""",
    )
    body = section(out, "%post")[1]
    assert body.count("chmod 0600") == 2 and body.count("chown ") == 2
    (tmp_path / "a").write_text("")
    assert run_posts(out, tmp_path).returncode == 0
    assert (tmp_path / "a").read_text() == "first\nsecond\n"
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o600


def test_cond_on_a_nested_file(bare, tmp_path):
    """Rocks 7 base partitions-save-server.xml has two <file cond="rocks_version_major == 6|7">
    of one name; Rocks 7's `Generator.parseFile` tests only os= (both were written, the second
    winning). rockscc tests the cond: only the file for the host's Rocks version is written."""
    node = f"""<kickstart><post>
<file cond="rocks_version_major == 6" name="{tmp_path}/rec">six</file>
<file cond="rocks_version_major == 7" name="{tmp_path}/rec">seven</file>
</post></kickstart>"""
    out = posts_of(bare, node, rocks_version="7.0")
    assert "six" not in out and "seven" in out
    out6 = posts_of(bare, node, rocks_version="6.2")
    assert "six" in out6 and "seven" not in out6


def test_no_body_touches_and_unknown_mode_warns(bare, tmp_path):
    """Rocks 7 `Generator.parseFile`: no text → `touch NAME`; any mode but append/pipe is create."""
    result = profile(
        bare,
        f"""<kickstart>
<post><file name="{tmp_path}/t"/><file name="{tmp_path}/u" mode="weird">x</file></post></kickstart>""",
    )
    assert result.rc == 0
    assert 'nodes/t.xml:2: warning: <file mode="weird">' in result.err
    assert run_posts(result.out, tmp_path).returncode == 0
    assert (tmp_path / "t").read_text() == "" and (tmp_path / "u").read_text() == "x\n"


def test_a_name_holding_a_shell_variable_expands_at_install_time(bare, tmp_path):
    """Rocks wrote `<file name=…>` unquoted (`Generator.parseFile`), so the installer's shell
    expanded it, and rolls count on that: Rocks 7 kubernetes-client.xml sets dockerRegCerts in its
    %post, then writes `<file name="$dockerRegCerts/ca.crt" perms="644">`. The file must land
    there, not in a directory named `$dockerRegCerts`."""
    out = posts_of(
        bare,
        f"""<kickstart><post>
dockerRegCerts={tmp_path}/certs.d/registry:5000
mkdir -p $dockerRegCerts
<file name="$dockerRegCerts/ca.crt" perms="644">cert</file>
spaced="{tmp_path}/two words"
<file name="${{spaced}}/f" mode="append">one file</file>
<file name="`echo {tmp_path}`/from-command">made</file>
</post></kickstart>""",
    )
    result = run_posts(out, tmp_path)
    assert result.returncode == 0, result.stderr
    cert = tmp_path / "certs.d/registry:5000/ca.crt"
    assert cert.read_text() == "cert\n" and oct(cert.stat().st_mode & 0o777) == "0o644"
    assert (tmp_path / "two words/f").read_text() == "one file\n"  # one word: not split at the space
    assert (tmp_path / "from-command").read_text() == "made\n"
    assert not any("$" in path.name or "`" in path.name for path in tmp_path.rglob("*"))


def test_corpus_ifcfg_files_written_per_interface_of_the_loop(bare):
    """The seed release's own base roll: Rocks 5.0 ethers-server-postshell.xml writes
    `<file name="/etc/sysconfig/network-scripts/ifcfg-$NETIF" expr=…>` inside `for NETIF in …`:
    one file per interface, which only an expanded name gives."""
    shutil.copyfile(
        CORPUS / "rocks-5.0/base/nodes/ethers-server-postshell.xml", bare / "nodes/ethers-server-postshell.xml"
    )
    write(bare, "graphs/default/g.xml", '<graph><edge from="compute" to="ethers-server-postshell"/></graph>')
    write(bare, "nodes/compute.xml", "<kickstart/>")
    out = ok(run_cli("-C", str(bare), "list", "host", "profile", "compute-0-0", "eval=no"))
    assert '/opt/rocks/bin/dbreport ifcfg $NETIF $MYHOST > "/etc/sysconfig/network-scripts/ifcfg-$NETIF"' in out
    assert "'/etc/sysconfig/network-scripts/ifcfg-$NETIF'" not in out


def test_a_name_without_expansions_is_taken_as_written(bare, tmp_path):
    """Names needing quotes for other reasons (spaces, quotes, a glob) stay literal: one file each."""
    out = posts_of(
        bare,
        f"""<kickstart><post>
<file name="{tmp_path}/a b">1</file>
<file name="{tmp_path}/it's">2</file>
<file name="{tmp_path}/star*">3</file>
<file name='{tmp_path}/say "$HOME"'>4</file>
</post></kickstart>""",
    )
    assert run_posts(out, tmp_path).returncode == 0
    assert (tmp_path / "a b").read_text() == "1\n" and (tmp_path / "it's").read_text() == "2\n"
    assert (tmp_path / "star*").read_text() == "3\n"
    assert (tmp_path / 'say "$HOME"').read_text() == "4\n"


def test_include_through_a_link_out_of_the_description_is_refused(bare, tmp_path):
    """A link inside include/ to a file elsewhere (a secret of the frontend) is not followed."""
    (tmp_path / "secret").write_text("root:hash\n")
    (bare / "include").mkdir(exist_ok=True)
    (bare / "include" / "innocent").symlink_to(tmp_path / "secret")
    result = profile(
        bare, f'<kickstart>\n<post><file name="{tmp_path}/m" include="include/innocent"/></post></kickstart>'
    )
    assert result.rc == 1 and "leads outside" in result.err and "root:hash" not in result.out


# --- bodies that try to break the here-doc ----------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rockscc.xmlgraph.fileop import render_file  # noqa: E402

LINES = st.lists(
    st.one_of(
        st.sampled_from(["EOF", "EOF_1", "'EOF'", "$HOME", "`date`", "\\", "%end", ""]),
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES, mode=st.sampled_from(["create", "append"]))
def test_any_literal_body_reaches_the_file_exactly(tmp_path, lines, mode):
    """Property: whatever a literal body holds (a line `EOF` included, which ended Rocks' here-doc
    early), running the shell leaves exactly that text in the file."""
    body = "\n".join(lines)
    target = tmp_path / "f"
    target.write_text("")
    shell = render_file(str(target), mode=mode, expanded=False, owner="", perms="", expr="", src="", body=body)
    result = subprocess.run(["bash", "-c", "set -e\n" + shell], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    if not body.strip():
        assert target.read_text() == ""
    else:
        # a body's first line break is the one after `<< 'EOF'` (Rocks: `<file>\ntext\n</file>` is "text\n")
        expected = (body[1:] if body.startswith("\n") else body) + ("" if body.endswith("\n") else "\n")
        assert target.read_text() == expected
