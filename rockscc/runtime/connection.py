"""libvirt connections, one per container URI, and libvirt errors turned into user errors."""

from __future__ import annotations

import contextlib

from rockscc.errors import RocksccError

DEFAULT_URI = "xen+ssh://{container}/system"
_connections: dict[str, object] = {}


class Unreachable(RocksccError):
    """A container's libvirt did not answer (down, restarting, or the connection to it broke)."""


def uri_for(cluster, container) -> str:
    template = cluster.resolve_attrs(container).get("libvirt_uri") or DEFAULT_URI
    return template.replace("{container}", container.name)


def connect(cluster, container):
    return connect_uri(uri_for(cluster, container), container.name)


def connect_uri(uri: str, container: str):
    """The cached connection to `uri`, reopened when it broke."""
    import libvirt

    libvirt.registerErrorHandler(_quiet, None)  # errors reach the user as RocksccError, not on stderr
    conn = _connections.get(uri)
    if conn is not None:
        with contextlib.suppress(libvirt.libvirtError):
            if conn.isAlive():
                return conn
        _connections.pop(uri, None)
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise Unreachable(f"cannot reach VM container {container} at {uri}: {_message(exc)}") from None
    _connections[uri] = conn
    return conn


@contextlib.contextmanager
def libvirt_errors(vm: str, container: str, action: str):
    """Turn a libvirt failure into one line naming the VM, the container and what was tried."""
    import libvirt

    try:
        yield
    except libvirt.libvirtError as exc:
        kind = Unreachable if broken_connection(exc) else RocksccError
        raise kind(f"{action} VM {vm} on {container}: {_message(exc)}") from None


def broken_connection(exc) -> bool:
    import libvirt

    return exc.get_error_domain() in (libvirt.VIR_FROM_RPC, libvirt.VIR_FROM_REMOTE) and exc.get_error_code() in (
        libvirt.VIR_ERR_SYSTEM_ERROR,
        libvirt.VIR_ERR_RPC,
        libvirt.VIR_ERR_NO_CONNECT,
        libvirt.VIR_ERR_INVALID_CONN,
        libvirt.VIR_ERR_INTERNAL_ERROR,
    )


def _quiet(_ctx, _error) -> None:
    pass


def _message(exc) -> str:
    return (exc.get_error_message() or str(exc)).strip()


def forget_connections() -> None:
    """Drop cached connections (tests: libvirt's test driver keeps state per connection)."""
    _connections.clear()
