"""The IMAP mailbox: read-only scans and fetches, and drafts appended to the \\Drafts folder.

Reading never changes the mailbox: folders are opened with EXAMINE (read-only) and bodies fetched with
BODY.PEEK[], so no message is marked \\Seen. Only Amazon mail is downloaded: the server filters by sender
first. Folders are found by their special-use flag (\\All, \\Drafts, \\Sent), whatever their localized names.
"""

from __future__ import annotations

import contextlib
import email
import re
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from types import TracebackType
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from imapclient.imapclient import ALL, DRAFTS, SENT

from daemon import __version__
from daemon.config import is_loopback
from daemon.errors import MailboxError
from daemon.mail.headers import bare_id

NOTICE_HEADER = "X-Lateclaim-Notice"  # marks lateclaim's notices to the user (daemon/passes/notices.py)
IDLE_SLICE = 30.0  # seconds: how often a silent IDLE wakes up to feed the watchdog and check for a stop


SERVER_WORDS = re.compile(r"\[(?P<code>[A-Z][A-Z0-9-]*)(?:[^\]]*)\]\s*(?P<text>.*)", re.S)


def server_words(exc: BaseException) -> tuple[str, str]:
    """(response code, the server's text) from an imapclient error, e.g. ("ALERT", "Too many simultaneous
    connections. (Failure)"). imapclient shows the server's line as a bytes repr: b'[ALERT] ...'."""
    text = str(exc)
    quoted = re.fullmatch(r"b(['\"])(?P<inner>.*)\1", text, re.S)
    if quoted:
        text = quoted.group("inner").encode("latin-1", "backslashreplace").decode("unicode_escape", "replace")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())[:300]
    found = SERVER_WORDS.search(text)
    if found is None:
        return "", text
    return found.group("code"), found.group(0).strip()


@dataclass(frozen=True)
class ImapSettings:
    """How to reach and sign in to the IMAP account, secrets already read."""
    host: str
    port: int
    security: str  # tls | starttls | plain
    username: str
    password: str
    folders: tuple[str, ...] = ()
    ca_file: str | None = None
    timeout: float = 60.0
    oauth2_token: Callable[[], str] | None = None  # set: sign in with XOAUTH2, the password is unused


@dataclass(frozen=True)
class FolderState:
    """What a scan of one folder found beyond the stored cursor."""
    folder: str
    uidvalidity: int
    uids: tuple[int, ...]  # new UIDs (> the cursor) from Amazon senders, ascending


@dataclass(frozen=True)
class Described:
    """What the server says of a message before any of its body is downloaded."""
    size: int  # RFC822.SIZE: the bytes a download would cost
    message_id: bytes  # the raw Message-ID header field (b"" when there is none)
    gm_msgid: int | None = None  # Gmail's message id, the same in every folder (label) that shows the message


def any_of(groups: Sequence[list[Any]]) -> list[Any]:
    """IMAP's OR takes two keys: any of n groups is OR g1 (OR g2 (... gn)), a list being a parenthesized group."""
    combined = groups[-1]
    for group in reversed(groups[:-1]):
        combined = ["OR", group, combined]
    return combined


def sender_filter(domains: Sequence[str], gmail: bool) -> list[Any]:
    """The server-side filter on senders: Gmail's own search syntax where offered (X-GM-EXT-1), one cheap
    X-GM-RAW term instead of a chain of ORs; standard SEARCH FROM everywhere else."""
    if gmail and domains:
        return ["X-GM-RAW", "from:(" + " OR ".join(domains) + ")"]
    return sender_criteria(domains)


def sender_criteria(domains: Sequence[str]) -> list[Any]:
    """`OR FROM a OR FROM b FROM c` as imapclient criteria: FROM matches a substring of the From header."""
    if not domains:
        raise ValueError("no sender domains: a search without them would match every message")
    criteria: list[Any] = ["FROM", domains[-1]]
    for domain in reversed(domains[:-1]):
        criteria = ["OR", "FROM", domain, criteria]
    return criteria


def message_id_criteria(message_id: str) -> list[Any]:
    """Finding a message by its Message-ID with a standard search (Gmail has its own `rfc822msgid:`)."""
    return ["HEADER", "Message-ID", f"<{message_id.strip().strip('<>')}>"]


