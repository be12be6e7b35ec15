"""What lateclaim costs an IMAP server and this machine, on realistic Amazon mail (bench/_realistic.py: 30-100 KB
of HTML each), measured against a real Dovecot on loopback (TLS), each figure beside its physical limit:

- first sync (`lateclaim backfill`) of a large mailbox: body bytes downloaded against the Amazon mail's bytes
  (limit: each message once, 1.000x), client CPU per Amazon email against the parse alone (limit), peak RSS;
- every later pass downloads nothing it has: bytes per pass after a UIDVALIDITY change, and with the same mail in
  two configured folders (limit: 0 bodies);
- an idle poll (the service's pass on its open connection) with 0, 10 and 100 claims awaiting an answer: IMAP
  commands and bytes (limit: one round trip);
- CPU per idle pass with 200, 2,000 and 20,000 stored parcels (the state file seeded directly), against the
  same pass with none (limit), and what deciding every parcel again would cost;
- 30 emails of 12 MB from an Amazon address: peak RSS of `lateclaim sync --once` under a 512 MB address-space
  limit (the unit's MemoryMax=512M counts less than that: resident memory only);
- `lateclaim run`: time from start to READY=1 (systemd notify protocol), and idle RSS.

    python bench/imap_cost.py [--messages 10000] [--amazon 2000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import parsers  # noqa: E402 - after the path set-up
from bench import _realistic  # noqa: E402
from daemon import logs  # noqa: E402
from daemon.config import load  # noqa: E402
from daemon.mail.imap import ImapMailbox  # noqa: E402
from daemon.passes.evaluate import record_decisions  # noqa: E402
from daemon.passes.pipeline import imap_settings, sync_with  # noqa: E402
from daemon.state.store import Store  # noqa: E402
from tests.lateclaim_setup import write_config  # noqa: E402
from tests.servers.dovecot import Account, Dovecot  # noqa: E402

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # after the realistic mail's dates (1 December 2026)
FILLER_WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
                "eiusmod", "tempor"]
BIG = 12 * 1024 * 1024


def filler(n: int) -> bytes:
    body = "\r\n".join(" ".join(FILLER_WORDS[(n + i) % len(FILLER_WORDS):] + FILLER_WORDS) for i in range(60))
    return (f"From: \"Newsletter {n % 97}\" <news{n % 97}@shop{n % 13}.example.org>\r\n"
            f"To: bench@example.com\r\nSubject: Weekly news {n}\r\nMessage-ID: <filler-{n}@example.org>\r\n"
            f"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n").encode()


def amazon(n: int) -> bytes:
    """A realistic Amazon email of its own (Message-ID and order number), in the corpus' proportions."""
    kind, language = _realistic.PROPORTIONS[n % len(_realistic.PROPORTIONS)]
    return _realistic.email(kind, language, n)


def maildir(dovecot: Dovecot, account: Account, folder: str = "INBOX") -> Path:
    base = dovecot.root / "mail" / account.username / "Maildir"
    new = (base / "new") if folder == "INBOX" else (base / f".{folder}" / "new")
    for sub in ("new", "cur", "tmp"):
        (new.parent / sub).mkdir(parents=True, exist_ok=True)
    return new


def own_files(dovecot: Dovecot, account: Account) -> None:
    if dovecot.as_root:
        base = dovecot.root / "mail" / account.username
        for path in [base, *base.rglob("*")]:
            os.chown(path, dovecot.mail_uid, dovecot.mail_gid)


