"""`lateclaim run` under a busy steady state: how many scheduler warnings, failed passes and passes.

A real Dovecot (loopback) account in the recommended setup (folders = [], a virtual All Mail), the service with
the shortest poll interval (10 s), and for the whole soak: an Amazon email delivered every few seconds (IMAP IDLE
brings a pass forward, often while one runs), a `lateclaim sync` typed now and then (the service's socket) and
SIGUSR1. At the end the service's log is counted: passes made, warnings and errors by event, and APScheduler's
own warnings ("maximum number of running instances reached", "was missed by").

    python bench/service_soak.py [--seconds 90]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.commands.demo import SAMPLE_MAILBOX  # noqa: E402 - after the path set-up
from tests import lateclaim_setup as setup  # noqa: E402
from tests.servers.dovecot import Dovecot  # noqa: E402

SCHEDULER_WORDS = ("maximum number of running instances", "was missed by", "skipped")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--burst", type=int, default=10, help="emails delivered at once, every 3 s")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lateclaim-soak-"))
    os.chmod(root, 0o755)  # Dovecot's users traverse it
    dovecot = Dovecot(root / "dovecot").start()
    try:
        account = dovecot.new_account(all_mail=True)
        config = setup.write_config(root, account, mailbox={"folders": [], "poll_interval": 10})
        log = root / "run.log"
        service = subprocess.Popen([sys.executable, "-m", "daemon.cli", "run", "--config", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=log.open("w"), cwd=ROOT)
        samples = sorted(SAMPLE_MAILBOX.glob("*.eml"))
        typed = Counter[str]()
        started = time.monotonic()
        tick = 0
        while time.monotonic() - started < args.seconds:
            for n in range(args.burst):
                raw = samples[(tick + n) % len(samples)].read_bytes()
                # Each one a new message (a Message-ID of its own): the service reads and records it.
                fresh = raw.replace(b"Message-ID: <", f"Message-ID: <soak{tick}.{n}.".encode(), 1)
                dovecot.deliver(account.username, fresh)
            if tick % 4 == 1:
                done = setup.lateclaim("sync", "--config", str(config))
                typed["answered by the service" if "the running service" in done.stdout else
                      f"exit {done.returncode}"] += 1
            if tick % 4 == 3:
                service.send_signal(signal.SIGUSR1)
            tick += 1
            time.sleep(3)
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=60)
        text = log.read_text()
        events = Counter(line.split('"event": "')[1].split('"')[0] for line in text.splitlines()
                         if '"event": "' in line)
        levels = Counter(level for level in ("warning", "error", "critical")
                         for line in text.splitlines() if f'"level": "{level}"' in line)
        scheduler = sum(text.count(words) for words in SCHEDULER_WORDS)
        print(f"soak: {args.seconds:.0f} s, {tick * args.burst} emails delivered, poll interval 10 s, "
              f"exit status {code}")
        print(f"passes: {events['sync_done']}; syncs typed: {dict(typed)}; SIGUSR1 sent: {tick // 4}")
        print(f"log lines at warning or above: {dict(levels) or 0}; scheduler warnings: {scheduler}")
        print(f"failed passes: {events['sync_failed'] + events['sync_crashed']}")
        return 0 if scheduler == 0 and code == 0 else 1
    finally:
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
