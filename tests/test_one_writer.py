"""One writer at a time (issue 18, item 2): lateclaims started together on one state file, in the recommended
setup (folders = [], a Gmail-like All Mail holding Drafts and Sent), each race counted at the servers.

Each race is two real processes started at the same instant on a fresh state file: `sync --once` twice, or
`run` and a `sync` typed while it starts. The processes are forked from the test (no interpreter start-up per
process, so a race costs about one pass) and run lateclaim's own `main`. After each race the letters that
reached Drafts and the SMTP server are counted by Message-ID: each claim's letter exactly once, and no process
may fail (no `table folders already exists`, no `duplicate column`).
"""

from __future__ import annotations

import email
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands.demo import SAMPLE_MAILBOX
from daemon.control import socket_path
from daemon.errors import StateBusy
from daemon.state import lock
from daemon.state.store import Store
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import SmtpServer

AS_OF = "2026-11-24T12:00"
DRAFTS = "[Gmail]/Drafts"
RETAILER = "claims@retailer.example"
MAIL = ("04_fr_commande_lampe.eml", "05_fr_expedie_lampe.eml", "06_fr_livre_lampe.eml",
        "07_uk_ordered_headphones.eml", "08_uk_dispatched_headphones.eml")  # a late parcel, an undelivered one
SYNC_RACES, RUN_RACES = 15, 10  # per mode (draft, send): 2 x (15 + 10) = 50 races

FORK = multiprocessing.get_context("fork")


def _lateclaim(argv: list[str], output: str) -> None:
    """In a forked child: lateclaim's command line, its output to a file, its exit status as the child's."""
    sys.stdout = sys.stderr = open(output, "w")  # noqa: SIM115 - the child ends with os._exit, below
    try:
        code = main(argv)
    except BaseException as exc:  # noqa: BLE001 - a traceback is a failure of the race, reported by the test
        print(f"crashed: {exc!r}")
        code = 99
    sys.stdout.flush()
    os._exit(code)


def start(argv: list[str], output: Path) -> multiprocessing.process.BaseProcess:
    output.touch()
    child = FORK.Process(target=_lateclaim, args=(argv, str(output)))
    child.start()
    return child


def finish(child: multiprocessing.process.BaseProcess, output: Path, timeout: float = 60) -> int:
    child.join(timeout)
    assert child.exitcode is not None, f"still running after {timeout} s: {output.read_text()}"
    return child.exitcode


def fresh(dovecot: Dovecot, account: Account, smtp: SmtpServer, state: Path) -> None:
    """Before each race: no letter anywhere, no state file; the same Amazon mail."""
    for folder in (DRAFTS, "[Gmail]/Sent Mail"):
        dovecot.doveadm("expunge", "-u", account.username, "mailbox", folder, "all")
    with smtp.sink.lock:
        smtp.sink.messages.clear()
    for path in state.parent.glob("*"):
        path.unlink()


def letters(dovecot: Dovecot, account: Account, smtp: SmtpServer) -> Counter[str]:
    """Message-ID -> how many copies reached Drafts or the SMTP server."""
    found = [email.message_from_bytes(raw)["Message-ID"] for raw in dovecot.messages(account.username, DRAFTS)]
    found += [email.message_from_bytes(m.content)["Message-ID"] for m in smtp.messages]
    return Counter(found)