def fill(dovecot: Dovecot, account: Account, mail: list[bytes], folder: str = "INBOX") -> int:
    """Write messages straight into the user's Maildir (Dovecot indexes them on first access); their bytes."""
    new = maildir(dovecot, account, folder)
    for n, raw in enumerate(mail):
        (new / f"{1700000000 + n}.M{n}P1.bench").write_bytes(raw)
    own_files(dovecot, account)
    return sum(len(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")) for raw in mail)


def lateclaim(*args: str, limit_as: int | None = None) -> tuple[float, int, float, subprocess.CompletedProcess[str]]:
    """Runs one command in a process of its own, measured by a fresh parent (RUSAGE_CHILDREN is a maximum over
    every child so far): wall time, peak RSS in KiB, CPU seconds, and the result."""
    command = [sys.executable, "-m", "daemon.cli", *args]
    if limit_as is not None:
        command = ["prlimit", f"--as={limit_as}", *command]
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "done = subprocess.run(sys.argv[1:]); u = resource.getrusage(resource.RUSAGE_CHILDREN); "
             "print(time.perf_counter() - t, u.ru_maxrss, u.ru_utime + u.ru_stime, done.returncode, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    wall, rss, cpu, code = done.stderr.strip().splitlines()[-1].split()
    done.returncode = int(code)
    return float(wall), int(rss), float(cpu), done


def rawlogs(dovecot: Dovecot, user: str, suffix: str) -> list[Path]:
    return sorted((dovecot.root / "rawlog" / user).glob(f"*.{suffix}"), key=lambda p: (p.stat().st_mtime, p.name))


def sent_bytes(dovecot: Dovecot, user: str) -> int:
    """Bytes the server sent `user` so far, every session (the rawlog's timestamp prefixes not counted)."""
    total = 0
    for log in rawlogs(dovecot, user, "out"):
        for line in log.read_bytes().splitlines(keepends=True):
            total += len(line.split(b" ", 1)[1]) if b" " in line else len(line)
    return total


class Meter:
    """Commands, bytes and bodies the server saw for one user since the last reading."""

    def __init__(self, dovecot: Dovecot, user: str) -> None:
        self.dovecot, self.user = dovecot, user
        self.commands, self.bytes, self.bodies = self._now()

    def _now(self) -> tuple[list[str], int, list[int]]:
        return self.dovecot.commands(self.user), sent_bytes(self.dovecot, self.user), \
            self.dovecot.bodies_sent(self.user)

    def read(self) -> tuple[list[str], int, list[int]]:
        commands, sent, bodies = self._now()
        found = commands[len(self.commands):], sent - self.bytes, bodies[len(self.bodies):]
        self.commands, self.bytes, self.bodies = commands, sent, bodies
        return found


def first_sync(dovecot: Dovecot, tmp: Path, messages: int, amazon_count: int) -> Path:
    account = dovecot.new_account()
    every = max(1, messages // max(1, amazon_count))
    mail: list[bytes] = []
    amazon_mail: list[bytes] = []
    for n in range(messages):
        if n % every == 0 and len(amazon_mail) < amazon_count:
            amazon_mail.append(amazon(n))
            mail.append(amazon_mail[-1])
        else:
            mail.append(filler(n))
    fill(dovecot, account, mail)
    amazon_bytes = sum(len(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")) for raw in amazon_mail)  # as stored
    cfg = write_config(home(tmp, "first"), account, mailbox={"poll_interval": 3600}, claims={"max_age_days": 3650},
                       log={"level": "warning"})
    print(f"mailbox: {messages} messages, {len(amazon_mail)} from Amazon ({amazon_bytes / 1e6:.1f} MB, "
          f"{amazon_bytes / len(amazon_mail) / 1024:.0f} KB each on average)")
    meter = Meter(dovecot, account.username)
    wall, rss, cpu, done = lateclaim("backfill", "--since", "2000-01-01", "--config", str(cfg),
                                     "--as-of", NOW.isoformat())
    if done.returncode != 0:
        raise SystemExit(f"backfill failed: {done.stderr}")
    _, sent, bodies = meter.read()
    started = time.process_time()
    for raw in amazon_mail:
        parsers.parse(raw)
    parse = (time.process_time() - started) / len(amazon_mail)
    print("first sync (lateclaim backfill)")
    print(f"  body bytes downloaded   {sum(bodies) / 1e6:8.2f} MB = {sum(bodies) / amazon_bytes:.3f} x the Amazon "
          f"mail (limit 1.000 x); {len(bodies)} bodies for {len(amazon_mail)} emails; "
          f"all bytes sent {sent / 1e6:.2f} MB")
    print(f"  client CPU per email    {cpu / len(amazon_mail) * 1000:8.2f} ms (limit: the parse alone, "
          f"{parse * 1000:.2f} ms; process start and imports included), wall {wall:.1f} s, "
          f"peak RSS {rss / 1024:.0f} MB")

    # The same mailbox after its UIDVALIDITY changed: everything is known, nothing is downloaded again.
    dovecot.set_uidvalidity(account.username, "INBOX", 4242)
    print("after a UIDVALIDITY change (lateclaim sync --once, pass by pass)")
    for n in (1, 2, 3):
        lateclaim("sync", "--once", "--config", str(cfg), "--as-of", NOW.isoformat())
        commands, sent, bodies = meter.read()
        print(f"  pass {n}: {len(bodies)} bodies, {sent / 1e3:8.1f} KB sent by the server, {len(commands)} commands "
              f"(limit: 0 bodies)")
    return cfg


def two_folders(dovecot: Dovecot, tmp: Path, count: int) -> None:
    account = dovecot.new_account()
    mail = [amazon(100_000 + n) for n in range(count)]
    size = fill(dovecot, account, mail)
    dovecot.doveadm("mailbox", "create", "-u", account.username, "Archive")
    fill(dovecot, account, mail, "Archive")
    cfg = write_config(home(tmp, "two"), account, mailbox={"folders": ["INBOX", "Archive"]}, log={"level": "warning"})
    meter = Meter(dovecot, account.username)
    print(f"the same {count} Amazon emails in two configured folders, INBOX and Archive ({size / 1e6:.1f} MB each)")
    for n in (1, 2, 3):
        lateclaim("sync", "--once", "--config", str(cfg), "--as-of", NOW.isoformat())
        commands, sent, bodies = meter.read()
        limit = f"{count} bodies, {size / 1e6:.1f} MB" if n == 1 else "0 bodies"
        print(f"  pass {n}: {len(bodies)} bodies ({sum(bodies) / 1e6:.2f} MB), {sent / 1e3:8.1f} KB sent by the "
              f"server, {len(commands)} commands (limit: {limit})")


def seed(store: Store, parcels: int, awaiting: int) -> None:
    """`parcels` orders, each ordered, shipped and delivered on time (three realistic emails' events, numbers of
    their own, authentic), and `awaiting` claims sent and awaiting an answer; straight into the state file."""
    templates = [parsers.parse(_realistic.email(kind, "en", seed)) for kind, seed in
                 (("ordered", 8), ("shipped", 0), ("delivered", 12))]
    batch = []
    for n in range(parcels):
        order = f"{100 + n % 900:03d}-{n:07d}-{n:07d}"
        for k, template in enumerate(templates):
            # Authentic, as Gmail's receiving server says of real Amazon mail.
            message = replace(template.message, message_id=f"seed-{n}-{k}@amazon.com", authenticated=True)
            events = tuple(replace(e, order_ids=(order,)) for e in template.events)
            batch.append((3 * n + k + 1, replace(template, message=message, events=events), None))
        if len(batch) >= 3000 or n == parcels - 1:
            store.ingest_batch("seeded", 1, batch, parsers.PARSER_VERSION, NOW - timedelta(days=1))
            batch = []
    for n in range(awaiting):
        claim = store.add_claim(order_id=f"{100 + n % 900:03d}-{n:07d}-{n:07d}", shipment="1", track="B", step=1,
                                status="queued", held="", language="en", subject=f"Order {n}", body="Where is it?",
                                message_id=f"<claim-{n}@lateclaim.invalid>", evidence={}, now=NOW - timedelta(days=2))
        assert claim is not None
        store.update_claim(claim, NOW - timedelta(days=2), status="sent", sent_at=NOW - timedelta(days=2))


def idle_passes(dovecot: Dovecot, tmp: Path, sizes: list[int], awaiting: list[int]) -> None:
    print("an idle poll (the service's pass on its open connection, nothing new)")
    for claims in awaiting:
        account = dovecot.new_account()
        fill(dovecot, account, [amazon(200_000 + n) for n in range(20)])
        cfg = load(write_config(home(tmp, f"idle-{claims}"), account, log={"level": "warning"}))
        with Store(cfg.state.path) as store:
            seed(store, 0, claims)
        with ImapMailbox(imap_settings(cfg)) as mailbox:
            sync_with(mailbox, cfg, NOW)
            meter = Meter(dovecot, account.username)
            sync_with(mailbox, cfg, NOW + timedelta(minutes=5))
            commands, sent, bodies = meter.read()
        print(f"  {claims:4d} claims awaiting an answer: {len(commands)} commands ({', '.join(commands)}), "
              f"{sent} bytes sent by the server, {len(bodies)} bodies (limit: one round trip)")
    print("CPU per idle pass (median of 5; the first pass after the seeding decides every parcel)")
    account = dovecot.new_account()
    floor = 0.0
    for parcels in [0, *sizes]:
        cfg = load(write_config(home(tmp, f"cpu-{parcels}"), account, log={"level": "warning"}))
        with Store(cfg.state.path) as store:
            seed(store, parcels, 0)
        with ImapMailbox(imap_settings(cfg)) as mailbox:
            first = cpu_of(lambda: sync_with(mailbox, cfg, NOW))  # noqa: B023 - called at once
            passes = [cpu_of(lambda n=n: sync_with(mailbox, cfg, NOW + timedelta(minutes=5 * n)))  # noqa: B023
                      for n in range(1, 6)]
        with Store(cfg.state.path) as store:
            full = cpu_of(lambda: record_decisions(store, cfg, NOW + timedelta(hours=1), full=True))  # noqa: B023
        median = statistics.median(passes)
        floor = floor or median
        label = "limit: the pass with nothing stored" if parcels == 0 else f"{median / floor:.1f} x the empty pass"
        print(f"  {parcels:6d} parcels: {median * 1000:7.1f} ms ({label}); first pass {first * 1000:.0f} ms; "
              f"deciding every parcel again {full * 1000:.0f} ms")


def home(tmp: Path, name: str) -> Path:
    (tmp / name).mkdir()
    return tmp / name


def cpu_of(work: Any) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def hostile(dovecot: Dovecot, tmp: Path, count: int) -> None:
    account = dovecot.new_account()
    head = (b"From: Amazon <shipment-tracking@amazon.fr>\r\nTo: me@example.com\r\nSubject: Votre colis\r\n"
            b"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n")
    line = b"A" * 76 + b"\r\n"
    big = [head + f"Message-ID: <big-{n}@evil.example>\r\n\r\n".encode() + line * (BIG // len(line))
           for n in range(count)]
    fill(dovecot, account, [*big, *(amazon(300_000 + n) for n in range(20))])
    cfg = write_config(home(tmp, "hostile"), account, log={"level": "warning"})
    meter = Meter(dovecot, account.username)
    limit = 512 * 1024 * 1024
    wall, rss, _, done = lateclaim("sync", "--once", "--config", str(cfg), "--as-of", NOW.isoformat(),
                                   limit_as=limit)
    _, sent, bodies = meter.read()
    status = "passed" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
    print(f"{count} emails of {BIG // 2**20} MB from an Amazon address, and 20 real-sized ones")
    print(f"  lateclaim sync --once under prlimit --as=512M: {status} in {wall:.1f} s, peak RSS {rss / 1024:.0f} MB "
          f"(limit: the unit's MemoryMax=512M); {len(bodies)} bodies downloaded ({sum(bodies) / 1e6:.1f} MB), "
          f"{sent / 1e6:.1f} MB sent by the server")


def ready_time(config_file: Path, tmp: Path) -> tuple[float, int]:
    """Seconds from exec to READY=1 on a real notify socket, and RSS (KiB) once idle."""
    sock_path = tmp / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(60)
    env = dict(os.environ, NOTIFY_SOCKET=str(sock_path))
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "daemon.cli", "run", "--config", str(config_file)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while b"READY=1" not in sock.recv(4096):
            pass
        ready = time.perf_counter() - started
        time.sleep(2)  # let the IDLE watcher settle before reading the idle size
        status = Path(f"/proc/{process.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        sock.close()
    return ready, rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--amazon", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a check that the bench runs")
    args = parser.parse_args()
    if not (shutil.which("dovecot") or Path("/usr/sbin/dovecot").exists()):
        print("Dovecot is not installed: run make test-tools", file=sys.stderr)
        return 2
    quick = args.quick
    logs.configure("warning")  # the in-process passes log like the service; only what goes wrong is shown
    tmp = Path(tempfile.mkdtemp(prefix="lateclaim-bench-"))
    tmp.chmod(0o755)
    dovecot = Dovecot(tmp / "dovecot").start()
    try:
        cfg = first_sync(dovecot, tmp, 500 if quick else args.messages, 100 if quick else args.amazon)
        two_folders(dovecot, tmp, 20 if quick else 200)
        idle_passes(dovecot, tmp, [20, 200] if quick else [200, 2_000, 20_000], [0, 10] if quick else [0, 10, 100])
        hostile(dovecot, tmp, 3 if quick else 30)
        ready, rss = ready_time(cfg, tmp)
        print(f"lateclaim run: READY=1 after {ready:.2f} s (process start included); idle RSS {rss / 1024:.0f} MB")
    finally:
        dovecot.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
