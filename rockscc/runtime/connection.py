"""libvirt connections, one per container URI, and libvirt errors turned into user errors."""

from __future__ import annotations

import contextlib

from rockscc.errors import RocksccError

DEFAULT_URI = "xen+ssh://{container}/system"
_connections: dict[str, object] = {}


def uri_for(cluster, container) -> str:
    template = cluster.resolve_attrs(container).get("libvirt_uri") or DEFAULT_URI
    return template.replace("{container}", container.name)


def connect(cluster, container):
    import libvirt

    libvirt.registerErrorHandler(_quiet, None)  # errors reach the user as RocksccError, not on stderr
    uri = uri_for(cluster, container)
    conn = _connections.get(uri)
    if conn is not None:
        with contextlib.suppress(libvirt.libvirtError):
            if conn.isAlive():
                return conn
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise RocksccError(f"cannot reach VM container {container.name} at {uri}: {_message(exc)}") from None
    _connections[uri] = conn
    return conn


@contextlib.contextmanager
def libvirt_errors(vm: str, container: str, action: str):
    """Turn a libvirt failure into one line naming the VM, the container and what was tried."""
    import libvirt

    try:
        yield
    except libvirt.libvirtError as exc:
        raise RocksccError(f"{action} VM {vm} on {container}: {_message(exc)}") from None


def _quiet(_ctx, _error) -> None:
    pass


def _message(exc) -> str:
    return (exc.get_error_message() or str(exc)).strip()


def forget_connections() -> None:
    """Drop cached connections (tests: libvirt's test driver keeps state per connection)."""
    _connections.clear()
