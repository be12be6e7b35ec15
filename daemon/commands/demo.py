"""`lateclaim demo`: the whole pipeline on the bundled sample mailbox, with no account and no network.

The sample mailbox (daemon/sample_mailbox/) holds emails written for the project: an amazon.fr parcel that came
on time, one that came three days late, an amazon.co.uk parcel that never came, a newsletter (left unread by the
sender filter, as a mail server's search leaves it) and a spoofed "Amazon" email. The demo lives through the days
as the daemon would, a pass each day at 12:30 from the first email to a fixed last day, each pass seeing only the
mail that had arrived by then; so its output is the same on every machine, and it tells the story of the late
parcel: "where is my parcel?" drafted the working day after the promise, withdrawn when the parcel came, and the
goodwill request drafted instead.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import date, datetime, time, timedelta
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon import logs
from daemon.commands.claim_actions import resolve, stats
from daemon.config import ClaimsConfig, Config, RulesConfig, StateConfig
from daemon.errors import DemoError
from daemon.mail.emldir import EmlDirMailbox
from daemon.output.explain import claim_rows, order_rows
from daemon.passes.delivery import Channels
from daemon.passes.evaluate import outlooks
from daemon.passes.outbox import DirOutbox
from daemon.passes.pipeline import run_pass
from daemon.state.statefile import check_state
from daemon.state.store import Store

PARIS = ZoneInfo("Europe/Paris")
FIRST_DAY, AS_OF = date(2026, 11, 9), datetime(2026, 11, 24, 12, 30, tzinfo=PARIS)
PASS_AT = time(12, 30)  # the daemon's pass each day
SAMPLE_MAILBOX = Path(str(files("daemon") / "sample_mailbox"))
DEMO_ADDRESS = "camille.demo@gmail.com"

DEMO_CONFIG = """\
# Written by `lateclaim demo`: lets you explore the demo's state with the other commands, e.g.
#   lateclaim orders --config {config} --as-of 2026-11-24
#   lateclaim claims show 1 --config {config}
[mailbox]
username = "{address}"

[state]
path = "{state}"

[rules]
timezone = "Europe/Paris"

