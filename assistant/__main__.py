"""``python -m assistant``: the ``hfa`` command line."""

from assistant.cli import main

main(prog_name="hfa")
