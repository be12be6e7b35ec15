"""The systemd side: the notify protocol on a real datagram socket, and the units' safety settings."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from daemon.systemd import notify
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account

UNITS = sorted((Path(__file__).parents[1] / "systemd").glob("*.service"))


def test_notify_sends_one_datagram_of_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert notify("READY=1", "STATUS=First sync done") is True
        assert server.recv(4096) == b"READY=1\nSTATUS=First sync done"


def test_notify_reaches_an_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"lateclaim-test-{id(monkeypatch)}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        server.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert notify("WATCHDOG=1") is True
        assert server.recv(4096) == b"WATCHDOG=1"


def test_notify_never_blocks_on_a_socket_nobody_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stalled notify socket used to freeze the daemon (a blocking send on a full queue, SIGTERM ignored)."""
    path = tmp_path / "stalled.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))  # and never read: its queue fills after a few datagrams
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        results: list[bool] = []
        sender = threading.Thread(target=lambda: results.extend(notify(f"STATUS={'x' * 4000} {n}")
                                                                for n in range(500)), daemon=True)
        sender.start()
        sender.join(timeout=20)
        assert not sender.is_alive(), "notify blocked on a full socket"
        assert results[0] is True and results[-1] is False  # the first ones delivered, the overflow dropped
        assert server.recv(8192).startswith(b"STATUS=x")


def test_run_stops_on_sigterm_whatever_the_notify_socket_does(tmp_path: Path, imap_account: Account) -> None:
    """The whole daemon, with a notify socket whose queue is already full and that nobody reads: it used to
    block in its first sd_notify and then ignore SIGTERM."""
    path = tmp_path / "stalled.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as filler:
        server.bind(str(path))
        filler.connect(str(path))
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:
                filler.send(b"STATUS=filling the queue")
        config = setup.write_config(tmp_path, imap_account, mailbox={"poll_interval": 3600})
        log = tmp_path / "run.log"
        process = subprocess.Popen([sys.executable, "-m", "daemon.cli", "run", "--config", str(config)],
                                   env={**os.environ, "NOTIFY_SOCKET": str(path)},
                                   stdout=subprocess.DEVNULL, stderr=log.open("w"))
        try:
            setup.wait_for(lambda: '"event": "watching"' in log.read_text(), 30, "the first sync and the watcher")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
        assert code == 0


def test_notify_to_a_vanished_socket_is_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert notify("WATCHDOG=1") is False


def test_notify_does_nothing_outside_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify("READY=1") is False


def settings(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_the_unit_is_a_hardened_notify_service(unit: Path) -> None:
    s = settings(unit)
    assert s["Type"] == ["notify"] and s["NotifyAccess"] == ["main"]
    assert s["WatchdogSec"] and s["Restart"] == ["on-failure"]
    assert s["DynamicUser"] == ["yes"] and s["NoNewPrivileges"] == ["yes"]
    assert s["ProtectSystem"] == ["strict"] and s["CapabilityBoundingSet"] == [""]
    assert any(v.startswith("imap:") for v in s["LoadCredential"])  # the password never sits in the unit
    assert not any("password" in v.lower() for v in s.get("Environment", []))
    assert "--config" in s["ExecStart"][0]
