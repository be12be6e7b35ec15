"""The running service's door: a `lateclaim sync` typed while `lateclaim run` is up asks it for a pass.

`lateclaim run` listens on a Unix socket beside the state file (`<state file>.sock`, in the state directory,
which is the user's own, 0700). One request per connection, one line each way:

    "pass"  -> the service makes a pass now (after the one running, if any) and answers with what it did
    "who"   -> "<pid> lateclaim run": a second `run` says who is already there and exits

The service binds the socket while it holds the state file's writer lock, after checking that no other service
answers on it, so two services starting together cannot both listen. A socket left by a killed service answers
nobody (connection refused) and is replaced. `systemctl kill -s USR1 lateclaim` asks for a pass too, without an
answer.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import structlog

log = structlog.get_logger("lateclaim.control")

ANSWER_WAIT = 900.0  # seconds a `sync` waits for the service's answer (a first reading can be long)
PATH_MAX = 100  # sun_path holds 108 bytes: a longer path is reached through the directory's /proc/self/fd link


def socket_path(state: Path) -> Path:
    return state.with_name(state.name + ".sock")


@contextlib.contextmanager
def _address(path: Path) -> Iterator[str]:
    """A path bind() and connect() take: the path itself, or when too long, the same file through an open
    descriptor of its directory (Linux's /proc/self/fd/N/name)."""
    if len(os.fsencode(str(path))) <= PATH_MAX:
        yield str(path)
        return
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{directory}/{path.name}"
    finally:
        os.close(directory)


def ask(state: Path, request: str, timeout: float = ANSWER_WAIT) -> str | None:
    """The running service's answer to `request`; None when no service listens for this state file."""
    path = socket_path(state)
    if not path.exists():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5.0)
        try:
            with _address(path) as address:
                sock.connect(address)
        except (ConnectionRefusedError, FileNotFoundError):  # a socket left by a killed service, or none
            return None
        sock.settimeout(timeout)
        sock.sendall(request.encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return answer.decode("utf-8", "replace").strip()


class ControlServer:
    """Answers requests on the socket in a thread of its own; `handlers` maps a request to its answer."""

    def __init__(self, state: Path, handlers: dict[str, Callable[[], str]]) -> None:
        self.path = socket_path(state)
        self.handlers = handlers
        self.sock: socket.socket | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen (the caller holds the writer lock and knows no other service answers)."""
        self.path.unlink(missing_ok=True)  # left by a killed service
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with _address(self.path) as address:
                sock.bind(address)
            os.chmod(self.path, 0o600)
            sock.listen(8)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        assert self.sock is not None
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:  # closed by stop()
                return
            threading.Thread(target=self._answer, args=(connection,), name="control-request", daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.settimeout(10.0)
                request = b""
                while len(request) < 64 and (chunk := connection.recv(64)):
                    request += chunk
                handler = self.handlers.get(request.decode("ascii", "replace").strip())
                answer = handler() if handler is not None else "unknown request"
                connection.settimeout(ANSWER_WAIT)
                connection.sendall(answer.encode() + b"\n")
            except OSError as exc:  # the asker went away: nothing to answer
                log.info("control_request_dropped", error=str(exc))

    def stop(self) -> None:
        sock, self.sock = self.sock, None
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        self.path.unlink(missing_ok=True)
