"""Crash points for the crash-safety tests: LATECLAIM_CRASH_AT=<name> kills the process right there.

The tests run a real `lateclaim` with this variable, let it die with SIGKILL (no cleanup, as in a power cut),
restart it, and count what reached the servers. Unset, a crash point does nothing.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("LATECLAIM_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