def readable_text(raw: bytes) -> str:
    """A message's subject and text parts, decoded: what a phrase search is checked against."""
    message = email.message_from_bytes(raw, policy=policy.default)
    parts = [str(message.get("Subject", ""))]
    for part in message.walk():
        if isinstance(part, EmailMessage) and part.get_content_maintype() == "text" and not part.is_multipart():
            with contextlib.suppress(LookupError, ValueError, AssertionError):
                parts.append(str(part.get_content()))
    return "\n".join(parts)


@dataclass(frozen=True)
class Placed:
    """Where an APPEND put a message, as the server said (APPENDUID) and, on Gmail, its X-GM ids."""

    folder: str
    uidvalidity: int | None = None
    uid: int | None = None
    gm_msgid: int | None = None
    gm_thrid: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def xoauth2_login(client: IMAPClient, user: str, token: str, said: list[str]) -> None:
    """SASL XOAUTH2 as Google documents it: the initial response carries the token; when the server refuses it,
    it sends an error challenge (base64 JSON: status, schemes, scope) that the client answers with an empty
    line, and only then does the command fail (imapclient's oauth2_login() sends the token again instead). The
    error challenge's words go into `said`, for the message the user reads; the refusal raises LoginError."""
    sent = False

    def respond(challenge: bytes) -> bytes:
        nonlocal sent
        if not sent:
            sent = True
            return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
        text = challenge.decode("utf-8", "replace")
        said.append(" ".join("".join(c if c.isprintable() else " " for c in text).split())[:300])
        return b""

    try:
        client.sasl_login("XOAUTH2", respond)
    except LoginError:
        raise
    except IMAPClientError as exc:
        raise LoginError(str(exc)) from exc


def close(client: IMAPClient) -> None:
    """Drop a connection that is failing anyway: its own error is the one worth reporting."""
    with contextlib.suppress(OSError, IMAPClientError):
        client.shutdown()