@pytest.mark.parametrize("mode", ["draft", "send"])
def test_lateclaims_started_together_write_each_letter_once(
    dovecot: Dovecot, all_mail_account: Account, smtp_server: SmtpServer, tmp_path: Path, mode: str
) -> None:
    for name in MAIL:
        dovecot.deliver(all_mail_account.username, (SAMPLE_MAILBOX / name).read_bytes())
    config = str(setup.write_config(tmp_path, all_mail_account, smtp_server,
                                    mailbox={"folders": [], "poll_interval": 3600},
                                    claims={"from": f"{all_mail_account.username}@example.com", "mode": mode,
                                            "to": RETAILER if mode == "send" else ""}))
    state = tmp_path / "state" / "lateclaim.db"
    state.parent.mkdir()
    races = duplicates = failures = asked_the_service = 0
    for race in range(SYNC_RACES + RUN_RACES):
        fresh(dovecot, all_mail_account, smtp_server, state)
        out = [tmp_path / f"race{race}-a.log", tmp_path / f"race{race}-b.log"]
        if race < SYNC_RACES:
            children = [start(["sync", "--once", "--config", config, "--as-of", AS_OF], o) for o in out]
            codes = [finish(c, o) for c, o in zip(children, out, strict=True)]
        else:
            service = start(["run", "--config", config], out[0])
            # The sync typed at once, or a little later (0 to 1.2 s): it meets a service starting, in its first
            # pass, or listening. Which one it met is counted; what reached the servers must be the same.
            time.sleep(0.3 * (race % 5))
            typed = start(["sync", "--once", "--config", config], out[1])
            codes = [0, finish(typed, out[1])]
            asked_the_service += "the running service" in out[1].read_text()
            # The service's first pass is over once the sync's is (they take turns) or it answered it.
            setup.wait_for(lambda s=service: socket_path(state).exists() or s.exitcode is not None, 30,
                           "the service's control socket")
            assert service.pid is not None
            os.kill(service.pid, signal.SIGTERM)
            codes[0] = finish(service, out[0])
        races += 1
        failures += sum(code != 0 for code in codes)
        assert codes == [0, 0], "\n".join(o.read_text() for o in out)
        counted = letters(dovecot, all_mail_account, smtp_server)
        duplicates += sum(n - 1 for n in counted.values())
        with Store(state, readonly=True) as store:
            claims = store.claims()
        delivered = [c for c in claims if c.status in ("drafted", "sent")]
        assert delivered, "a race with no letter to race for proves nothing"
        assert sorted(counted) == sorted(c.message_id for c in delivered), "\n".join(o.read_text() for o in out)
    print(f"{mode}: {races} races, {duplicates} duplicate letters, {failures} failed processes, "
          f"{asked_the_service} syncs answered by the running service")
    assert races == SYNC_RACES + RUN_RACES and duplicates == 0 and failures == 0


def test_a_second_writer_waits_then_names_the_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that cannot get the state file in time says who holds it, in one line (exit 1)."""
    monkeypatch.setattr(lock, "command", "lateclaim backfill")
    state = tmp_path / "state" / "lateclaim.db"
    with Store(state):
        started = time.monotonic()
        with pytest.raises(StateBusy, match=rf"another lateclaim \(pid {os.getpid()}, `lateclaim backfill`\) is using "
                                            rf"{state}$"):
            Store(state, wait=0.3)
        assert time.monotonic() - started >= 0.3
    with Store(state, wait=0.3):  # released with the first: the next one gets it at once
        pass
    assert sorted(p.name for p in state.parent.iterdir()) == ["lateclaim.db"]  # no lock file left behind


def test_a_sync_typed_while_the_service_runs_asks_it_for_a_pass(
    dovecot: Dovecot, all_mail_account: Account, tmp_path: Path
) -> None:
    for name in MAIL:
        dovecot.deliver(all_mail_account.username, (SAMPLE_MAILBOX / name).read_bytes())
    config = str(setup.write_config(tmp_path, all_mail_account, mailbox={"folders": [], "poll_interval": 3600}))
    log = tmp_path / "run.log"
    service = start(["run", "--config", config], log)
    try:
        setup.wait_for(lambda: '"event": "watching"' in log.read_text(), 30, "the service's first pass")
        typed = setup.lateclaim("sync", "--config", config)
        assert typed.returncode == 0, typed.stderr
        assert typed.stdout.startswith(f"the running service (pid {service.pid}) made a pass: 0 new messages"), \
            typed.stdout
        second = setup.lateclaim("run", "--config", config)
        assert second.returncode == 1
        assert second.stderr.strip() == (f"lateclaim: another lateclaim (pid {service.pid}, `lateclaim run`) is "
                                         f"using {tmp_path / 'state' / 'lateclaim.db'}")
        passes = log.read_text().count('"event": "sync_done"')
        assert service.pid is not None
        os.kill(service.pid, signal.SIGUSR1)  # systemctl kill -s USR1 lateclaim
        setup.wait_for(lambda: log.read_text().count('"event": "sync_done"') > passes, 30, "the pass SIGUSR1 asked")
    finally:
        if service.pid is not None and service.exitcode is None:
            os.kill(service.pid, signal.SIGTERM)
        assert finish(service, log) == 0
    assert "maximum number of running instances" not in log.read_text()
    assert not socket_path(tmp_path / "state" / "lateclaim.db").exists()  # the door is closed on the way out
