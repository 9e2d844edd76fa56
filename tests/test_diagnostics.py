"""A Diagnostic's line is made once and kept (errors.py): it must be the line its fields give,
and equality, order, hashing and pickling must still see the fields alone."""

from __future__ import annotations

import pickle

from rockscc.errors import Diagnostic


def test_a_diagnostic_line_is_its_fields_formatted():
    cases = [
        (Diagnostic("nodes/a.xml", 3, "m"), "nodes/a.xml:3: warning: m"),
        (Diagnostic("nodes/a.xml", 0, "m", "error"), "nodes/a.xml: error: m"),
        (Diagnostic("", 0, "m"), "warning: m"),
        (Diagnostic("", 7, "m"), ":7: warning: m"),
    ]
    for diagnostic, line in cases:
        assert str(diagnostic) == line and str(diagnostic) == line  # the second time from the kept line


def test_a_kept_line_changes_no_comparison():
    a, b = Diagnostic("f", 1, "m"), Diagnostic("f", 1, "m")
    str(a)  # a keeps its line, b does not
    assert a == b and hash(a) == hash(b) and not a < b and sorted([Diagnostic("e", 9, "z"), a])[1] is a
    assert pickle.loads(pickle.dumps(a)) == b and str(pickle.loads(pickle.dumps(b))) == "f:1: warning: m"
    assert len({a, b}) == 1
