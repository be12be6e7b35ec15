"""`lateclaim run`: the long-running process.

- The first sync runs before anything else, so that a wrong password or an unreachable server fails the start
  visibly: systemd is told READY=1 once it has logged in and read the new mail, before the rules decide and the
  letters go out. What fails after that is retried like any later sync, with the service up.
- What fails after the sign-in (a full disk, a read-only state file, a connection dropped during the first
  reading, another lateclaim holding the state file) does not end the start: the service says READY=1 with the
  failure in STATUS= and retries, so that systemd never restarts it in a loop. Only a failure to sign in (a wrong
  password, an unreachable server) ends it, visibly.
- APScheduler runs a sync `poll_interval` seconds after the last one ended, on one long-lived IMAP connection,
  reopened after any failure. The next pass is scheduled when a pass ends (a one-off job, never two of it), so
  passes never overlap and the scheduler has nothing to skip or miss: no warnings at steady state. A failed sync
  is retried sooner, with exponential backoff and jitter, up to the poll interval. Asking for a pass while one
  runs (new mail, a `lateclaim sync`) makes the next one start as soon as it ends.
- Every morning at 9 in the user's zone a pass runs as well, since deadlines fall due with the date.
- `lateclaim sync` typed while the service runs asks it for a pass through a socket beside the state file
  (daemon.control) and prints what it did; SIGUSR1 (`systemctl kill -s USR1 lateclaim`) asks for one silently.
  A second `lateclaim run` on the same state file exits at once, naming the first.
- A watcher thread keeps a second connection in IMAP IDLE (re-issued every IDLE_RENEW seconds, well under the
  29 minutes servers allow) and brings the next sync forward when new mail arrives. It feeds the systemd
  watchdog from its loop, so a hung loop gets the service restarted.
- SIGTERM or SIGINT: the running sync stops after the message it is recording, and the process exits 0.
  SIGHUP: the configuration is read again; a broken one is reported and the old one kept.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import structlog

from daemon import clock
from daemon.config import Config, load
from daemon.control import ControlServer, ask
from daemon.errors import ConfigError, MailboxError, ResourceError, StateBusy
from daemon.mail.imap import ImapMailbox
from daemon.passes.pipeline import PassResult, imap_settings, sync_with
from daemon.passes.sync import SyncSummary
from daemon.state.lock import WriterLock
from daemon.systemd import notify

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = structlog.get_logger("lateclaim.service")

IDLE_RENEW = 600.0  # seconds: Gmail and peers drop an IDLE left alone for 29 minutes or less
LIMIT_PAUSE = 3600.0  # seconds, at least: after a quota or too-many-connections refusal, trying sooner makes it worse
PROGRESS_EVERY, PROGRESS_EVERY_S = 100, 10.0  # messages, seconds: how often a first reading reports progress
START_EXTENSION_S = 120  # each report gives the start this much more time (the units' TimeoutStartSec)


class Backoff:
    """Exponential backoff with full jitter: first, 2 x first, 4 x first... capped."""

    def __init__(self, first: float, cap: float) -> None:
        self.first, self.cap, self.failures = first, cap, 0

    def next(self) -> float:
        self.failures += 1
        return random.uniform(self.first, min(self.cap, self.first * 2 ** (self.failures - 1)))

    def reset(self) -> None:
        self.failures = 0


class Service:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.stop = threading.Event()
        self.lock = threading.Lock()  # one sync at a time, whoever asks
        self.mailbox: ImapMailbox | None = None
        self.retry = Backoff(5, config.mailbox.poll_interval)
        self.scheduler: BackgroundScheduler | None = None  # made after READY=1: the start need not load it
        self.quiet_until = clock.now()  # no connection before this (a server's limit was reached)
        self.ready = False  # READY=1 sent
        self.signed_in = False  # the mailbox took our credentials once: later failures are retried, not fatal
        self.progress_at = time.monotonic()  # the last progress report of the first reading
        self.schedule_lock = threading.Lock()  # guards `passing` and `again` against the scheduling below
        self.passing = False  # a scheduled pass is running
        self.again = False  # a pass was asked for while one was running: the next one starts when it ends
        self.control: ControlServer | None = None

    def _limit_reached(self, exc: BaseException) -> float | None:
        """The pause, in seconds, that a quota or connection-limit refusal imposes; None for any other error.
        Both connections (sync and watcher) keep quiet until it is over."""
        if not (isinstance(exc, MailboxError) and exc.refused_for_long):
            return None
        delay = random.uniform(LIMIT_PAUSE, 1.5 * LIMIT_PAUSE)
        self.quiet_until = max(self.quiet_until, clock.now() + timedelta(seconds=delay))
        return delay

    # -- syncing ----------------------------------------------------------------------------------------

    def _connection(self) -> ImapMailbox:
        if self.mailbox is None:
            self.mailbox = ImapMailbox(imap_settings(self.config)).__enter__()
            self.signed_in = True
        return self.mailbox

    def _drop_connection(self) -> None:
        mailbox, self.mailbox = self.mailbox, None
        if mailbox is not None:
            mailbox.__exit__(None, None, None)

    def sync_once(self) -> PassResult:
        """One pass; errors propagate (the first one, before the sign-in, ends the start)."""
        with self.lock:
            reused = self.mailbox is not None
            try:
                result = sync_with(self._connection(), self.config, clock.now(), self.stop, self._reading)
            except MailboxError as exc:
                self._drop_connection()
                if not (reused and exc.lost):
                    raise
                # The server ended the kept session (Gmail does after about an hour): a new one, once, silently.
                log.info("reconnecting", reason=str(exc))
                try:
                    result = sync_with(self._connection(), self.config, clock.now(), self.stop, self._reading)
                except BaseException:
                    self._drop_connection()
                    raise
            except BaseException:
                self._drop_connection()
                raise
        notify(f"STATUS=Synced at {clock.now():%Y-%m-%d %H:%M} UTC: {result.sync.new} new messages, "
               f"{len(result.evaluation.created)} claims created", "WATCHDOG=1")
        if sys.stdout.isatty():  # `lateclaim run` in the foreground: the pass in sentences too
            from daemon.output.narrate import tell

            tell(result, self.config)
        return result

    def _reading(self, summary: SyncSummary, done: bool) -> None:
        """How the first pass's reading goes. Once the mail is read, the service is up, whatever the rest of the
        pass does. Until then, a long first reading (years of Amazon mail) tells systemd it is making progress,
        so that TimeoutStartSec does not kill it half-way."""
        if self.ready:
            return
        if done:
            notify("READY=1", f"STATUS=Started: {summary.new} new messages read")
            self.ready = True
        elif summary.fetched % PROGRESS_EVERY == 0 or time.monotonic() - self.progress_at >= PROGRESS_EVERY_S:
            self.progress_at = time.monotonic()
            notify(f"EXTEND_TIMEOUT_USEC={START_EXTENSION_S * 1_000_000}",
                   f"STATUS=First reading of the mailbox: {summary.fetched} messages so far")

    def sync(self) -> None:
        """The scheduled job: never raises; schedules the next pass when it ends, sooner after a failure."""
        with self.schedule_lock:
            self.passing, self.again = True, False
        wait = float(self.config.mailbox.poll_interval)
        try:
            if self.stop.is_set():
                return
            if (quiet := (self.quiet_until - clock.now()).total_seconds()) > 0:
                wait = quiet  # a server's limit was reached: its pause is not over
                return
            try:
                self.sync_once()
                self.retry.reset()
            except Exception as exc:  # noqa: BLE001 - _failed logs it, with its traceback when it was not foreseen
                wait = self._failed(exc)
        finally:
            with self.schedule_lock:
                self.passing = False
                self._schedule(0.0 if self.again else wait)

    def pass_now(self) -> str:
        """A pass asked for by `lateclaim sync` (daemon.control): made now, or right after the running one; the
        answer is its status ("0" done, "1" failed) and one line saying what it did."""
        who = f"the running service (pid {os.getpid()})"
        if self.stop.is_set():
            return f"1 {who} is stopping: no pass was made"
        if clock.now() < self.quiet_until:
            return (f"1 {who} is pausing after the server's limit was reached, until "
                    f"{self.quiet_until:%Y-%m-%d %H:%M} UTC: no pass was made")
        try:
            result = self.sync_once()
            self.retry.reset()
        except Exception as exc:  # noqa: BLE001 - _failed logs it; the asker is told
            delay = self._failed(exc)
            self._bring_forward(delay)
            return f"1 {who} made a pass, which failed (it retries in {delay:.0f} s): {exc}"
        return (f"0 {who} made a pass: {result.sync.new} new messages, {len(result.evaluation.created)} claims "
                f"created, {len(result.delivered)} delivered, {len(result.followed)} followed up")

    def _failed(self, exc: Exception) -> float:
        """Logs a failed pass (called while handling it); returns the seconds until the next attempt."""
        if not isinstance(exc, ResourceError):  # a bug, not a server or file that failed
            log.exception("sync_crashed")
            return self.retry.next()
        delay = self._limit_reached(exc) or self.retry.next()
        log.error("sync_failed", error=str(exc), retry_in=round(delay), **_server_says(exc))
        notify(f"STATUS=Last sync failed, retrying in {delay:.0f} s: {exc}")
        return delay

    def _bring_forward(self, seconds: float) -> None:
        """The next pass in `seconds` at the latest; while one runs, the next starts as soon as it ends."""
        with self.schedule_lock:
            if self.passing:
                self.again = self.again or seconds <= 0
                return
            job = self.scheduler.get_job("sync") if self.scheduler is not None and self.scheduler.running else None
            due = job.next_run_time if job is not None else None
            if due is None or due > clock.now() + timedelta(seconds=seconds):
                self._schedule(seconds)

    def _schedule(self, seconds: float) -> None:
        """The next pass, as a one-off job (called under schedule_lock): one pass is never due twice."""
        if self.stop.is_set() or self.scheduler is None or not self.scheduler.running:
            return
        # max_instances=2: a pass asked for while one ran is scheduled by that one as it ends, before the
        # executor counts it finished; the two never overlap (the new one waits on self.lock for the last line).
        self.scheduler.add_job(self.sync, "date", run_date=clock.now() + timedelta(seconds=seconds), id="sync",
                               replace_existing=True, misfire_grace_time=None, coalesce=True, max_instances=2)

    # -- watching ---------------------------------------------------------------------------------------

    def _tick(self) -> bool:
        notify("WATCHDOG=1")
        return not self.stop.is_set()

    def _pause(self, seconds: float) -> None:
        """Wait, still feeding the watchdog, until `seconds` pass or a stop is asked."""
        end = clock.now() + timedelta(seconds=seconds)
        while self._tick() and clock.now() < end:
            self.stop.wait(min(30.0, (end - clock.now()).total_seconds()))

    def watch(self) -> None:
        backoff = Backoff(5, 900)
        while not self.stop.is_set():
            if (quiet := (self.quiet_until - clock.now()).total_seconds()) > 0:
                self._pause(quiet)
                continue
            try:
                with ImapMailbox(imap_settings(self.config)) as mailbox:
                    folder = mailbox.folders_to_read()[0]
                    if backoff.failures:
                        self._bring_forward(0)  # mail may have come while the watcher was away: catch up
                    backoff.reset()
                    log.info("watching", folder=folder)
                    while not self.stop.is_set():
                        if mailbox.wait_for_mail(folder, IDLE_RENEW, self._tick):
                            log.info("new_mail", folder=folder)
                            self._bring_forward(0)
            except ResourceError as exc:
                delay = self._limit_reached(exc) or backoff.next()
                log.warning("watch_interrupted", error=str(exc), retry_in=round(delay), **_server_says(exc))
                self._pause(delay)

    # -- signals ----------------------------------------------------------------------------------------

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        log.info("stop_requested", signal=signal.Signals(signum).name)
        notify("STOPPING=1")
        self.stop.set()

    def reload(self, signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=self._reload, name="reload", daemon=True).start()  # not inside the handler

    def asked_for_pass(self, signum: int, frame: FrameType | None) -> None:
        log.info("pass_requested", signal=signal.Signals(signum).name)
        threading.Thread(target=self._bring_forward, args=(0,), name="pass-request", daemon=True).start()

    def _reload(self) -> None:
        path = self.config.source
        if path is None:
            return
        try:
            new = load(Path(path))
        except ConfigError as exc:
            log.error("reload_refused", problems=exc.problems, kept=str(path))
            notify("STATUS=New configuration refused; the previous one is kept")
            return
        with self.lock:
            self.config = new
            self._drop_connection()
        self._bring_forward(new.mailbox.poll_interval)  # a shorter interval counts from now
        log.info("config_reloaded", path=str(path))
        notify("STATUS=Configuration reloaded")  # no RELOADING=1 was sent (Type=notify): nothing to close

    # -- the whole life -----------------------------------------------------------------------------------

    def _open_door(self) -> None:
        """Refuse to be a second service on this state file; else listen for `lateclaim sync` (daemon.control).
        Both under the writer lock, so that two services starting together cannot both listen."""
        state = self.config.state.path
        try:
            state.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            door = WriterLock(state).acquire()
        except StateBusy:
            return  # a long command holds the state file: the first pass waits for it; `sync` will find no door
        except OSError as exc:  # a read-only state directory, say: the first pass reports it
            log.warning("control_socket_unavailable", error=str(exc))
            return
        try:
            there = ask(state, "who", timeout=5.0)
            if there is not None:
                pid, _, what = there.partition(" ")
                raise StateBusy(f"another lateclaim (pid {pid}, `{what}`) is using {state}")
            self.control = ControlServer(state, {"who": lambda: f"{os.getpid()} lateclaim run",
                                                 "pass": self.pass_now})
            self.control.start()
        except OSError as exc:
            log.warning("control_socket_unavailable", error=str(exc))
        finally:
            door.release()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.reload)
        signal.signal(signal.SIGUSR1, self.asked_for_pass)
        self._open_door()  # a second service says so in one line, before anything else
        interval = self.config.mailbox.poll_interval
        log.info("starting", poll_interval=interval, mode=self.config.claims.mode)
        try:
            return self._run(interval)
        finally:
            if self.control is not None:
                self.control.stop()

    def _run(self, interval: int) -> int:
        first_wait = float(interval)
        try:
            self.sync_once()  # a failure to sign in ends the start, visibly
        except Exception as exc:
            if self.ready or self.signed_in:
                # Signed in: what failed (a full disk, a read-only state file, a connection dropped while
                # reading) is retried like any later pass, with the service up, never in a restart loop.
                first_wait = self._failed(exc)
                if not self.ready:
                    self.ready = True
                    notify("READY=1", f"STATUS=Signed in, but the first pass failed; retrying in "
                           f"{first_wait:.0f} s: {exc}")
            elif (pause := self._limit_reached(exc)) is not None:
                # A server's limit, not a mistake of ours: exiting would have systemd restart us into the same
                # refusal every 30 s. Stay up, say so in the server's words, and try again in an hour.
                first_wait, self.ready = pause, True
                log.error("sync_refused", error=str(exc), retry_in=round(pause), **_server_says(exc))
                notify("READY=1", f"STATUS=The server refused the connection; next attempt in {pause / 60:.0f} min: "
                       f"{exc}")
            else:
                raise
        from apscheduler.schedulers.background import BackgroundScheduler

        self.scheduler = scheduler = BackgroundScheduler(timezone="UTC")
        # Deadlines fall due with the date, not with mail: a pass every morning too, whatever the interval. The
        # job only brings the next pass forward: it never runs one beside the scheduled one.
        scheduler.add_job(self._bring_forward, "cron", args=(0,), hour=9, timezone=self.config.rules.timezone,
                          id="daily", coalesce=True, max_instances=1, misfire_grace_time=None)
        scheduler.start()
        with self.schedule_lock:
            self._schedule(first_wait)
        watcher = threading.Thread(target=self.watch, name="idle-watcher", daemon=True)
        watcher.start()
        self.stop.wait()
        scheduler.shutdown(wait=True)  # lets a running sync finish the message it is on
        with self.lock:
            self._drop_connection()
        log.info("stopped")
        return 0


def _server_says(exc: BaseException) -> dict[str, str]:
    """The server's own words and response code, as log fields, when it gave them."""
    if isinstance(exc, MailboxError) and exc.server_says:
        return {"server_says": exc.server_says, "server_code": exc.code}
    return {}


def run(config: Config) -> int:
    return Service(config).run()
