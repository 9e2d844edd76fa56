"""The state of every VM, container by container, in bounded time: each container is asked once
for all its domains (one connection, one call), all containers at the same time, and one that has
not answered when the time is up is reported, not waited for."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from rockscc.errors import RocksccError
from rockscc.runtime.connection import connect_uri, uri_for
from rockscc.runtime.vms import status_of


@dataclass
class _Ask:
    container: str
    uri: str
    states: dict[str, str | None] = field(default_factory=dict)
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def __call__(self) -> None:
        import libvirt

        try:
            conn = connect_uri(self.uri, self.container)
            for dom, stats in conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE, 0):
                self.states[dom.name()] = status_of(stats.get("state.state", 0))
        except RocksccError as exc:
            self.error = str(exc)
        except libvirt.libvirtError as exc:
            self.error = f"asking VM container {self.container} at {self.uri}: {exc.get_error_message()}"
        finally:
            self.done.set()


def vm_states(cluster, containers, timeout: float) -> tuple[dict[str, dict[str, str | None]], dict[str, str]]:
    """(container name → {domain name → STATUS or None}, container name → why it did not answer).
    A container that does not answer within `timeout` seconds is given up on (its thread is left
    to finish on its own: libvirt offers no way to cancel a connection attempt)."""
    asks = [_Ask(c.name, uri_for(cluster, c)) for c in containers]
    for ask in asks:
        threading.Thread(target=ask, name=f"rockscc-status-{ask.container}", daemon=True).start()
    deadline = time.monotonic() + timeout
    states, errors = {}, {}
    for ask in asks:
        if not ask.done.wait(max(0.0, deadline - time.monotonic())):
            errors[ask.container] = f"VM container {ask.container} at {ask.uri} did not answer within {timeout:g} s"
        elif ask.error:
            errors[ask.container] = ask.error
        else:
            states[ask.container] = ask.states
    return states, errors
