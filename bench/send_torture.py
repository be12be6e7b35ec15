"""Send mode under SIGKILL: does any claim reach the retailer twice, or get lost?

Each run takes a fresh account on a real Dovecot (loopback) with the bundled sample mailbox (two claims due),
starts `lateclaim sync --once` in send mode against a real aiosmtpd, and kills it with SIGKILL:

- on acceptance: as the SMTP server accepts a message, either before its "250" leaves (the client never hears
  it) or 0-30 ms after;
- at a random moment of the run.

Half the runs play Gmail (the SMTP server files the message in Sent itself, 0-3 s later), half a plain relay
(lateclaim files the copy). Then `sync --once` is run again until the claims settle, and what reached the SMTP
server is counted against the state file:

- duplicate: one claim's Message-ID accepted more than once;
- lost: a claim recorded `sent` that never reached the server, or one left waiting that would never go out;
- uncertain: held for the user (`claims confirm-sent` / `claims send --again`), split by whether it had gone.

    python bench/send_torture.py [--runs 120] [--seed 1]
"""

from __future__ import annotations

import argparse
import email
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.config import load  # noqa: E402 - after the path set-up
from daemon.state.store import Store  # noqa: E402
from tests import lateclaim_setup as setup  # noqa: E402
from tests.servers.dovecot import Dovecot  # noqa: E402
from tests.servers.smtp import Received, SmtpServer  # noqa: E402

AS_OF = "2026-11-24T12:00"
SENT = "[Gmail]/Sent Mail"
RETAILER = "claims@retailer.example"


class Run:
    """The process under test, so that the SMTP server's hook can kill the right one."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.kill_on_accept: str | None = None  # "before-250" | "after-250" | None
        self.killed_at: str = ""

    def kill(self, when: str) -> None:
        process = self.process
        if process is not None and process.poll() is None and not self.killed_at:
            self.killed_at = when
            os.kill(process.pid, signal.SIGKILL)


def lateclaim(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "daemon.cli", "sync", "--once", "--config", str(config),
                             "--as-of", AS_OF], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def settled(config: Path) -> bool:
    with Store(Path(load(config).state.path), readonly=True) as store:
        return {c.status for c in store.claims()} <= {"sent", "uncertain"} and len(store.claims()) == 2


def main() -> int:  # noqa: C901, PLR0915 - the torture run as one script, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning, module="aiosmtpd")  # implicit TLS: see tests/servers
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="lateclaim-torture-"))
    dovecot = Dovecot(root / "dovecot").start()
    smtp = SmtpServer(dovecot.ca_file, str(dovecot.root / "tls" / "key.pem")).start()
    env = {k: v for k, v in os.environ.items() if k != "LATECLAIM_CRASH_AT"}
    totals: Counter[str] = Counter()
    kills: Counter[str] = Counter()
    timers: list[threading.Timer] = []
    run = Run()
    started = time.monotonic()
    try:
        normal = measure_normal_run(dovecot, smtp, root, env)
        for n in range(args.runs):
            account = dovecot.new_account()
            style = ("before-250", "after-250", "random")[n % 3]
            gmail_like = (n // 3) % 2 == 0  # every kill style against both kinds of server
            workdir = root / f"run{n}"
            workdir.mkdir()
            setup.deliver_samples(dovecot, account)
            config = setup.write_config(workdir, account, smtp, claims={"mode": "send", "to": RETAILER},
                                        smtp_options={"files_sent": "yes" if gmail_like else "no",
                                                      "sent_copy_wait": 5})
            before = len(smtp.messages)

            def file_in_sent(raw: bytes, user: str = account.username, late: bool = gmail_like) -> None:
                if late:
                    timer = threading.Timer(rng.uniform(0, 3), dovecot.deliver, (user, raw, SENT))
                    timers.append(timer)
                    timer.start()

            def on_accept(raw: bytes) -> None:
                if run.kill_on_accept == "before-250":
                    run.kill("before-250")
                elif run.kill_on_accept == "after-250":
                    timer = threading.Timer(rng.uniform(0, 0.030), run.kill, ("after-250",))
                    timers.append(timer)
                    timer.start()

            smtp.sink.file_in_sent = file_in_sent
            smtp.sink.on_accept = on_accept
            run.kill_on_accept = style if style != "random" else None
            run.killed_at = ""
            run.process = lateclaim(config, env)
            if style == "random":
                timer = threading.Timer(rng.uniform(0, normal), run.kill, ("random",))
                timers.append(timer)
                timer.start()
            run.process.wait(timeout=120)
            for timer in timers:
                timer.cancel() if timer.function == run.kill else timer.join()
            run.kill_on_accept = None
            kills[f"{style} {'killed' if run.killed_at else 'finished first'}"] += 1
            for _ in range(4):  # restarts until the claims settle
                restart = lateclaim(config, env)
                restart.wait(timeout=120)
                if settled(config):
                    break
            for timer in timers:
                timer.join()
            timers.clear()
            tally(totals, smtp.messages[before:], config, gmail_like)
            shutil.rmtree(workdir, ignore_errors=True)
    finally:
        smtp.stop()
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(f"runs: {args.runs} (seed {args.seed}), {elapsed:.0f} s; a run without a kill takes {normal:.2f} s")
    print("kills: " + ", ".join(f"{k}: {v}" for k, v in sorted(kills.items())))
    for key in ("claims", "sent exactly once", "uncertain, had gone", "uncertain, had not gone", "duplicates",
                "lost", "unsettled"):
        print(f"{key}: {totals[key]}")
    for key in sorted(k for k in totals if k.startswith(("gmail-like", "plain", "sent ("))):
        print(f"  {key}: {totals[key]}")
    return 1 if totals["duplicates"] or totals["lost"] else 0


def tally(totals: Counter[str], received: list[Received], config: Path, gmail_like: bool) -> None:
    copies = Counter(str(email.message_from_bytes(m.content)["Message-ID"]).strip().strip("<>") for m in received)
    with Store(Path(load(config).state.path), readonly=True) as store:
        claims = store.claims()
    kind = "gmail-like" if gmail_like else "plain"
    totals[f"{kind} runs"] += 1
    for claim in claims:
        n = copies.get(claim.message_id.strip("<>"), 0)
        totals["claims"] += 1
        totals["duplicates"] += max(0, n - 1)
        if claim.status == "sent":
            totals["sent exactly once" if n == 1 else "lost" if n == 0 else "sent (duplicated)"] += 1
        elif claim.status == "uncertain":
            totals["uncertain, had gone" if n else "uncertain, had not gone"] += 1
            totals[f"{kind}: uncertain"] += 1
        else:
            totals["unsettled"] += 1
            totals["lost"] += n == 0


def measure_normal_run(dovecot: Dovecot, smtp: SmtpServer, root: Path, env: dict[str, str]) -> float:
    """How long one uncrashed run takes: random kills are drawn within it."""
    account = dovecot.new_account()
    workdir = root / "normal"
    workdir.mkdir()
    setup.deliver_samples(dovecot, account)
    config = setup.write_config(workdir, account, smtp, claims={"mode": "send", "to": RETAILER},
                                smtp_options={"files_sent": "no"})
    start = time.monotonic()
    lateclaim(config, env).wait(timeout=120)
    return time.monotonic() - start


if __name__ == "__main__":
    sys.exit(main())