[claims]
from = "{address}"
"""


def demo_config(workdir: Path) -> Config:
    return Config(
        state=StateConfig(path=workdir / "lateclaim.db"),
        rules=RulesConfig(timezone=ZoneInfo("Europe/Paris")),
        claims=ClaimsConfig(mode="draft", sender=DEMO_ADDRESS, signature="Camille Martin"),
        source=workdir / "config.toml",
    )


def demo(keep: Path | None = None, mailbox_dir: Path = SAMPLE_MAILBOX) -> int:
    workdir = _workdir(keep)
    config = demo_config(workdir)
    check_state(config.state.path)  # a lateclaim.db there that is not lateclaim's is refused, untouched
    config_file = workdir / "config.toml"
    _write_config(config_file, DEMO_CONFIG.format(config=config_file, address=DEMO_ADDRESS, state=config.state.path))
    logs.configure("warning", "console")
    outbox = DirOutbox(workdir / "outbox")
    mailbox = EmlDirMailbox(mailbox_dir)

    print(f"lateclaim demo — the sample mailbox {mailbox_dir} ({len(mailbox.files)} emails), lived a day at a "
          f"time as the daemon would: a pass each day at {PASS_AT:%H:%M} from {FIRST_DAY:%d %B} to "
          f"{AS_OF:%d %B %Y} ({AS_OF.tzname()})\n")
    with Store(config.state.path) as store:
        drafted, fetched = _live_through_the_days(store, config, outbox, mailbox_dir)
        if not fetched:
            print(f"No new email since the last run on {config.state.path}: nothing read, nothing drafted.\n")
        print("\nParcels as of the last day (under each, which date counts and what is due):")
        print(_indent(order_rows(outlooks(store, config, AS_OF))))
        print("\nClaims:")
        claims = store.claims()
        print(_indent(claim_rows(claims)) if claims else "  none")
        for claim in claims:
            if claim.id in drafted and claim.status == "drafted":
                print(f"\n--- claim {claim.id}, drafted to {outbox.file_for(claim.message_id)}")
                print(f"Subject: {claim.subject}\n\n{claim.body.rstrip()}")
        _play_the_outcome(store, drafted)
    print(f"\nState file: {config.state.path}\nDrafts:     {outbox.path}")
    print(f"Explore:    {_command()} claims list --config {config_file}")
    print(f"            {_command()} report --config {config_file} --as-of 2026-11-24")
    print("With a real mailbox, `lateclaim sync` puts these drafts in your Gmail Drafts folder instead.")
    return 0


def _command() -> str:
    """How to call lateclaim from here: its name when that is what runs, else the full path it was run by."""
    ran = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    on_path = shutil.which("lateclaim")
    if ran is not None and ran.name == "lateclaim":
        return "lateclaim" if on_path and Path(on_path).resolve() == ran.resolve() else str(ran.resolve())
    return "lateclaim" if on_path else f"{sys.executable} -m daemon.cli"


def _workdir(keep: Path | None) -> Path:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="lateclaim-demo-"))
    workdir = keep.expanduser().absolute()
    if workdir.exists() and not workdir.is_dir():
        raise DemoError(f"--keep {keep}: is a file; name a directory (a new one, or one an earlier demo made)")
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoError(f"--keep {keep}: cannot create that directory: {exc.strerror or exc}") from None
    return workdir


def _write_config(path: Path, text: str) -> None:
    """Writes the demo's config.toml, or keeps the one an earlier demo wrote; anybody else's is never replaced."""
    try:
        if not path.exists():
            path.write_text(text)
        elif path.read_text(encoding="utf-8", errors="replace").splitlines()[:1] != text.splitlines()[:1]:
            raise DemoError(f"{path} exists and was not written by the demo: it is left as it is; "
                            "choose another --keep directory")
    except OSError as exc:
        raise DemoError(f"{path}: cannot write it: {exc.strerror or exc}") from None


def _live_through_the_days(store: Store, config: Config, outbox: DirOutbox, mailbox_dir: Path
                           ) -> tuple[list[int], int]:
    """One pass a day, each seeing the mail arrived by then; prints a diary line for every day something
    happened. Returns the claims drafted and the number of emails read."""
    drafted: list[int] = []
    fetched = 0
    day = FIRST_DAY
    while day <= AS_OF.date():
        moment = datetime.combine(day, PASS_AT, PARIS)
        result = run_pass(EmlDirMailbox(mailbox_dir, until=moment), Channels(drafts=outbox), store, config, moment)
        fetched += result.sync.fetched
        drafted += result.delivered
        for line in _diary(store, result.sync.statuses, result.evaluation.withdrawn, result.delivered):
            print(f"  {day:%a %d %b}  {line}")
        day += timedelta(days=1)
    return drafted, fetched


def _diary(store: Store, read: dict[str, int], withdrawn: list[int], delivered: list[int]) -> list[str]:
    lines = []
    if read.get("parsed"):
        lines.append(f"read {read['parsed']} Amazon email(s)" + (
            f" ({read['ignored']} other(s) ignored)" if read.get("ignored") else ""))
    for claim_id in withdrawn:
        claim = store.claim(claim_id)
        if claim is not None:
            lines.append(f"withdrew claim {claim.id} (track {claim.track} step {claim.step}, order "
                         f"{claim.order_id}) and removed its draft: {store.claim_history(claim.id)[-2][2]}")
    for claim_id in delivered:
        claim = store.claim(claim_id)
        if claim is not None:
            what = {("A", 1): "the goodwill request", ("B", 1): '"where is my parcel?" (step 1)',
                    ("B", 2): "the formal notice (step 2)", ("B", 3): "the termination (step 3)"}
            lines.append(f"drafted claim {claim.id}, {what.get((claim.track, claim.step), 'a claim')} for order "
                         f"{claim.order_id}")
    return lines


def _play_the_outcome(store: Store, drafted: list[int]) -> None:
    """What happens next with a real mailbox, played on the demo's state: the user sends the French draft
    from Gmail (the next sync finds it in Sent), Amazon offers a voucher, the user records it."""
    french = next((c for c in store.claims(["drafted"]) if c.id in drafted and c.language == "fr"
                   and c.track == "A"), None)
    if french is None:
        return
    later = AS_OF + timedelta(days=1)
    store.update_claim(french.id, later, status="sent", sent_at=later, note="demo: found in the Sent folder")
    resolve(store, french.id, "granted", later + timedelta(hours=3), "demo: a 5 EUR voucher")
    print(f"\nThen, as with a real mailbox: you send claim {french.id} from Gmail, Amazon offers a voucher, and "
          f"`lateclaim claims resolve {french.id} --outcome granted --note \"a 5 EUR voucher\"` records it:")
    for at, status, note in store.claim_history(french.id):
        print(f"  {at:%Y-%m-%d %H:%M}  {status:<8} {note}")
    summary = stats(store.claims())
    steps = ", ".join(f"{step}: {n}" for step, n in summary["by_track_step"].items())
    outcomes = ", ".join(f"{outcome} {n}" for outcome, n in summary["by_outcome"].items())
    print(f"Stats: {summary['claims']} claims ({steps}); outcomes: {outcomes}. See `lateclaim stats`.")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
