import sys

from rockscc.cli.main import entry

sys.exit(entry())
