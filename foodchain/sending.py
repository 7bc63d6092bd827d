"""E-mailing each person the documents of a run (``foodchain runs send``).

Who gets what: a farm its pick list (``pick_lists/FARM``), a canteen its delivery note
(``delivery_notes/CANTEEN``), a relay point or shop its packing list (``packing_lists/SITE``),
each at its site's ``email`` (the database's, so an address filled in the scenario and loaded
with ``foodchain init`` is used without re-planning); the drivers the route sheets
(``route_sheets/DAY_VEHICLE``) at the addresses of ``settings.sending.drivers``
(``foodchain.sending_rules``) or one ``drivers_to`` address. Each message attaches the
document's page (HTML, to print) and its spreadsheet (XLSX, else CSV).

What is sent is what is on disk: the week's published copy (``plans/WEEK/published``) for the
published run, the run's own folder for a draft (only when asked: ``draft``); a superseded run
is refused. Every document sent, or tried, is recorded (``SentDocument``): run, recipient,
address, files and their SHA-256, when, sent or failed and why. A document is sent to an
address only if its content differs from the one last sent there for the week: the content's
SHA-256 is taken from the document written again without the run's stamp, so the run number,
status and date on every page (and the delivery note's number) do not count as a change.
After a re-publish the people whose documents are the same are told nothing; after a failed
send, running again sends what failed and skips what went.

Each message is sent and recorded in one writers' turn (``write_transaction``): two sends at
once do not both send it. A message that the server took but whose record could not be
written (the database failing right then) would be sent again by the next run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from foodchain.db import transaction, write_transaction
from foodchain.documents import documents_run, write_documents
from foodchain.documents.pages import file_stem
from foodchain.errors import FoodchainError
from foodchain.models import RunStatus, SendStatus, SentDocument, Setting, Site
from foodchain.plan.record import PlanRecord
from foodchain.plan.saving import PLANS_FOLDER, published_folder, run_folder, stamp
from foodchain.runs import RunSummary, list_runs, load_run
from foodchain.sending_rules import EMAIL, Driver, sending_rules
from foodchain.smtp import Mailer, SendError, SmtpSettings

GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "farmers": ("pick_lists", ("farm",)),
    "canteens": ("delivery_notes", ("canteen",)),
    "relays": ("packing_lists", ("relay", "shop")),
    "drivers": ("route_sheets", ()),
}
"""``--to`` groups: the documents' folder and the kinds of site that receive them."""

DRIVERS_FIX = (
    "list the drivers in the scenario (settings.sending.drivers: [{name, email, vehicles}]) "
    "and load it with 'foodchain init --scenario FILE', or pass --drivers-to ADDRESS"
)

WORDS = {
    "fr": {
        "pick_lists": "liste de récolte",
        "delivery_notes": "bon de livraison",
        "packing_lists": "liste de préparation",
        "route_sheets": "feuilles de route",
        "subject": "Semaine {week} : {what} - {name}",
        "draft": "[BROUILLON] ",
        "hello": "Bonjour,",
        "body": "Vous trouverez ci-joint {what} de la semaine {week} (run {run}, {status}).",
        "published": "plan publié",
        "draft_status": "BROUILLON : ce n'est pas encore le plan de la semaine",
        "replaces": "Ce document remplace celui envoyé le {at} (run {run}).",
        "attached": "Pièces jointes : la page à imprimer (HTML) et le tableau ({sheet}).",
        "signature": "Message envoyé par foodchain pour {hub}.",
    },
    "en": {
        "pick_lists": "pick list",
        "delivery_notes": "delivery note",
        "packing_lists": "packing list",
        "route_sheets": "route sheets",
        "subject": "Week {week}: {what} - {name}",
        "draft": "[DRAFT] ",
        "hello": "Hello,",
        "body": "Please find attached the {what} of week {week} (run {run}, {status}).",
        "published": "published plan",
        "draft_status": "DRAFT: not the week's plan yet",
        "replaces": "This replaces the one sent on {at} (run {run}).",
        "attached": "Attached: the page to print (HTML) and the table ({sheet}).",
        "signature": "Sent by foodchain for {hub}.",
    },
}


