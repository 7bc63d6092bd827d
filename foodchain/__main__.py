"""``python -m foodchain``: the same command line as ``foodchain``."""

from foodchain.cli import app

app(prog_name="foodchain")
