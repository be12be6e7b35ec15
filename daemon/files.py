"""Files lateclaim writes for the user (a report, a printed letter, a token, the demo's drafts): whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def write_whole(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all, readable by its owner only (0600, whatever the umask).

    The bytes go to a temporary file beside it, reach the disk, and are renamed over `path`: a crash or a full disk
    leaves the old file or the new one, never half of one, and a failed write leaves no temporary behind."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600), "wb") as out:
            os.fchmod(out.fileno(), 0o600)  # a leftover temporary keeps its mode; the umask may take bits away
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