class Status:
    SENT = "sent"
    FAILED = "failed"
    UNCHANGED = "unchanged"
    NO_ADDRESS = "no address"
    WOULD_SEND = "would send"


@dataclass(frozen=True)
class Document:
    """One document of the run's folder: ``key`` is its path without extension."""

    key: str
    attachments: tuple[Path, ...]
    content_sha256: str


@dataclass(frozen=True)
class LastSent:
    run_id: int
    sent_at: dt.datetime
    content_sha256: str


@dataclass
class Outcome:
    """One person (or a route sheet nobody receives) and what happened to their message."""

    group: str
    recipient: str
    """A site's id, ``driver:NAME``, or ``vehicle:ID`` for a route sheet without a driver."""
    name: str
    address: str
    status: str
    documents: list[Document] = field(default_factory=list)
    """What was (or would be, or failed to be) sent."""
    unchanged: list[tuple[Document, LastSent]] = field(default_factory=list)
    """Documents left out: the same content already went to this address this week."""
    replaces: list[LastSent] = field(default_factory=list)
    """Earlier sends this week of the documents sent, whose content differed."""
    note: str = ""
    """Why it failed, or what to do (no address)."""

    @property
    def attachments(self) -> list[str]:
        return [p.name for d in self.documents for p in d.attachments]


@dataclass(frozen=True)
class SendReport:
    run: RunSummary
    folder: Path
    dry_run: bool
    outcomes: list[Outcome]

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


# --------------------------------------------------------------------------- what to send


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _content_sha256(unstamped: Path, key: str) -> str:
    """The document's content without the run's stamp: its page and CSV written again with
    no stamp (the XLSX holds the CSV's rows plus the time it was saved: left out)."""
    digest = hashlib.sha256()
    folder, stem = (unstamped / key).parent, Path(key).name
    for path in sorted(folder.glob(f"{stem}.*")):
        if path.suffix in (".html", ".csv"):
            digest.update(path.name.encode() + b"\0" + sha256(path).encode() + b"\n")
    return digest.hexdigest()


def _documents(folder: Path, unstamped: Path, subfolder: str) -> dict[str, Document]:
    """The run folder's documents of one kind, by file stem."""
    out: dict[str, Document] = {}
    for page in sorted((folder / subfolder).glob("*.html")):
        sheet = page.with_suffix(".xlsx")
        if not sheet.is_file():
            sheet = page.with_suffix(".csv")
        files = (page, sheet) if sheet.is_file() else (page,)
        key = f"{subfolder}/{page.stem}"
        out[page.stem] = Document(key, files, _content_sha256(unstamped, key))
    return out


def _source_folder(engine: Engine, summary: RunSummary, draft: bool, plans: Path) -> Path:
    """Where the documents to send are: refused for a draft unless ``draft``, and for a
    superseded run; the folder must hold this run's documents stamped with its status."""
    if summary.status == RunStatus.SUPERSEDED:
        published = [r.id for r in list_runs(engine, summary.week) if r.status == "published"]
        instead = f"run {published[0]}" if published else "the week's published run"
        raise FoodchainError(
            f"run {summary.id} of {summary.week} was superseded: send {instead} instead "
            f"(only what changed since run {summary.id} is sent again)"
        )
    if summary.status == RunStatus.DRAFT and not draft:
        raise FoodchainError(
            f"run {summary.id} is a draft: publish it first ('foodchain runs publish "
            f"{summary.id}'), or pass --draft to send the draft, stamped BROUILLON on every page"
        )
    mark = (summary.id, stamp(summary).status)
    own = run_folder(summary.week, summary.id, plans)
    candidates = [own]
    if summary.status == RunStatus.PUBLISHED:
        candidates.insert(0, published_folder(summary.week, plans))
    for folder in candidates:
        if documents_run(folder) == mark:
            return folder
    rewrite = (
        f"foodchain runs publish {summary.id}"
        if summary.status == RunStatus.PUBLISHED
        else f"foodchain runs export {summary.id}"
    )
    raise FoodchainError(
        f"{' nor '.join(str(f) for f in candidates)} does not hold the documents of run "
        f"{summary.id} as {mark[1]}: run the command from the folder that holds 'plans', or "
        f"write them again with '{rewrite}'"
    )


