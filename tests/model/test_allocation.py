"""The allocator a load of ten thousand hosts uses (hosttable.AddressBook.next_ip: it resumes
where it stopped) gives exactly what Rocks' rule gives computed from scratch: the highest
address below broadcast that no host holds and the discovery range does not reserve."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.model.hosttable import AddressBook

NET = ipaddress.IPv4Network("10.0.0.0/27")  # 30 host addresses


def from_scratch(held: dict[str, str], reserved: set[int]) -> str | None:
    used = {int(ipaddress.IPv4Address(ip)) for ip in held.values()}
    for value in range(int(NET.broadcast_address) - 1, int(NET.network_address), -1):
        if value not in used and value not in reserved:
            return str(ipaddress.IPv4Address(value))
    return None


@settings(max_examples=300, deadline=None)
@given(
    ops=st.lists(st.one_of(st.just("allocate"), st.integers(0, 1000), st.just("renumber")), max_size=80),
    reserved=st.sets(st.integers(1, 30), max_size=6),
)
def test_resuming_allocation_equals_the_rule_from_scratch(ops, reserved) -> None:
    reserved_ints = frozenset(int(NET.network_address) + r for r in reserved)
    book, held, made = AddressBook(), {}, 0
    for op in ops:
        if op == "allocate":
            expected = from_scratch(held, set(reserved_ints))
            if expected is None:
                with pytest.raises(RocksccError, match="no free address"):
                    book.next_ip("n", NET, reserved_ints)
                continue
            got = book.next_ip("n", NET, reserved_ints)
            assert got == expected
            made += 1
            held[f"h{made}"] = got
            book.set(f"h{made}", (f"ip={got}", f"name=h{made}"))
        elif op == "renumber" and held:  # an edit that keeps the address but changes the rest
            name = sorted(held)[0]
            book.set(name, (f"ip={held[name]}", f"mac=52:54:00:00:00:{made % 256:02x}"))
        elif isinstance(op, int) and held:  # a host removed: its address is free again
            name = sorted(held)[op % len(held)]
            del held[name]
            book.set(name, ())
