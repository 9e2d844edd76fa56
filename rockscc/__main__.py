import sys

from rockscc.cli.main import main

sys.exit(main())
