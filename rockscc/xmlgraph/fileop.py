"""`<file>` to install-time shell, as Rocks' generator wrote it (Rocks 7 core
`rocks/gen.py: Generator.parseFile`; Rocks 5.0 base `src/pylib/gen.py: Generator.parseFile`).

What each attribute does there, and here:
- `expr="CMD"`: `CMD > NAME`, or `CMD >> NAME` with `mode="append"` (the same redirection as
  the body's); then the body, if any, is written after it.
- `mode="create"` (default) `cat > NAME << 'EOF'`; `mode="append"` `cat >> NAME …`; no body:
  `touch NAME`. `vars="expanded"`: an unquoted `EOF`, so the installer's shell expands `$x`.
- `mode="pipe"` (6.2+): the body is a command the file is filtered through: with `src="S"`,
  `cat S | (BODY) > NAME`; without, the file filters itself through a temporary file. Rocks
  named that file with Python's `tempfile.mktemp()` at generation time (a different kickstart
  each time) and moved it over the file; rockscc asks `mktemp` on the installed host (output is
  reproducible) and copies the result back into the file (which keeps its owner and mode).
- `owner=`, `perms=`: `chown`/`chmod` after writing. A later `<file>` of the same name without
  them keeps the earlier ones (Rocks 5.4+ `rcsBegin`: "revert to the previous perms and owner").
- `os=` (Rocks 6.2+; `arch=`, `release=`, `cond=` too in rockscc, which Rocks' generator did not
  test on a nested `<file>`): the file is written only where the filter passes.
Rocks also wrapped every file in RCS check-ins and copied it to /var/rocks; the file's contents,
which is what a node sees, do not depend on either, and rockscc leaves them out.
- `name=` is a shell word, as Rocks wrote it: `$x` and backquotes in it expand at install time
  (`name_word`)."""

from __future__ import annotations

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:,@%")


def quote(value: str) -> str:
    """A word for the shell: as written when it needs no quoting (Rocks never quoted)."""
    if value and all(c in _PLAIN for c in value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def name_word(name: str) -> str:
    """A file's name for the shell. Rocks wrote it unquoted, so the installer's shell expanded it,
    and rolls rely on that: Rocks 7 kubernetes-client.xml writes `<file name="$dockerRegCerts/
    ca.crt">` after setting the variable in the same %post. A name holding `$` or a backquote is
    therefore double-quoted (expanded, but neither split at spaces nor globbed, which no roll wants);
    any other name that needs quoting is single-quoted, taken as written."""
    if ("$" in name or "`" in name) and not any(c in name for c in '"\n') and not name.endswith("\\"):
        return f'"{name}"'
    return quote(name)


def here_doc_word(body: str) -> str:
    """`EOF`, as Rocks wrote, unless a line of the body is exactly that (Rocks' here-doc then
    ended early and the rest ran as commands): then `EOF_1`, `EOF_2`, … the first that is not."""
    lines = set(body.split("\n"))
    word, n = "EOF", 0
    while word in lines:
        n += 1
        word = f"EOF_{n}"
    return word


def render_file(name: str, *, mode: str, expanded: bool, owner: str, perms: str, expr: str, src: str, body: str) -> str:
    """The shell that writes one `<file>` (its values already filled for the host)."""
    target = name_word(name)
    out = ["\n", f'mkdir -p "$(dirname {target})"\n']
    redirect = ">>" if mode == "append" else ">"
    if expr:
        out.append(f"{expr} {redirect} {target}\n")
    has_body = bool(body.strip())
    if not has_body:
        if not expr:
            out.append(f"touch {target}\n")
    elif mode == "pipe":
        command = body.strip()
        if src:
            out.append(f"cat {src} | ({command}) > {target}\n")
        else:
            out.append(
                f'rockscc_pipe=$(mktemp) && cat {target} | ({command}) > "$rockscc_pipe" '
                f'&& cat "$rockscc_pipe" > {target}; rm -f "$rockscc_pipe"\n'
            )
    else:
        word = here_doc_word(body)
        delimiter = word if expanded else f"'{word}'"
        lead = "" if body.startswith("\n") else "\n"
        trail = "" if body.endswith("\n") else "\n"
        out.append(f"cat {redirect} {target} << {delimiter}{lead}{body}{trail}{word}\n")
    if owner:
        out.append(f"chown {quote(owner)} {target}\n")
    if perms:
        out.append(f"chmod {quote(perms)} {target}\n")
    return "".join(out)
