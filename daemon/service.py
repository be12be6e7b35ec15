"""`lateclaim run`: the long-running process.

The first sync runs before anything else, so that a wrong password or an unreachable server fails the start
visibly (systemd is told READY only after it). Then APScheduler runs a sync every `poll_interval`: one at a
time, missed runs merged into one. SIGTERM or SIGINT sets an event; the running sync stops after the message
it is recording, the scheduler shuts down, and the process exits 0.
"""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from types import FrameType

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from daemon import clock
from daemon.config import Config
from daemon.imap import MailboxError
from daemon.pipeline import sync_mailbox
from daemon.secrets import SecretError
from daemon.store import StoreError
from daemon.systemd import notify

log = structlog.get_logger("lateclaim.service")


class Service:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.stop = threading.Event()

    def sync(self) -> None:
        if self.stop.is_set():
            return
        try:
            result = sync_mailbox(self.config, clock.now(), self.stop)
        except (MailboxError, SecretError, StoreError) as exc:
            log.error("sync_failed", error=str(exc))
            notify(f"STATUS=Last sync failed: {exc}")
            return
        except Exception:
            log.exception("sync_crashed")
            return
        notify(f"STATUS=Synced at {clock.now():%Y-%m-%d %H:%M} UTC: {result.sync.new} new messages, "
               f"{len(result.evaluation.created)} claims created", "WATCHDOG=1")

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        log.info("stop_requested", signal=signal.Signals(signum).name)
        notify("STOPPING=1")
        self.stop.set()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        interval = self.config.mailbox.poll_interval
        log.info("starting", poll_interval=interval, mode=self.config.claims.mode)
        sync_mailbox(self.config, clock.now(), self.stop)  # errors here end the start, visibly
        notify("READY=1", "STATUS=First sync done")
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            self.sync, "interval", seconds=interval, id="sync",
            next_run_time=clock.now() + timedelta(seconds=interval),
            coalesce=True, max_instances=1, misfire_grace_time=None,
        )
        scheduler.start()
        self.stop.wait()
        scheduler.shutdown(wait=True)  # lets a running sync finish the message it is on
        log.info("stopped")
        return 0


def run(config: Config) -> int:
    return Service(config).run()
