"""rockscc: compile a Rocks-style cluster description into install and boot artifacts."""

__version__ = "0.1.0"