def _site_addresses(session: Session, record: PlanRecord) -> dict[str, tuple[str, str]]:
    """Each site's (name, e-mail): the database's when it still has the site (the address
    may have been filled since the plan), else the record's."""
    out = {s.id: (s.name, s.email) for s in record.sites.values()}
    for site in session.exec(select(Site).where(col(Site.id).in_(list(out)))).all():
        out[site.id] = (site.name, site.email)
    return out


def _drivers(session: Session) -> list[Driver]:
    stored = session.get(Setting, "settings")
    settings = stored.value if stored is not None and isinstance(stored.value, dict) else {}
    return list(sending_rules(settings).drivers)


def _last_sent(session: Session, week: str) -> dict[tuple[str, str], LastSent]:
    """What went to each (address, document) last this week."""
    rows = session.exec(
        select(SentDocument)
        .where(SentDocument.week == week, SentDocument.status == SendStatus.SENT)
        .order_by(col(SentDocument.sent_at), col(SentDocument.id))
    ).all()
    return {
        (row.address.lower(), row.document): LastSent(
            row.run_id, _utc(row.sent_at), row.content_sha256
        )
        for row in rows
    }


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _plan(
    session: Session,
    record: PlanRecord,
    folder: Path,
    unstamped: Path,
    groups: Sequence[str],
    drivers_to: str | None,
) -> list[Outcome]:
    """One outcome per person, before anything is compared or sent."""
    sites = {file_stem(s.id): s for s in record.sites.values()}
    addresses = _site_addresses(session, record)
    outcomes: list[Outcome] = []
    for group in groups:
        subfolder, kinds = GROUPS[group]
        documents = _documents(folder, unstamped, subfolder)
        if group == "drivers":
            outcomes += _driver_outcomes(session, record, documents, drivers_to)
            continue
        for stem, document in documents.items():
            site = sites.get(stem)
            if site is None or site.kind not in kinds:
                continue
            name, email = addresses[site.id]
            outcome = Outcome(group, site.id, name, email, Status.WOULD_SEND, [document])
            if not email:
                outcome.status = Status.NO_ADDRESS
                outcome.note = (
                    f"no e-mail for {site.id}: fill 'email' of site {site.id} in the scenario "
                    "and load it with 'foodchain init --scenario FILE'"
                )
            outcomes.append(outcome)
    return outcomes


def _driver_outcomes(
    session: Session, record: PlanRecord, sheets: dict[str, Document], drivers_to: str | None
) -> list[Outcome]:
    if drivers_to is not None:
        drivers = [Driver(name="drivers", email=drivers_to)]
    else:
        drivers = _drivers(session)
    vehicles = {file_stem(v): v for v in record.vehicles}

    def vehicle_of(stem: str) -> str:  # DAY_VEHICLE, DAY being an ISO date
        return vehicles.get(stem[11:], stem[11:])

    outcomes = []
    covered: set[str] = set()
    for driver in drivers:
        mine = [
            d for s, d in sheets.items() if not driver.vehicles or vehicle_of(s) in driver.vehicles
        ]
        covered.update(d.key for d in mine)
        if mine:
            outcomes.append(
                Outcome(
                    "drivers",
                    f"driver:{driver.name}",
                    driver.name,
                    driver.email,
                    Status.WOULD_SEND,
                    mine,
                )
            )
    left: dict[str, list[Document]] = {}
    for stem, document in sheets.items():
        if document.key not in covered:
            left.setdefault(vehicle_of(stem), []).append(document)
    for vehicle, documents in sorted(left.items()):
        name = record.vehicles[vehicle].name if vehicle in record.vehicles else vehicle
        outcomes.append(
            Outcome(
                "drivers",
                f"vehicle:{vehicle}",
                name,
                "",
                Status.NO_ADDRESS,
                documents,
                note=f"no driver receives {vehicle}'s route sheets: {DRIVERS_FIX}",
            )
        )
    return outcomes