class ImapMailbox:
    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.where = f"{settings.host}:{settings.port}"
        self._client: IMAPClient | None = None
        self._special: dict[bytes, str | None] = {}
        self._flagged: dict[bytes, str] | None = None  # special-use flag -> folder, from one LIST
        self._selected: str | None = None
        self._gmail: bool | None = None

    # -- connection -----------------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def __enter__(self) -> ImapMailbox:
        s = self.settings
        if s.security == "plain" and not is_loopback(s.host):
            raise MailboxError(f"IMAP {self.where}: plain is refused for a non-loopback host (use tls or starttls)")
        if s.security not in ("tls", "starttls", "plain"):
            raise MailboxError(f"IMAP {self.where}: unknown security {s.security!r} (tls, starttls or plain)")
        try:
            client = IMAPClient(s.host, s.port, ssl=s.security == "tls",
                                ssl_context=self._context() if s.security == "tls" else None, timeout=s.timeout)
        except (OSError, IMAPClientError) as exc:  # ssl.SSLError (a bad certificate) is an OSError
            raise MailboxError(f"IMAP {self.where}: cannot connect: {exc}") from None
        # imapclient sets imaplib's protocol trace to its highest level and routes it to a logger: imaplib then
        # formats every response, whole message bodies included, into a string that the logger drops. That cost
        # 1 of the 1.3 ms of CPU a 78 KB email's download takes, and a protocol trace would carry bodies, which
        # lateclaim never logs: the trace is switched off.
        client._imap.debug = 0
        challenge: list[str] = []  # what an XOAUTH2 refusal's error challenge said
        if s.security == "starttls":
            try:
                client.starttls(self._context())
            except (OSError, IMAPClientError) as exc:
                close(client)
                raise MailboxError(f"IMAP {self.where}: STARTTLS failed: {exc}") from None
        try:
            if s.oauth2_token is not None:
                xoauth2_login(client, s.username, s.oauth2_token(), challenge)
            else:
                client.login(s.username, s.password)
        except LoginError as exc:
            close(client)
            raise self._refused(exc, challenge) from None
        except (OSError, IMAPClientError) as exc:
            close(client)
            code, words = server_words(exc)
            raise MailboxError(f"IMAP {self.where}: login failed: {words}", code, words) from None
        self._identify(client)
        self._client = client
        return self

    def _refused(self, exc: LoginError, challenge: list[str]) -> MailboxError:
        """A refused login, in the server's own words: a wrong password is said as such, anything else (Gmail's
        [ALERT] Too many simultaneous connections, [OVERQUOTA], "log in via your web browser") is quoted; for
        XOAUTH2, with what the server's error challenge said ({"status":"401",...})."""
        s = self.settings
        code, words = server_words(exc)
        if challenge:
            words = f"{words} ({' '.join(challenge)})" if words else " ".join(challenge)
        what = "the OAuth2 token" if s.oauth2_token is not None else "the password"
        limit = MailboxError("", code, words).refused_for_long
        if not limit and code in ("AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", ""):
            said = f"; the server says: {words}" if words else ""
            return MailboxError(f"IMAP {self.where}: login failed for {s.username}: wrong user name or password "
                                f"(check {what}){said}", code, words)
        later = " (a limit of the server's: `lateclaim run` waits an hour before trying again)" if limit else ""
        return MailboxError(f"IMAP {self.where}: login failed for {s.username}: the server refused it and says: "
                            f"{words}{later}", code, words)

    @staticmethod
    def _identify(client: IMAPClient) -> None:
        """IMAP ID (RFC 2971), as Gmail asks of clients; a server without it, or refusing it, changes nothing."""
        with contextlib.suppress(OSError, IMAPClientError):
            if b"ID" in client.capabilities():
                client.id_({"name": "lateclaim", "version": __version__})

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except (OSError, IMAPClientError):
            close(client)

    @property
    def gmail(self) -> bool:
        if self._gmail is None:
            self._gmail = b"X-GM-EXT-1" in self._call("CAPABILITY", self.client.capabilities)
        return self._gmail

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise MailboxError(f"IMAP {self.where}: not connected")
        return self._client

    def _call(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except (OSError, IMAPClientError) as exc:
            code, words = server_words(exc)
            lost = isinstance(exc, (OSError, IMAPClientAbortError))
            raise MailboxError(f"IMAP {self.where}: {what} failed: {words or exc}", code, words, lost) from None

    # -- folders --------------------------------------------------------------------------------------

    def _special_folder(self, flag: bytes) -> str | None:
        # find_special_folder sends a full LIST on every call: one LIST per connection answers every flag.
        if self._flagged is None:
            self._flagged = {}
            for flags, _, name in self._call("LIST", self.client.list_folders):
                for each in flags:
                    self._flagged.setdefault(each, name)
        if flag not in self._special:
            found = self._flagged.get(flag)
            if found is None and flag != ALL:
                # A server without SPECIAL-USE: imapclient's guess by well-known names ("Drafts", "Sent Items").
                # Never for \All: a folder merely named like an archive must not replace INBOX.
                found = self._call("LIST", self.client.find_special_folder, flag)
            self._special[flag] = found
        return self._special[flag]

    def folders_to_read(self) -> list[str]:
        if self.settings.folders:
            return list(self.settings.folders)
        return [self._special_folder(ALL) or "INBOX"]

    def all_mail_folder(self) -> str | None:
        """The \\All folder (Gmail's All Mail), or None when the server shows none (or Gmail's user hid it)."""
        return self._special_folder(ALL)

    def drafts_folder(self) -> str:
        folder = self._special_folder(DRAFTS)
        if folder is None:
            raise MailboxError(f"IMAP {self.where}: no folder is flagged \\Drafts; on Gmail, tick 'Show in IMAP' "
                               "for Drafts in Settings, Labels")
        return folder

    def sent_folder(self) -> str | None:
        return self._special_folder(SENT)

    # -- reading --------------------------------------------------------------------------------------

    def _examine(self, folder: str) -> int:
        """Open `folder` read-only (EXAMINE: nothing in it can change) and return its UIDVALIDITY."""
        self._selected = None
        info = self._call(f"EXAMINE {folder}", self.client.select_folder, folder, readonly=True)
        self._selected = folder
        return int(info[b"UIDVALIDITY"])

    def _open(self, folder: str) -> None:
        """Make `folder` the open one, without a command when it already is."""
        if self._selected != folder:
            self._examine(folder)

    def scan(self, folder: str, uidvalidity: int | None, last_uid: int, sender_domains: Sequence[str],
             since: date | None = None) -> FolderState:
        current = self._examine(folder)
        start = last_uid if uidvalidity == current else 0
        criteria = ["UID", f"{start + 1}:*", *sender_filter(sender_domains, self.gmail)]
        if since is not None:
            criteria += ["SINCE", since]
        uids = self._call(f"SEARCH in {folder}", self.client.search, criteria)
        # `UID n:*` always matches the highest UID, even below n: keep only what is really new.
        return FolderState(folder, current, tuple(sorted(uid for uid in uids if uid > start)))

    def scan_forwards(self, folder: str, last_uid: int, own: Sequence[str]) -> tuple[int, ...]:
        """UIDs above `last_uid` of mail from the user's own addresses that names Amazon (in the subject or the
        body): Amazon emails the user forwarded to this mailbox, which the sender filter cannot see."""
        if not own:
            return ()
        self._open(folder)
        start = last_uid
        # Never our own drafts or notices: they come from the user's address too, and name Amazon.
        if self.gmail:
            criteria: list[Any] = ["X-GM-RAW", "from:(" + " OR ".join(own) + ") amazon -in:drafts"]
        else:
            criteria = [*any_of([["FROM", address] for address in own]), "OR", "SUBJECT", "amazon", "BODY", "amazon",
                        "NOT", "DRAFT"]
        criteria += ["NOT", "HEADER", NOTICE_HEADER, ""]
        uids = self._call(f"SEARCH in {folder}", self.client.search, ["UID", f"{start + 1}:*", *criteria])
        return tuple(sorted(uid for uid in uids if uid > start))

    def fetch(self, folder: str, uids: Sequence[int], batch: int = 50) -> Iterator[tuple[int, bytes]]:
        if not uids:
            return
        self._open(folder)
        for first in range(0, len(uids), batch):
            chunk = list(uids[first:first + batch])
            found = self._call(f"FETCH in {folder}", self.client.fetch, chunk, ["BODY.PEEK[]"])
            for uid in chunk:
                data = found.get(uid)
                if data is not None and b"BODY[]" in data:
                    yield uid, bytes(data[b"BODY[]"])

    def describe(self, folder: str, uids: Sequence[int], batch: int = 1000) -> dict[int, Described]:
        """Size, Message-ID and (on Gmail) message id of each message, in one FETCH per `batch` UIDs: about 100
        bytes a message, so that known ones are recognised and oversized ones refused without a download."""
        self._open(folder)
        items = ["RFC822.SIZE", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"] + (["X-GM-MSGID"] if self.gmail else [])
        key = b"BODY[HEADER.FIELDS (MESSAGE-ID)]"
        found: dict[int, Described] = {}
        for first in range(0, len(uids), batch):
            answer = self._call(f"FETCH in {folder}", self.client.fetch, list(uids[first:first + batch]), items)
            for uid, data in answer.items():
                if b"RFC822.SIZE" in data:
                    gm = data.get(b"X-GM-MSGID")
                    found[uid] = Described(int(data[b"RFC822.SIZE"]), bytes(data.get(key) or b""),
                                           int(gm) if gm is not None else None)
        return found

    def search(self, folder: str, criteria: list[Any]) -> list[int]:
        self._open(folder)
        wide = any(isinstance(c, str) and not c.isascii() for c in criteria)
        charset = "UTF-8" if wide else None  # a French subject, say: the server must be told
        return sorted(self._call(f"SEARCH in {folder}", self.client.search, criteria, charset))

    # -- finding lateclaim's own messages again: the one place Gmail's commands are used ----------------
    # Dovecot has none of X-GM-RAW / X-GM-MSGID / X-GM-THRID: elsewhere each method takes the standard path (the
    # one the test suite runs), and a server's search result is only ever a hint, checked against the message.

    def find_message_id(self, folder: str, message_id: str) -> list[int]:
        """UIDs in `folder` of the messages whose Message-ID header is `message_id` (checked in the header). In
        Drafts, by listing the folder and reading every Message-ID (Gmail's HEADER search misses, and its index
        lags behind an APPEND: what a crash recovery decides must not rest on it); elsewhere (Sent, large) by a
        search, Gmail's own `rfc822msgid:` there."""
        bare = bare_id(message_id)
        if folder == self._special_folder(DRAFTS):
            return sorted(uid for uid, found in self.listed(folder).items() if found == bare)
        uids = self._gmail_search(folder, f"rfc822msgid:{bare}") if self.gmail else \
            self.search(folder, message_id_criteria(bare))
        return [uid for uid, found in self.message_ids(folder, uids).items() if found == bare]

    def listed(self, folder: str) -> dict[int, str]:
        """UID -> Message-ID of every message in `folder`, from a UID listing and the headers alone: no search
        index is involved. For small folders (Drafts)."""
        self._open(folder)
        uids = self._call(f"SEARCH in {folder}", self.client.search, ["ALL"])
        return self.message_ids(folder, sorted(uids))

    def _gmail_search(self, folder: str, query: str) -> list[int]:
        """Gmail's own search syntax (X-GM-RAW), through imapclient's gmail_search()."""
        self._open(folder)
        return sorted(self._call(f"SEARCH in {folder}", self.client.gmail_search, query))

    def contains_message_id(self, folder: str, message_id: str) -> bool:
        return bool(self.find_message_id(folder, message_id))

    def find_text(self, folder: str, text: str) -> dict[int, bytes]:
        """UID -> raw message, for the messages in `folder` whose subject or text contains `text` (checked in
        the decoded message, not only by the server's search)."""
        uids = self._gmail_search(folder, f'"{text}"') if self.gmail else self.search(folder, ["TEXT", text])
        return {uid: raw for uid, raw in self.fetch(folder, uids) if text in readable_text(raw)}

    def gmail_ids(self, folder: str, uids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """UID -> (X-GM-MSGID, X-GM-THRID) on Gmail; nothing elsewhere."""
        if not self.gmail or not uids:
            return {}
        self._open(folder)
        found = self._call(f"FETCH in {folder}", self.client.fetch, list(uids), ["X-GM-MSGID", "X-GM-THRID"])
        return {uid: (int(data[b"X-GM-MSGID"]), int(data[b"X-GM-THRID"])) for uid, data in found.items()
                if b"X-GM-MSGID" in data and b"X-GM-THRID" in data}

    def find_thread(self, folder: str, thread_id: int) -> list[int]:
        """UIDs in `folder` of Gmail's thread `thread_id`; nothing elsewhere (no thread ids to search by)."""
        if not self.gmail:
            return []
        return self.search(folder, ["X-GM-THRID", thread_id])

    def uidvalidity(self, folder: str) -> int:
        return self._examine(folder)

    def present_uids(self, folder: str, uidvalidity: int, uids: Sequence[int]) -> set[int] | None:
        """Which of the messages placed at these UIDs (under `uidvalidity`) are still in `folder`; None when that
        cannot be told (the folder's UIDVALIDITY changed since)."""
        if self._examine(folder) != uidvalidity:
            return None
        if not uids:
            return set()
        found = self._call(f"SEARCH in {folder}", self.client.search, ["UID", ",".join(map(str, uids))])
        return set(found) & set(uids)  # a UID search never answers with more, but a server's word is a hint

    def find_own(self, folder: str, message_ids: Sequence[str], texts: Sequence[str], since: date) -> dict[int, bytes]:
        """UID -> raw message, for the messages in `folder` since `since` that may carry one of `message_ids` or
        `texts` (lateclaim's own messages: the caller checks which is which). One search for them all."""
        if not message_ids and not texts:
            return {}
        if self.gmail:
            terms = [f"rfc822msgid:{m.strip().strip('<>')}" for m in message_ids] + [f'"{t}"' for t in texts]
            criteria: list[Any] = ["SINCE", since, "X-GM-RAW", " OR ".join(terms)]
        else:
            groups = [message_id_criteria(m) for m in message_ids] + [["TEXT", t] for t in texts]
            criteria = ["SINCE", since, any_of(groups)]
        return dict(self.fetch(folder, self.search(folder, criteria)))

    def remove_own(self, folder: str, message_id: str, uid: int | None = None) -> int:
        """Delete lateclaim's own message `message_id` from `folder` (a draft that no longer applies, the round
        trip's test draft); the number removed. It is found by listing the folder (or at `uid`) and reading each
        Message-ID, never by a search; only those UIDs are expunged (UID EXPUNGE: another client's messages
        marked \\Deleted are left alone)."""
        wanted = bare_id(message_id)
        found = self.message_ids(folder, [uid]) if uid is not None else self.listed(folder)
        ours = sorted(u for u, found_id in found.items() if found_id == wanted)
        if not ours:
            return 0
        if b"UIDPLUS" not in self._call("CAPABILITY", self.client.capabilities):
            raise MailboxError(f"IMAP {self.where}: no UIDPLUS, so one message cannot be expunged alone")
        self._selected = None
        self._call(f"SELECT {folder}", self.client.select_folder, folder)
        try:
            self._call(f"STORE in {folder}", self.client.delete_messages, ours)
            self._call(f"EXPUNGE in {folder}", self.client.expunge, ours)
        finally:
            self._call(f"EXAMINE {folder}", self._examine, folder)  # back to read-only
        return len(ours)

    def headers(self, folder: str, uids: Sequence[int], names: Sequence[str]) -> dict[int, Message]:
        """UID -> the named header fields only (BODY.PEEK[HEADER.FIELDS (...)]: no body is downloaded)."""
        if not uids:
            return {}
        self._open(folder)
        wanted = " ".join(n.upper() for n in names)
        found = self._call(f"FETCH in {folder}", self.client.fetch, list(uids),
                           [f"BODY.PEEK[HEADER.FIELDS ({wanted})]"])
        key = f"BODY[HEADER.FIELDS ({wanted})]".encode()
        return {uid: HeaderParser().parsestr(bytes(data.get(key, b"")).decode("ascii", "replace"))
                for uid, data in found.items()}

    def is_own_copy(self, folder: str, uid: int) -> bool:
        """Whether the message at `uid` is one of the user's drafts or sent letters: its \\Draft flag, or on Gmail
        its \\Draft or \\Sent label (All Mail shows both, without their folders)."""
        self._open(folder)
        items = ["FLAGS", "X-GM-LABELS"] if self.gmail else ["FLAGS"]
        data = self._call(f"FETCH in {folder}", self.client.fetch, [uid], items).get(uid, {})
        marks = {m if isinstance(m, bytes) else str(m).encode() for m in
                 (*data.get(b"FLAGS", ()), *data.get(b"X-GM-LABELS", ()))}
        return bool(marks & {b"\\Draft", b"\\Sent"})

    def message_ids(self, folder: str, uids: Sequence[int]) -> dict[int, str]:
        """UID -> Message-ID (without brackets), read from the headers only."""
        return {uid: bare_id(str(h.get("Message-ID", "")))
                for uid, h in self.headers(folder, uids, ["Message-ID"]).items()}

    # -- waiting --------------------------------------------------------------------------------------

    def wait_for_mail(self, folder: str, seconds: float, tick: Callable[[], bool]) -> bool:
        """IDLE on `folder` for at most `seconds`, in short slices; True as soon as the server reports new mail.
        `tick` runs after each slice (the watchdog); when it returns False the wait ends early."""
        self._open(folder)
        self._call("IDLE", self.client.idle)
        try:
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                responses = self._call("IDLE", self.client.idle_check, timeout=min(IDLE_SLICE, left))
                if any(r and r[0] == b"BYE" for r in responses):
                    raise MailboxError(f"IMAP {self.where}: the server closed the connection (BYE)")
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    return True
                if not tick():
                    return False
            return False
        finally:
            # When the connection is gone, the error that ended the wait is the one worth reporting.
            with contextlib.suppress(OSError, IMAPClientError):
                self.client.idle_done()

    # -- writing --------------------------------------------------------------------------------------

    def append_draft(self, raw: bytes) -> Placed:
        """APPEND a draft; where it landed, as far as the server says (to recognise it later)."""
        folder = self.drafts_folder()
        answer = self._call(f"APPEND to {folder}", self.client.append, folder, raw, flags=[b"\\Draft", b"\\Seen"])
        match = re.search(rb"APPENDUID (\d+) (\d+)", answer if isinstance(answer, bytes) else b"")
        if match is None:
            return Placed(folder)
        uidvalidity, uid = int(match[1]), int(match[2])
        ids = self.gmail_ids(folder, [uid])
        gm_msgid, gm_thrid = ids.get(uid, (None, None))
        return Placed(folder, uidvalidity, uid, gm_msgid, gm_thrid)

    def append_unread(self, folder: str, raw: bytes) -> None:
        """APPEND a message of lateclaim's own (a notice to the user) to `folder`, unread: the user sees it as new
        mail. Nothing else in the folder is touched."""
        self._call(f"APPEND to {folder}", self.client.append, folder, raw, flags=[])

    def append_sent(self, raw: bytes) -> bool:
        """File a copy of a message sent by SMTP in \\Sent, as mail clients do; False when there is no such
        folder. Whether to file one depends on the SMTP relay, not on this mailbox (smtp.gmail.com files what
        it sends by itself, another relay sending for a Gmail address does not): the caller decides."""
        folder = self.sent_folder()
        if folder is None:
            return False
        self._call(f"APPEND to {folder}", self.client.append, folder, raw, flags=[b"\\Seen"])
        return True
