"""sd_notify(3) without a dependency: one datagram to $NOTIFY_SOCKET, nothing when it is unset.

Never blocks: the socket is non-blocking, so a notify socket nobody reads (its queue full) or a vanished one
costs a dropped message, not a frozen daemon that ignores SIGTERM. systemd only misses a STATUS line or a
watchdog ping, which it will get with the next one.
"""

from __future__ import annotations

import os
import socket


def notify(*lines: str) -> bool:
    """True when the message was handed to the socket; False when there is none, or it could not take it now."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # Linux abstract namespace
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.connect(address)
            sock.send("\n".join(lines).encode())  # a datagram goes whole or not at all
    except OSError:  # BlockingIOError (queue full), ConnectionRefusedError, FileNotFoundError...
        return False
    return True