# --------------------------------------------------------------------------- the message


def build_message(
    outcome: Outcome, record: PlanRecord, summary: RunSummary, sender: str
) -> EmailMessage:
    """The e-mail of one outcome: a few lines in the plan's language and its attachments."""
    words = WORDS.get(record.language, WORDS["fr"])
    kinds = sorted({d.key.split("/")[0] for d in outcome.documents})
    what = ", ".join(words[k] for k in kinds)
    draft = summary.status == RunStatus.DRAFT
    message = EmailMessage()
    message["Subject"] = (words["draft"] if draft else "") + words["subject"].format(
        week=record.week, what=what, name=outcome.name
    )
    message["From"] = sender
    message["To"] = Address(display_name=outcome.name, addr_spec=outcome.address)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    status = words["draft_status"] if draft else words["published"]
    lines = [
        words["hello"],
        "",
        words["body"].format(what=what, week=record.week, run=summary.id, status=status),
    ]
    for last in outcome.replaces[:1]:
        at = last.sent_at.astimezone().strftime("%d/%m/%Y %H:%M")
        lines += ["", words["replaces"].format(at=at, run=last.run_id)]
    sheets = sorted(
        {p.suffix.lstrip(".").upper() for d in outcome.documents for p in d.attachments} - {"HTML"}
    )
    lines += ["", words["attached"].format(sheet=", ".join(sheets) or "-")]
    hub = record.sites[record.hub_id].name if record.hub_id in record.sites else record.hub_id
    lines += ["", words["signature"].format(hub=hub)]
    message.set_content("\n".join(lines) + "\n")
    for document in outcome.documents:
        for path in document.attachments:
            maintype, subtype = _mime(path)
            message.add_attachment(
                path.read_bytes(),
                maintype=maintype,
                subtype=subtype,
                filename=f"{record.week}_{path.name}",
            )
    return message


def _mime(path: Path) -> tuple[str, str]:
    return {
        ".html": ("text", "html"),
        ".csv": ("text", "csv"),
        ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    }.get(path.suffix, ("application", "octet-stream"))


# --------------------------------------------------------------------------- sending


def _compare(outcome: Outcome, last: dict[tuple[str, str], LastSent]) -> None:
    """Leave out of ``outcome`` the documents whose content already went to its address."""
    fresh: list[Document] = []
    for document in outcome.documents:
        before = last.get((outcome.address.lower(), document.key))
        if before is not None and before.content_sha256 == document.content_sha256:
            outcome.unchanged.append((document, before))
        else:
            fresh.append(document)
            if before is not None:
                outcome.replaces.append(before)
    outcome.documents = fresh
    if not fresh:
        outcome.status = Status.UNCHANGED


def _records(
    outcome: Outcome, summary: RunSummary, status: SendStatus, error: str
) -> list[SentDocument]:
    now = dt.datetime.now(dt.UTC)
    return [
        SentDocument(
            run_id=summary.id,
            week=summary.week,
            recipient=outcome.recipient,
            address=outcome.address,
            document=document.key,
            files={f"{summary.week}_{p.name}": sha256(p) for p in document.attachments},
            content_sha256=document.content_sha256,
            sent_at=now,
            status=status,
            error=error,
        )
        for document in outcome.documents
    ]


