"""`lateclaim run`: the long-running process.

- The first sync runs before anything else, so that a wrong password or an unreachable server fails the start
  visibly: systemd is told READY=1 once it has logged in and read the new mail, before the rules decide and the
  letters go out. What fails after that is retried like any later sync, with the service up.
- APScheduler runs a sync every `poll_interval` (one at a time, missed runs merged into one) on one long-lived
  IMAP connection, reopened after any failure. A failed sync is retried sooner, with exponential backoff and
  jitter, up to the poll interval.
- Every morning at 9 in the user's zone a pass runs as well, since deadlines fall due with the date.
- A watcher thread keeps a second connection in IMAP IDLE (re-issued every IDLE_RENEW seconds, well under the
  29 minutes servers allow) and brings the next sync forward when new mail arrives. It feeds the systemd
  watchdog from its loop, so a hung loop gets the service restarted.
- SIGTERM or SIGINT: the running sync stops after the message it is recording, and the process exits 0.
  SIGHUP: the configuration is read again; a broken one is reported and the old one kept.
"""

from __future__ import annotations

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
from daemon.errors import ConfigError, MailboxError, ResourceError
from daemon.mail.imap import ImapMailbox
from daemon.passes.pipeline import imap_settings, sync_with
from daemon.passes.sync import SyncSummary
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
        self.progress_at = time.monotonic()  # the last progress report of the first reading

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
        return self.mailbox

    def _drop_connection(self) -> None:
        mailbox, self.mailbox = self.mailbox, None
        if mailbox is not None:
            mailbox.__exit__(None, None, None)

    def sync_once(self) -> None:
        """One pass; errors propagate (the first one, before READY=1, ends the start)."""
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
        """The scheduled job: never raises, retries sooner after a failure."""
        if self.stop.is_set() or clock.now() < self.quiet_until:
            return  # stopping, or a server's limit was reached: its pause is not over
        try:
            self.sync_once()
            self.retry.reset()
        except Exception as exc:  # noqa: BLE001 - _failed logs it, with its traceback when it was not foreseen
            self._bring_forward(self._failed(exc))

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
        if not self.stop.is_set() and self.scheduler is not None and self.scheduler.running:
            self.scheduler.modify_job("sync", next_run_time=clock.now() + timedelta(seconds=seconds))

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
        if self.scheduler is not None:
            self.scheduler.reschedule_job("sync", trigger="interval", seconds=new.mailbox.poll_interval)
        log.info("config_reloaded", path=str(path))
        notify("RELOADING=0", "STATUS=Configuration reloaded")

    # -- the whole life -----------------------------------------------------------------------------------

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.reload)
        interval = self.config.mailbox.poll_interval
        log.info("starting", poll_interval=interval, mode=self.config.claims.mode)
        first_wait = float(interval)
        try:
            self.sync_once()  # errors before READY=1 end the start, visibly
        except Exception as exc:
            if self.ready:  # the mail was read and the service is up: a retry, as for any later pass
                first_wait = self._failed(exc)
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
        scheduler.add_job(
            self.sync, "interval", seconds=interval, id="sync",
            next_run_time=clock.now() + timedelta(seconds=first_wait),
            coalesce=True, max_instances=1, misfire_grace_time=None,
        )
        # Deadlines fall due with the date, not with mail: evaluate every morning too, whatever the interval.
        scheduler.add_job(self.sync, "cron", hour=9, timezone=self.config.rules.timezone, id="daily",
                          coalesce=True, max_instances=1, misfire_grace_time=None)
        scheduler.start()
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
