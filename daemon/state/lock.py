"""One writer at a time: the lock every command that writes the state file holds, schema creation included.

The lock is an exclusive flock(2) on `<state file>.lock`, taken before the state file is created or migrated and
held until the writing command closes it (a whole pass, a whole backfill, one claim action). The holder writes its
pid and command into the lock file, so that another lateclaim waiting for it can say who it is waiting for. The
kernel drops the lock with the process, so a kill -9 never leaves a stale one.

The file is removed when the lock is released, so that nothing stays beside the state file. That makes the usual
flock race possible (a waiter locks the old file just as the holder unlinks it, while a newcomer creates a new
one); it is closed by checking, once locked, that the file locked is still the one at the path.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from daemon.errors import StateBusy

WAIT = 30.0  # seconds a writer waits for another one before giving up with one line
POLL = 0.05  # seconds between two tries while waiting

command = "lateclaim"  # who we are, as the lock file says it (`lateclaim sync`): daemon.cli sets it


def lock_path(state: Path) -> Path:
    return state.with_name(state.name + ".lock")


def holder(state: Path) -> tuple[int, str] | None:
    """(pid, command) of the process that holds (or last held) the lock, as its lock file says."""
    with contextlib.suppress(OSError, ValueError):
        pid, _, what = lock_path(state).read_text(encoding="utf-8").partition(" ")
        return int(pid), what.strip()
    return None


def busy_message(state: Path) -> str:
    found = holder(state)
    who = f"pid {found[0]}, `{found[1]}`" if found else "another process"
    return f"another lateclaim ({who}) is using {state}"


class WriterLock:
    """The state file's writer lock; `acquire` waits up to `wait` seconds, then raises StateBusy (a StoreError):
    'another lateclaim (pid N, `lateclaim run`) is using PATH'."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.path = lock_path(state)
        self.fd: int | None = None

    def acquire(self, wait: float = WAIT) -> WriterLock:
        deadline = time.monotonic() + wait
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    raise StateBusy(busy_message(self.state)) from None
                time.sleep(POLL)
                continue
            except BaseException:
                os.close(fd)
                raise
            if self._still_there(fd):
                break
            os.close(fd)  # its holder removed it as we locked it: lock the one at the path now
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {command}\n".encode())
        self.fd = fd
        return self

    def _still_there(self, fd: int) -> bool:
        try:
            there = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):  # unlinked while still locked: a waiter then finds it gone, see above
            self.path.unlink()
        os.close(fd)  # closing drops the flock

    def __enter__(self) -> WriterLock:
        return self.acquire() if self.fd is None else self

    def __exit__(self, *exc: object) -> None:
        self.release()
