"""lateclaim's daemon: configuration, mailbox, state, scheduling and the command line."""

# The one place the version is written: pyproject.toml reads it from here, and `--version` and the IMAP ID
# command print it without importlib.metadata, which would cost every start a scan of the installed packages.
__version__ = "0.1.0"
