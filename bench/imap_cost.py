"""What lateclaim costs an IMAP server and this machine, measured against a real Dovecot on loopback.

- backfill of a large mailbox (default 10 000 messages, 2 000 of them Amazon shipment emails): wall time, the
  client's peak RSS, and the bytes of message bodies downloaded against the bytes of the matching mail;
- an idle `lateclaim sync --once` (nothing new): IMAP commands on the connection after login, and body bytes;
- `lateclaim run`: time from start to READY=1 (systemd notify protocol), and idle RSS.

    python bench/imap_cost.py [--messages 10000] [--amazon 2000]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.lateclaim_setup import write_config  # noqa: E402
from tests.servers.dovecot import Account, Dovecot  # noqa: E402 - after the path set-up

SAMPLES = sorted(p for p in (ROOT / "tests" / "fixtures" / "amazon").rglob("*.eml")
                 if "ignored" not in p.parts and "hostile" not in p.parts)
FILLER_WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
                "eiusmod", "tempor"]


def filler(n: int) -> bytes:
    body = "\r\n".join(" ".join(FILLER_WORDS[(n + i) % len(FILLER_WORDS):] + FILLER_WORDS) for i in range(60))
    return (f"From: \"Newsletter {n % 97}\" <news{n % 97}@shop{n % 13}.example.org>\r\n"
            f"To: bench@example.com\r\nSubject: Weekly news {n}\r\nMessage-ID: <filler-{n}@example.org>\r\n"
            f"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n").encode()


def amazon(n: int) -> bytes:
    raw = SAMPLES[n % len(SAMPLES)].read_bytes()
    raw = re.sub(rb"Message-ID: <[^>]+>", f"Message-ID: <bench-{n}@eu-west-1.amazonses.com>".encode(), raw, count=1)
    return re.sub(rb"\d{3}-\d{7}-\d{7}", f"{100 + n % 900:03d}-{n:07d}-{n:07d}".encode(), raw)


def fill_maildir(dovecot: Dovecot, account: Account, total: int, amazon_count: int) -> int:
    """Write the messages straight into the user's Maildir (Dovecot indexes them on first access)."""
    new = dovecot.root / "mail" / account.username / "Maildir" / "new"
    new.mkdir(parents=True, exist_ok=True)
    every = max(1, total // max(1, amazon_count))
    amazon_bytes = made = 0
    for n in range(total):
        is_amazon = n % every == 0 and made < amazon_count
        raw = amazon(n) if is_amazon else filler(n)
        if is_amazon:
            made += 1
            amazon_bytes += len(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        (new / f"{1700000000 + n}.M{n}P1.bench").write_bytes(raw)
    if dovecot.as_root:
        for path in [new.parent.parent, *new.parent.parent.rglob("*")]:
            os.chown(path, dovecot.mail_uid, dovecot.mail_gid)
    return amazon_bytes


def lateclaim(*args: str) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    """Runs one command; returns its wall time, its peak RSS in KiB, and the result."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "daemon.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(f"lateclaim {' '.join(args)} failed: {done.stderr}")
    return elapsed, max(peak, before), done


def logout_lines(dovecot: Dovecot, user: str) -> list[str]:
    log = (dovecot.root / "log" / "dovecot.info.log").read_text(errors="replace")
    return [line for line in log.splitlines() if f"({user})" in line and "Logged out" in line]


def body_bytes(line: str) -> int:
    m = re.search(r"body_bytes=(\d+)", line)
    return int(m.group(1)) if m else 0


def commands_after_login(dovecot: Dovecot, user: str) -> list[str]:
    """Commands the client sent after login, from the newest rawlog of the user (literal payloads skipped)."""
    logs = sorted((dovecot.root / "rawlog" / user).glob("*.in"), key=lambda p: p.stat().st_mtime)
    commands, skip = [], 0
    for line in logs[-1].read_text(errors="replace").splitlines():
        text = line.split(" ", 1)[1] if " " in line else ""
        if skip > 0:
            skip -= len(text) + 2
            continue
        parts = text.split()
        if len(parts) >= 2:
            commands.append(parts[1].upper() + (f" {parts[2].upper()}" if parts[1].upper() == "UID" else ""))
        m = re.search(r"\{(\d+)\+?\}$", text)
        if m:
            skip = int(m.group(1))
    return commands


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
    args = parser.parse_args()
    if not (shutil.which("dovecot") or Path("/usr/sbin/dovecot").exists()):
        print("Dovecot is not installed: run scripts/ensure-dovecot", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="lateclaim-bench-"))
    tmp.chmod(0o755)
    dovecot = Dovecot(tmp / "dovecot").start()
    try:
        account = dovecot.new_account()
        amazon_bytes = fill_maildir(dovecot, account, args.messages, args.amazon)
        cfg = write_config(tmp, account, mailbox={"poll_interval": 3600}, claims={"max_age_days": 3650},
                           log={"level": "warning"})
        print(f"mailbox: {args.messages} messages, {args.amazon} from Amazon ({amazon_bytes / 1e6:.1f} MB)")

        elapsed, peak, done = lateclaim("backfill", "--since", "2000-01-01", "--config", str(cfg))
        downloaded = sum(body_bytes(line) for line in logout_lines(dovecot, account.username))
        print(f"backfill        {elapsed:6.1f} s, peak RSS {peak / 1024:.0f} MB; {done.stdout.strip()}")
        print(f"  body bytes downloaded {downloaded / 1e6:.2f} MB = {downloaded / amazon_bytes:.3f} x the Amazon mail")

        seen = len(logout_lines(dovecot, account.username))
        elapsed, _, _ = lateclaim("sync", "--once", "--config", str(cfg))
        lines = logout_lines(dovecot, account.username)[seen:]
        commands = commands_after_login(dovecot, account.username)
        print(f"idle sync       {elapsed:6.2f} s; commands after login: {len(commands)} ({', '.join(commands)}); "
              f"body bytes {sum(body_bytes(line) for line in lines)}")

        ready, rss = ready_time(cfg, tmp)
        print(f"run             READY=1 after {ready:.2f} s (process start included); idle RSS {rss / 1024:.0f} MB")
    finally:
        dovecot.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
