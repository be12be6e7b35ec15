"""A throwaway Dovecot for the test suite, on 127.0.0.1, touching nothing outside its temporary directory.

One server per test session (starting costs ~40 ms, stopping ~1.1 s); each test takes a fresh pre-listed user,
so tests never see each other's mail. The layout imitates Gmail's: [Gmail]/Drafts, [Gmail]/Sent Mail... found
by their special-use flags. Facts: ../shared/TESTBED.md.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
USERS = 200
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


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


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
        self.as_root = os.getuid() == 0

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> Dovecot:
        for sub in ("run", "state", "log", "tls", "mail", "rawlog"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        cert, key = self.root / "tls" / "cert.pem", self.root / "tls" / "key.pem"
        if not cert.exists():  # a restart keeps its certificate, mail and ports: clients see the same server
            cert, key = make_certificate(self.root / "tls")
        self.ca_file = str(cert)
        with open(self.root / "passwd", "w") as users:
            for n in range(1, USERS + 1):
                users.write(f"user{n}:{{PLAIN}}secret-{n}-pw::::::\n")
        for n in range(1, USERS + 1):  # Dovecot writes a user's rawlog only into a directory that exists
            (self.root / "rawlog" / f"user{n}").mkdir(exist_ok=True)
        if self.as_root:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
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
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(self._ready, 10, "Dovecot to answer on 127.0.0.1")
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            err = self.process.stderr.read().decode() if self.process.stderr else ""
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
mail_location = maildir:~/Maildir
mailbox_list_index = yes
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

    def new_account(self) -> Account:
        self._next_user += 1
        if self._next_user > USERS:
            raise RuntimeError(f"more than {USERS} test accounts used in one session")
        n = self._next_user
        return Account(f"user{n}", f"secret-{n}-pw", "127.0.0.1", self.port, self.tls_port, self.ca_file)

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
        return list(json.loads(out or b"[]"))

    def flags(self, user: str, mailbox: str) -> dict[int, bytes]:
        """UID -> the message's flags, read server-side (reading them over IMAP could change nothing, but
        this way the test does not even depend on the client under test)."""
        return {int(m["uid"]): m["flags"].encode() for m in self._fetch(user, mailbox)}

    def messages(self, user: str, mailbox: str) -> list[bytes]:
        return [m["text"].encode() for m in self._fetch(user, mailbox)]
