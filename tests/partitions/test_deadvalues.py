"""canonical(): which unread constants are blanked, and every way a program keeps its text."""

from __future__ import annotations

import pytest

from rockscc.partitions.deadvalues import canonical


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "import rocks_partition\nnodename = 'compute-0-1'\np = rocks_partition.RocksPartition()\n",
            "import rocks_partition\nnodename = ''\np = rocks_partition.RocksPartition()\n",
        ),
        (
            "from os import path\nname = 'é-ü'  # bytes, not characters\ny = 1\n",
            "from os import path\nname = ''  # bytes, not characters\ny = 1\n",
        ),
    ],
)
def test_unread_module_constants_are_blanked(body, expected):
    assert canonical(body) == expected


@pytest.mark.parametrize(
    "why, body",
    [
        ("read by name", "x = 'a'\nprint(x)\n"),
        ("read in an f-string", "x = 'a'\nprint(f'{x}')\n"),
        ("a parameter of that name", "x = 'a'\ndef f(x):\n    return x\n"),
        ("declared global", "x = 'a'\ndef f():\n    global x\n    x = 'b'\n"),
        ("bound twice", "x = 'a'\nx = 'b'\n"),
        ("deleted", "x = 'a'\ndel x\n"),
        ("a function of that name", "x = 'a'\ndef x():\n    pass\n"),
        ("over several lines", "x = '''a\nb'''\n"),
        ("globals()", "x = 'a'\nprint('%(x)s' % globals())\n"),
        ("eval", "x = 'a'\neval('x')\n"),
        ("getattr", "import os\nx = 'a'\ngetattr(os, 'x')\n"),
        ("sys", "import sys\nx = 'a'\n"),
        ("an unlisted import", "import pickle\nx = 'a'\n"),
        ("a relative import", "from . import y\nx = 'a'\n"),
        ("/proc", "x = 'a'\nopen('/proc/self/cmdline').read()\n"),
        ("the sandbox's own directory", "x = 'a'\nopen('/tmp/.rockscc/pre').read()\n"),
        ("Python 2", "print 'hello'\nx = 'a'\n"),
        ("not a string", "x = 5\n"),
    ],
)
def test_programs_that_might_read_their_values_are_kept_as_written(why, body):
    assert canonical(body) == body, why
