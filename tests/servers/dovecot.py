"""A throwaway Dovecot for the test suite, on 127.0.0.1, touching nothing outside its temporary directory.

One server per test session (starting costs ~40 ms, stopping ~1.1 s); each test takes a fresh pre-listed user,
so tests never see each other's mail. The layout imitates Gmail's: [Gmail]/Drafts, [Gmail]/Sent Mail... found
by their special-use flags. Facts: ../shared/TESTBED.md.
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
USERS = 200  # user1..user200: the ordinary pool, one per test
ALL_MAIL_USERS = 50  # alluser1..alluser50: the same, plus a virtual \All folder (Gmail's All Mail)
ALL_MAIL_FOLDER = "Virtual/All"
# Users whose login the server refuses with these words (passdb `nologin=y reason=...`), as Gmail refuses with
# "[ALERT] Too many simultaneous connections. (Failure)". The words reach Dovecot's auth process through the
# environment, since passwd-file extra fields cannot hold spaces.
REFUSALS = {
    "toomany": "Too many simultaneous connections. (Failure)",
    "weblogin": "Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754",
}
SPECIAL_FOLDERS = {
    "[Gmail]/Drafts": "\\Drafts",
    "[Gmail]/Sent Mail": "\\Sent",
    "[Gmail]/Trash": "\\Trash",
    "[Gmail]/Spam": "\\Junk",
}


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    host: str
    port: int  # plain / STARTTLS
    tls_port: int  # implicit TLS
    ca_file: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail loudly after `timeout` seconds instead of hoping a sleep was enough."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that has the kernel send Dovecot SIGTERM when the test runner dies (even by SIGKILL), so no
    orphan keeps its ports. The signal follows the *thread* that forked: only arm it from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def arm() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return arm


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1; clients trust exactly this file."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    key.chmod(0o600)
    return cert, key


class Dovecot:
    def __init__(self, root: Path, oauth_url: str | None = None) -> None:
        self.root = root
        self.oauth_url = oauth_url  # an introspection server: XOAUTH2 and OAUTHBEARER are accepted too
        self.port = free_port()
        self.tls_port = free_port()
        self.conf = root / "dovecot.conf"
        self.base_dir = root / "run"
        self.process: subprocess.Popen[bytes] | None = None
        self._next_user = 0
        self._next_all_mail_user = 0
        self._lock = threading.Lock()
        self.as_root = os.getuid() == 0

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> Dovecot:
        for sub in ("run", "state", "log", "tls", "mail", "rawlog"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        cert, key = self.root / "tls" / "cert.pem", self.root / "tls" / "key.pem"
        if not cert.exists():  # a restart keeps its certificate, mail and ports: clients see the same server
            cert, key = make_certificate(self.root / "tls")
        self.ca_file = str(cert)
        self._write_users()
        self._write_virtual_all()
        if self.as_root:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
            # Mail processes run as nobody: they own the Maildirs and write the rawlogs.
            for path in (self.root / "mail", self.root / "rawlog", *(self.root / "rawlog").iterdir()):
                os.chown(path, self.mail_uid, self.mail_gid)
            # The dovecot and nobody users must reach the passwd file and the Maildirs: traverse-only on parents.
            for parent in [self.root, *self.root.parents]:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()
        self.conf.write_text(self._config(cert, key))
        # stderr to a file, not a pipe: nobody drains a pipe while the server runs, and a full one would block it.
        with open(self.root / "log" / "stderr.log", "ab") as stderr:
            env = {**os.environ, **{refusal_variable(kind): text for kind, text in REFUSALS.items()}}
            self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=die_with_parent(),
                                            env=env)
        wait_until(self._ready, 10, "Dovecot to answer on 127.0.0.1")
        return self

    def _write_users(self) -> None:
        """Every user a session may need, listed up front: a user added at runtime is valid only after up to a
        second (passwd-file is re-read at most once a second), and Maildirs are created lazily, so 250 cost
        nothing. The all-mail pool turns on the virtual namespace for itself only (a userdb field)."""
        lines = [f"user{n}:{{PLAIN}}secret-{n}-pw::::::\n" for n in range(1, USERS + 1)]
        lines += [f"alluser{n}:{{PLAIN}}secret-all-{n}-pw::::::userdb_namespace/virtual/disabled=no\n"
                  for n in range(1, ALL_MAIL_USERS + 1)]
        lines += [f"refused-{kind}:{{PLAIN}}refused-pw::::::nologin=y reason=%{{env:{refusal_variable(kind)}}}\n"
                  for kind in REFUSALS]
        (self.root / "passwd").write_text("".join(lines))
        for line in lines:  # Dovecot writes a user's rawlog only into a directory that exists
            (self.root / "rawlog" / line.split(":", 1)[0]).mkdir(exist_ok=True)

    def _write_virtual_all(self) -> None:
        """The \\All folder: a virtual mailbox over every folder but Trash and Spam, as Gmail's All Mail."""
        folder = self.root / "virtual" / "All"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "dovecot-virtual").write_text("*\n-[Gmail]/Trash\n-[Gmail]/Spam\n-Virtual/*\n  all\n")

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            err = (self.root / "log" / "stderr.log").read_text(errors="replace")
            raise RuntimeError(f"Dovecot exited at start: {err}\n{self.log()}")
        if not (self.base_dir / "master.pid").exists():
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        # With -F the master is our child, so master.pid names it; signalling the child we hold (not a pid read
        # from a file that might be stale) can never hit a stranger. SIGTERM: the master stops its children and
        # exits, about 1.1 s later (it waits a second for them).
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log(self) -> str:
        path = self.root / "log" / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _config(self, cert: Path, key: Path) -> str:
        me = pwd.getpwuid(os.getuid()).pw_name
        if self.as_root:
            users = "default_login_user = dovenull\ndefault_internal_user = dovecot\ndefault_internal_group = dovecot\n"
        else:
            group = os.getgid()
            users = (f"default_login_user = {me}\ndefault_internal_user = {me}\n"
                     f"default_internal_group = {group}\n")
        mailboxes = "".join(
            f'  mailbox "{name}" {{\n    auto = subscribe\n    special_use = {flag}\n  }}\n'
            for name, flag in SPECIAL_FOLDERS.items()
        )
        r = self.root
        return f"""
base_dir = {self.base_dir}
state_dir = {r}/state
instance_name = lateclaim-test-{os.getpid()}-{self.port}
log_path = {r}/log/dovecot.log
info_log_path = {r}/log/dovecot.info.log
protocols = imap
listen = 127.0.0.1
version_ignore = yes
{users}first_valid_uid = {self.mail_uid}
last_valid_uid = {self.mail_uid}
first_valid_gid = {self.mail_gid}
last_valid_gid = {self.mail_gid}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.oauth_url else ""}
auth_cache_size = 0
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
{self._oauth_passdb()}
userdb {{
  driver = passwd-file
  args = username_format=%u {r}/passwd
  default_fields = uid={self.mail_uid} gid={self.mail_gid} home={r}/mail/%u
}}
import_environment = TZ CORE_OUTOFMEM CORE_ERROR LISTEN_PID LISTEN_FDS {" ".join(map(refusal_variable, REFUSALS))}
mail_location = maildir:~/Maildir
mailbox_list_index = yes
mail_plugins = $mail_plugins virtual
protocol imap {{
  mail_max_userip_connections = 100
  rawlog_dir = {r}/rawlog/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  prefix =
{mailboxes}}}
namespace virtual {{
  prefix = Virtual/
  separator = /
  location = virtual:{r}/virtual:INDEX=~/virtual
  disabled = yes
  mailbox All {{
    special_use = \\All
  }}
}}
"""

    def _oauth_passdb(self) -> str:
        if not self.oauth_url:
            return ""
        args = self.root / "dovecot-oauth2.conf.ext"
        args.write_text(f"introspection_mode = post\nintrospection_url = {self.oauth_url}/introspect\n"
                        "force_introspection = yes\nusername_attribute = email\nactive_attribute = active\n"
                        "active_value = true\n")
        return f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {args}\n}}"

    # -- accounts and server-side levers ----------------------------------------------------------------

    def new_account(self, all_mail: bool = False) -> Account:
        """A user no one has used yet in this session. all_mail: one whose server also has a virtual \\All
        folder (Virtual/All), as Gmail's [Gmail]/All Mail."""
        with self._lock:
            if all_mail:
                self._next_all_mail_user += 1
                n, pool, name, password = self._next_all_mail_user, ALL_MAIL_USERS, "alluser", "secret-all"
            else:
                self._next_user += 1
                n, pool, name, password = self._next_user, USERS, "user", "secret"
        if n > pool:
            raise RuntimeError(f"more than {pool} {name}N test accounts used in one session: raise the pool")
        return Account(f"{name}{n}", f"{password}-{n}-pw", "127.0.0.1", self.port, self.tls_port, self.ca_file)

    def refused_account(self, kind: str) -> Account:
        """A user whose every login the server refuses with REFUSALS[kind] (shared: nothing is ever stored)."""
        return Account(f"refused-{kind}", "refused-pw", "127.0.0.1", self.port, self.tls_port, self.ca_file)

    def doveadm(self, *args: str, stdin: bytes | None = None) -> bytes:
        done = subprocess.run([DOVEADM, "-c", str(self.conf), *args], input=stdin, capture_output=True,
                              timeout=30, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)}: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def deliver(self, user: str, raw: bytes, mailbox: str = "INBOX") -> None:
        """Put a message in a mailbox server-side, as the mail server would on delivery (no IMAP traffic)."""
        self.doveadm("save", "-u", user, "-m", mailbox, stdin=raw)

    def kick(self, user: str) -> None:
        self.doveadm("kick", user)

    def set_uidvalidity(self, user: str, mailbox: str, value: int) -> None:
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), mailbox)

    def _fetch(self, user: str, mailbox: str) -> list[dict[str, str]]:
        out = self.doveadm("-f", "json", "fetch", "-u", user, "uid flags text", "mailbox", mailbox, "all")
        # doveadm passes 8-bit message bytes through as they are: surrogateescape keeps them byte-exact.
        return list(json.loads(out.decode("utf-8", "surrogateescape") or "[]"))

    def flags(self, user: str, mailbox: str) -> dict[int, bytes]:
        """UID -> the message's flags, read server-side, so that the check itself cannot set \\Seen and does not
        depend on the client under test."""
        return {int(m["uid"]): m["flags"].encode() for m in self._fetch(user, mailbox)}

    def messages(self, user: str, mailbox: str) -> list[bytes]:
        """The raw messages of a mailbox, in UID order, read server-side."""
        return [m["text"].encode("utf-8", "surrogateescape") for m in self._fetch(user, mailbox)]

    def commands(self, user: str) -> list[str]:
        """The IMAP commands `user`'s sessions sent after login, in order, from Dovecot's rawlog: "EXAMINE",
        "UID SEARCH", "UID FETCH", ... (the login itself happens before the rawlog starts). Read as the traffic
        arrives, so a session still open counts too."""
        found: list[str] = []
        for log in sorted((self.root / "rawlog" / user).glob("*.in")):  # <yyyymmdd-HHMMSS>.<pid>.<n>.in
            found += commands_in(log.read_bytes())
        return found

    def bodies_sent(self, user: str) -> list[int]:
        """The size of each whole message body the server sent `user`'s sessions (`BODY[] {n}` in the rawlog's
        `.out` files): what "downloaded" means. Header and size fetches are not bodies."""
        found: list[int] = []
        for log in sorted((self.root / "rawlog" / user).glob("*.out")):
            found += [int(n) for n in BODY_LITERAL.findall(log.read_bytes())]
        return found


BODY_LITERAL = re.compile(rb"BODY\[\] \{(\d+)\}")


def refusal_variable(kind: str) -> str:
    return f"LATECLAIM_TEST_REFUSAL_{kind.upper()}"


def commands_in(rawlog: bytes) -> list[str]:
    """Command names in one rawlog `.in` file. Every line starts with "<unix-ts.usec> ", literal payloads too,
    so lines inside a `{n}` literal (an APPEND body) are skipped by counting their bytes."""
    found: list[str] = []
    pending = 0  # literal bytes still to skip
    for line in rawlog.splitlines(keepends=True):
        text = line.split(b" ", 1)[1] if b" " in line else b""
        if pending > 0:
            pending -= len(text)
            continue
        words = text.split()
        if len(words) >= 2:
            name = words[1].decode("ascii", "replace").upper()
            if name == "UID" and len(words) >= 3:
                name += " " + words[2].decode("ascii", "replace").upper()
            found.append(name)
        literal = text.rstrip(b"\r\n")
        if literal.endswith(b"}") and b"{" in literal:
            size = literal[literal.rindex(b"{") + 1:-1].rstrip(b"+")
            pending = int(size) if size.isdigit() else 0
    return found