def _send_one(
    engine: Engine, mailer: Mailer, outcome: Outcome, record: PlanRecord, summary: RunSummary
) -> SendError | None:
    """Send and record one message in one writers' turn; compared again inside it, so a send
    running at the same time does not send it twice. Returns the error when the server cannot
    be reached (the next messages would fail alike)."""
    with write_transaction(engine) as session:
        _compare(outcome, _last_sent(session, summary.week))
        if outcome.status == Status.UNCHANGED:
            return None
        message = build_message(outcome, record, summary, mailer.settings.sender)
        try:
            mailer.send(message)
        except SendError as exc:
            outcome.status, outcome.note = Status.FAILED, str(exc)
            session.add_all(_records(outcome, summary, SendStatus.FAILED, str(exc)))
            return exc if exc.connection else None
        outcome.status = Status.SENT
        session.add_all(_records(outcome, summary, SendStatus.SENT, ""))
        return None


def send_run(
    engine: Engine,
    run_id: int,
    groups: Iterable[str] = tuple(GROUPS),
    draft: bool = False,
    dry_run: bool = False,
    drivers_to: str | None = None,
    smtp: SmtpSettings | Callable[[], SmtpSettings] | None = None,
    plans: Path = PLANS_FOLDER,
) -> SendReport:
    """E-mail each person of ``groups`` their documents of run ``run_id`` (see the module's
    documentation); ``dry_run`` compares and lists, and sends and writes nothing.

    ``smtp``: the settings, or a function that reads them (``foodchain.smtp.smtp_settings``),
    called only when something is to be sent."""
    chosen = list(dict.fromkeys(groups))
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown or not chosen:
        raise FoodchainError(
            f"--to {','.join(unknown) or '(empty)'}: choose among {', '.join(GROUPS)} "
            "(comma-separated)"
        )
    if drivers_to is not None and not EMAIL.fullmatch(drivers_to.strip()):
        raise FoodchainError(f"--drivers-to {drivers_to!r} is not an e-mail address")
    stored = load_run(engine, run_id)
    summary, record = stored.summary, stored.record
    folder = _source_folder(engine, summary, draft, plans)
    with tempfile.TemporaryDirectory(prefix="foodchain-send-") as temporary:
        unstamped = Path(temporary) / "documents"
        write_documents(record, unstamped, language=_language(folder, record))
        with transaction(engine) as session:
            outcomes = _plan(
                session, record, folder, unstamped, chosen, drivers_to and drivers_to.strip()
            )
            last = _last_sent(session, summary.week)
    for outcome in outcomes:
        if outcome.status == Status.WOULD_SEND:
            _compare(outcome, last)
    report = SendReport(summary, folder, dry_run, outcomes)
    due = [o for o in outcomes if o.status == Status.WOULD_SEND]
    if dry_run or not due:
        return report
    settings = smtp() if callable(smtp) else smtp
    if settings is None:
        from foodchain.smtp import smtp_settings

        settings = smtp_settings()
    mailer = Mailer(settings)
    try:
        for index, outcome in enumerate(due):
            unreachable = _send_one(engine, mailer, outcome, record, summary)
            if unreachable is not None:  # the rest would fail alike: recorded, not tried
                with write_transaction(engine) as session:
                    for other in due[index + 1 :]:
                        other.status = Status.FAILED
                        other.note = f"not tried: {unreachable}"
                        session.add_all(_records(other, summary, SendStatus.FAILED, other.note))
                break
    finally:
        mailer.close()
    return report


def _language(folder: Path, record: PlanRecord) -> str:
    """The language the run's documents were written in (an export may have changed it): the
    unstamped copy compared must be in the same one."""
    index = folder / "index.html"
    try:
        head = index.read_text(encoding="utf-8")[:400]
    except OSError:
        return record.language
    for code in ("fr", "en"):
        if f'lang="{code}"' in head:
            return code
    return record.language
