"""Hostile emails through parse(), each in a fresh process: worst CPU time and peak memory per email.

Anyone can send lateclaim an email with an Amazon From header, and parsing comes before anything else looks
at it, so no email may cost more than a bounded amount of work. Each case below is built in a child process,
parsed once, and reported with the CPU time of that one parse() call and the child's peak RSS (the whole
process: interpreter, libraries, the raw email and the parse). Target: every email < 1 s CPU and < 100 MB.

    python bench/adversarial.py [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU_LIMIT_S = 1.0
RSS_LIMIT_MB = 100.0

HEAD = (b"From: \"Amazon.com\" <shipment-tracking@amazon.com>\r\nTo: someone@example.com\r\n"
        b"Subject: Your Amazon.com order #112-1234567-7654321 has shipped\r\n"
        b"Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <adversarial@example.com>\r\nMIME-Version: 1.0\r\n")


def plain(body: str | bytes) -> bytes:
    data = body.encode() if isinstance(body, str) else body
    return HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + data


def html(body: str) -> bytes:
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + body.encode()


def nested(depth: int) -> bytes:
    opening = b"".join(b"Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n" % (i, i)
                       for i in range(depth))
    return HEAD + opening + b"Content-Type: text/plain\r\n\r\nArriving: Thursday, December 3\r\n"


def many_parts(count: int) -> bytes:
    part = b"--sep\r\nContent-Type: text/plain\r\n\r\nArriving: Thursday, December 3\r\n"
    return HEAD + b"Content-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n" + part * count + b"--sep--\r\n"


def base64_html(size: int) -> bytes:
    import base64
    body = base64.encodebytes(("<p>Arriving: Thursday</p>" * (size // 25)).encode())
    return HEAD + b"Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body


def forwarded_blank_lines(count: int) -> bytes:
    head = HEAD.replace(b"shipment-tracking@amazon.com", b"friend@example.com")
    return head + b"Content-Type: text/plain\r\n\r\n" + b" \r\n" * count + b"x"


CASES: dict[str, Callable[[], bytes]] = {
    "Arriving: x400 on one line (4.3 KB)": lambda: plain("Arriving: " * 400),
    "Arriving: x3000 on one line (30 KB)": lambda: plain("Arriving: " * 3000),
    "Arriving: x100000 on one line (1 MB)": lambda: plain("Arriving: " * 100_000),
    "Arriving: x100000, one per line": lambda: plain("Arriving:\n" * 100_000),
    "Arriving: + 50000 weekdays": lambda: plain("Arriving: " + "Monday " * 50_000),
    "'has been delivered' x100000 lines": lambda: plain("Your package has been delivered\n" * 100_000),
    "tracker labels x100000 lines": lambda: plain("Ordered Shipped Out for delivery Delivered\n" * 50_000),
    "'Sold by: X' x100000 lines": lambda: plain("Sold by: Acme Ltd\n* Kettle 12,99 €\n" * 50_000),
    "'package 1 of 2' x100000": lambda: plain("package 1 of 2 " * 100_000),
    "order-id-like digits, 1 MB": lambda: plain("123-1234567-1234567-" * 50_000),
    "dashes, 2 MB": lambda: html("-" * 2_000_000),
    "order-number tails, 2 MB": lambda: plain("-1234567-1234567 " * 110_000),
    "digits and dashes, 2 MB": lambda: plain("1-" * 1_000_000),
    "2.4 MB flat HTML (<p>a</p>)": lambda: html("<p>a</p>" * 300_000),
    "2.4 MB of '<' without '>'": lambda: html("<a " * 800_000),
    "unclosed <style, 2 MB": lambda: html("<style>" * 300_000),
    "unclosed comments, 2 MB": lambda: html("<!--" * 500_000),
    "unclosed headings, 2 MB": lambda: html("<h1>" * 500_000),
    "deep HTML nesting (200000 divs)": lambda: html("<div>" * 200_000 + "Arriving: Thursday" + "</div>" * 200_000),
    "multipart nested 5000 deep": lambda: nested(5000),
    "multipart with 20000 parts": lambda: many_parts(20_000),
    "one 9 MB text line": lambda: plain("a" * 9_000_000),
    "9 MB base64 HTML part": lambda: base64_html(6_500_000),
    "forward markers after 1M blank lines": lambda: forwarded_blank_lines(1_000_000),
    "60000 header lines": lambda: HEAD + b"X-Filler: y\r\n" * 60_000 + b"\r\nArriving: today",
    "random bytes, 9 MB": lambda: random.Random(1).randbytes(9_000_000),
    # Just inside the bounds checked before parsing (parsers.MAX_BYTES, mime.MAX_LINES, MAX_DELIMITER_LINES): the
    # largest work a single email can still ask of mail-parser and BeautifulSoup.
    "one 4 MB text line (under the size limit)": lambda: plain("a" * 4_100_000),
    "99 000 lines 'Arriving:' (under the line limit)": lambda: plain("Arriving: Monday\n" * 99_000),
    "3 MB base64 HTML of 20000+ tags": lambda: base64_html(2_200_000),
    "1000 parts (under the delimiter limit)": lambda: many_parts(990),
    "99 000 lines of <p> (HTML, under the line limit)": lambda: html("<p>Arriving: Monday</p>\n" * 99_000),
}


def child(path: str) -> None:
    import time

    from parsers import parse

    raw = Path(path).read_bytes()  # built by the parent: building it would count in this process's peak
    parse(plain("Arriving: Thursday, December 3"))  # warm-up: phrase data, compiled patterns
    started = time.process_time()
    result = parse(raw)
    cpu = time.process_time() - started
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent, which built the cases.
    status = Path("/proc/self/status").read_text()
    peak_mb = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(json.dumps({"cpu": cpu, "rss": peak_mb, "size": len(raw), "status": result.status.value,
                      "reason": result.reason}))


def _run_child(path: str, timeout: float) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run([sys.executable, __file__, "--child", path], capture_output=True, text=True,
                              cwd=ROOT, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a case is stopped")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    worst_cpu = worst_rss = 0.0
    failed = []
    print(f"{'case':<40} {'size':>9} {'CPU s':>7} {'peak RSS MB':>11}  outcome")
    for name in CASES:
        if args.only and args.only not in name:
            continue
        with tempfile.NamedTemporaryFile(suffix=".eml") as email_file:
            email_file.write(CASES[name]())
            email_file.flush()
            done = _run_child(email_file.name, args.timeout)
        if done is None:
            print(f"{name:<40} {'':>9} {'>' + str(int(args.timeout)):>7} {'?':>11}  stopped  OVER BUDGET")
            worst_cpu = max(worst_cpu, args.timeout)
            failed.append(name)
            continue
        if done.returncode != 0:
            print(f"{name:<40} crashed: {done.stderr.strip().splitlines()[-1:]}")
            failed.append(name)
            continue
        got = json.loads(done.stdout)
        worst_cpu, worst_rss = max(worst_cpu, got["cpu"]), max(worst_rss, got["rss"])
        over = got["cpu"] >= CPU_LIMIT_S or got["rss"] >= RSS_LIMIT_MB
        failed += [name] if over else []
        print(f"{name:<40} {got['size']:>9} {got['cpu']:>7.3f} {got['rss']:>11.1f}  {got['status']}"
              f"{': ' + got['reason'][:50] if got['reason'] else ''}{'  OVER BUDGET' if over else ''}")
    print(f"\nworst CPU per email {worst_cpu:.3f} s (target < {CPU_LIMIT_S:.0f} s); "
          f"worst peak RSS {worst_rss:.1f} MB (target < {RSS_LIMIT_MB:.0f} MB)")
    if failed:
        print("over budget or crashed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
