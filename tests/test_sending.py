"""Sending a run's documents by e-mail, against a real SMTP server on 127.0.0.1 (aiosmtpd).

Runs are made from the small hand-built records of test_runs: nothing is solved here.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine
from sqlmodel import col, select

from foodchain.db import open_database, transaction
from foodchain.errors import FoodchainError
from foodchain.models import SendStatus, SentDocument, Setting, Site, SiteKind
from foodchain.plan.record import PlanRecord
from foodchain.plan.saving import publish_plan, save_plan
from foodchain.sending import Status, send_run
from foodchain.smtp import SmtpSettings, smtp_settings

from .conftest import Cli
from .snapshot import snapshot
from .test_runs import WEEK, FakePlan, make_record

SECRET = "s3cret-Pa55word"
EMAILS = {
    "farm_a": "anges@example.org",
    "school": "basly@example.org",
    "relay": "relais@example.org",
}
"""farm_b has none: it is listed as not sent, with the fix."""


# --------------------------------------------------------------------------- the server


@dataclass
class Inbox:
    """What the server received: one (recipients, message) per message; ``refuse``: addresses
    answered 550; ``logins``: the passwords given."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password.decode() == SECRET, handled=False)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=_free_port(),
        auth_require_tls=False,
        authenticator=box.authenticate,
    )
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()


def _smtp(port: int, password: str = SECRET) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        sender="Pôle alimentaire <hub@example.org>",
        user="hub",
        password=password,
        starttls=False,
        timeout=5,
    )


# --------------------------------------------------------------------------- runs


def _record(**changes: Any) -> PlanRecord:
    record = make_record(**changes)
    sites = {
        key: site.model_copy(update={"email": EMAILS.get(key, "")})
        for key, site in record.sites.items()
    }
    return record.model_copy(update={"sites": sites})


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    """A database the commands accept (it names a scenario) holding no site: the records'."""
    engine = open_database(db_url)
    with transaction(engine) as session:
        session.add(Setting(key="scenario", value="tiny"))
    yield engine
    engine.dispose()


@pytest.fixture
def plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Commands work in tmp_path, where ``plans`` is; no SMTP setting of the machine leaks in."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for key in ("HOST", "PORT", "USER", "PASSWORD", "FROM", "STARTTLS", "SSL", "CONFIG"):
        monkeypatch.delenv(f"FOODCHAIN_SMTP_{key}", raising=False)
    return tmp_path / "plans"


def _published(db: Engine, plans: Path, **changes: Any) -> int:
    run = save_plan(db, FakePlan(_record(**changes)), plans=plans).run_id
    publish_plan(db, run, replace=True, plans=plans)
    return run


def _send(db: Engine, run: int, plans: Path, port: int, **options: Any) -> Any:
    options.setdefault("drivers_to", "drivers@example.org")
    return send_run(db, run, smtp=_smtp(port), plans=plans, **options)


def _sent(db: Engine) -> list[SentDocument]:
    with transaction(db) as session:
        return list(session.exec(select(SentDocument).order_by(col(SentDocument.id))).all())


def _attachments(message: EmailMessage) -> dict[str, bytes]:
    out = {}
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out[str(part.get_filename())] = payload
    return out


# --------------------------------------------------------------------------- tests


def test_each_person_gets_their_own_documents_from_the_published_copy(db, plans, inbox):
    run = _published(db, plans)
    report = _send(db, run, plans, inbox.port)
    copy = plans / WEEK / "published"
    assert report.folder == copy
    assert {o.recipient: o.status for o in report.outcomes} == {
        "farm_a": Status.SENT,
        "farm_b": Status.NO_ADDRESS,
        "school": Status.SENT,
        "relay": Status.SENT,
        "driver:drivers": Status.SENT,
    }
    assert "fill 'email' of site farm_b in the scenario" in report.outcomes[1].note
    expected = {
        "anges@example.org": ("pick_lists", "farm_a", ".xlsx"),
        "basly@example.org": ("delivery_notes", "school", ".xlsx"),
        "relais@example.org": ("packing_lists", "relay", ".csv"),
        "drivers@example.org": ("route_sheets", "2026-12-03_van", ".csv"),
    }
    assert sorted(a for rcpt, _m in inbox.messages for a in rcpt) == sorted(expected)
    for address, (folder, stem, sheet) in expected.items():
        (message,) = inbox.to(address)
        assert "2026-W49" in message["Subject"] and "BROUILLON" not in message["Subject"]
        assert message["From"] == "Pôle alimentaire <hub@example.org>"
        files = {
            f"{WEEK}_{stem}.html": (copy / folder / f"{stem}.html").read_bytes(),
            f"{WEEK}_{stem}{sheet}": (copy / folder / f"{stem}{sheet}").read_bytes(),
        }
        assert _attachments(message) == files  # the published copy, byte for byte
        assert b"PUBLI" in files[f"{WEEK}_{stem}.html"]
    rows = _sent(db)
    assert {(r.address, r.document, r.status) for r in rows} == {
        (address, f"{folder}/{stem}", SendStatus.SENT)
        for address, (folder, stem, _s) in expected.items()
    }
    school = next(r for r in rows if r.recipient == "school")
    assert school.run_id == run and school.error == "" and school.sent_at is not None
    assert set(school.files) == {f"{WEEK}_school.html", f"{WEEK}_school.xlsx"}
    assert all(len(sha) == 64 for sha in school.files.values())
    assert inbox.logins == [("hub", SECRET)]


def test_a_draft_is_sent_only_when_asked_and_says_so(db, plans, inbox):
    run = save_plan(db, FakePlan(_record()), plans=plans).run_id
    with pytest.raises(FoodchainError, match=r"is a draft: publish it first .* --draft"):
        _send(db, run, plans, inbox.port)
    assert inbox.messages == [] and _sent(db) == []
    report = _send(db, run, plans, inbox.port, draft=True, groups=["canteens"])
    assert report.folder == plans / WEEK / f"run-{run}"
    (message,) = inbox.to("basly@example.org")
    assert message["Subject"].startswith("[BROUILLON]")
    assert [r.document for r in _sent(db)] == ["delivery_notes/school"]


def test_a_refused_recipient_is_reported_and_retried_without_sending_twice(db, plans, inbox):
    run = _published(db, plans)
    inbox.refuse = {"basly@example.org"}
    report = _send(db, run, plans, inbox.port)
    school = next(o for o in report.outcomes if o.recipient == "school")
    assert school.status == Status.FAILED and "550" in school.note
    assert report.count(Status.SENT) == 3
    failed = [r for r in _sent(db) if r.status == SendStatus.FAILED]
    assert [(r.address, r.document) for r in failed] == [
        ("basly@example.org", "delivery_notes/school")
    ]
    assert "550" in failed[0].error

    inbox.refuse = set()
    again = _send(db, run, plans, inbox.port)
    assert {o.recipient: o.status for o in again.outcomes if o.address} == {
        "farm_a": Status.UNCHANGED,
        "school": Status.SENT,
        "relay": Status.UNCHANGED,
        "driver:drivers": Status.UNCHANGED,
    }
    received = [a for rcpt, _m in inbox.messages for a in rcpt]
    assert sorted(received) == sorted(set(received))  # nobody got anything twice
    assert len(received) == 4


def test_a_server_down_fails_every_message_then_the_retry_sends_each_once(db, plans, inbox):
    run = _published(db, plans)
    down = send_run(
        db, run, smtp=_smtp(_free_port()), plans=plans, drivers_to="drivers@example.org"
    )
    assert down.count(Status.FAILED) == 4 and down.count(Status.SENT) == 0
    assert all(
        "cannot reach the SMTP server 127.0.0.1" in o.note for o in down.outcomes if o.address
    )
    assert {r.status for r in _sent(db)} == {SendStatus.FAILED} and len(_sent(db)) == 4
    up = _send(db, run, plans, inbox.port)
    assert up.count(Status.SENT) == 4
    assert _send(db, run, plans, inbox.port).count(Status.UNCHANGED) == 4
    assert len(inbox.messages) == 4


def test_a_republished_plan_resends_only_what_changed(db, plans, inbox):
    first = _published(db, plans)
    _send(db, first, plans, inbox.port)
    inbox.messages.clear()
    second = _published(db, plans, carrot_kg=20.0)  # farm_a's carrots for the school
    with pytest.raises(
        FoodchainError, match=f"run {first} of {WEEK} was superseded: send run {second}"
    ):
        _send(db, first, plans, inbox.port)
    report = _send(db, second, plans, inbox.port)
    status = {o.recipient: o.status for o in report.outcomes}
    assert status["farm_a"] == status["school"] == Status.SENT
    assert status["relay"] == Status.UNCHANGED  # the leeks did not change
    assert {a for rcpt, _m in inbox.messages for a in rcpt} >= {
        "anges@example.org",
        "basly@example.org",
    }
    assert not inbox.to("relais@example.org")
    (note,) = inbox.to("basly@example.org")
    body = note.get_body()
    assert body is not None and "remplace celui envoyé le" in body.get_content()
    relay = next(o for o in report.outcomes if o.recipient == "relay")
    assert relay.unchanged[0][1].run_id == first


def test_a_dry_run_sends_and_writes_nothing(db, db_url, plans, inbox, monkeypatch):
    run = _published(db, plans)
    before = snapshot(db)
    output = Cli(db_url)(
        "runs", "send", str(run), "--dry-run", "--drivers-to", "drivers@example.org"
    )
    assert inbox.messages == [] and snapshot(db) == before
    for text in ("anges@example.org", "farm_a.html", "farm_a.xlsx", "would send", "no address"):
        assert text in output, text
    assert "fill 'email' of site farm_b" in output


def test_the_password_never_shows_in_output_or_database(db, db_url, plans, inbox, monkeypatch):
    run = _published(db, plans)
    monkeypatch.setenv("FOODCHAIN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FOODCHAIN_SMTP_PORT", str(inbox.port))
    monkeypatch.setenv("FOODCHAIN_SMTP_USER", "hub")
    monkeypatch.setenv("FOODCHAIN_SMTP_PASSWORD", "wrong-" + SECRET)
    monkeypatch.setenv("FOODCHAIN_SMTP_FROM", "hub@example.org")
    cli = Cli(db_url)
    refused = cli("runs", "send", str(run), "--to", "farmers", code=1)
    assert "refused the login of hub" in refused and SECRET not in refused
    monkeypatch.setenv("FOODCHAIN_SMTP_PASSWORD", SECRET)
    output = cli("runs", "send", str(run), "--to", "farmers,canteens")
    assert "sent" in output and SECRET not in output
    assert SECRET not in repr(snapshot(db)) and SECRET not in repr(smtp_settings())
    assert [r for rcpt, _m in inbox.messages for r in rcpt] == [
        "anges@example.org",
        "basly@example.org",
    ]


def test_drivers_and_addresses_come_from_the_database(db, plans, inbox):
    run = _published(db, plans)
    with transaction(db) as session:
        session.add(
            Setting(
                key="settings",
                value={
                    "sending": {
                        "drivers": [
                            {"name": "Karim", "email": "karim@example.org", "vehicles": ["van"]}
                        ]
                    }
                },
            )
        )
        session.add(
            Site(
                id="farm_b",
                kind=SiteKind.FARM,
                name="Ferme B",
                email="b@example.org",
                lat=50.47,
                lon=2.8,
            )
        )
    report = send_run(db, run, groups=["drivers", "farmers"], smtp=_smtp(inbox.port), plans=plans)
    assert {o.recipient: (o.address, o.status) for o in report.outcomes} == {
        "driver:Karim": ("karim@example.org", Status.SENT),
        "farm_a": ("anges@example.org", Status.SENT),
        "farm_b": ("b@example.org", Status.SENT),
    }
    (sheet,) = inbox.to("karim@example.org")
    assert set(_attachments(sheet)) == {f"{WEEK}_2026-12-03_van.html", f"{WEEK}_2026-12-03_van.csv"}


def test_route_sheets_without_a_driver_are_listed_with_the_fix(db, plans, inbox):
    run = _published(db, plans)
    report = send_run(db, run, groups=["drivers"], smtp=_smtp(inbox.port), plans=plans)
    (outcome,) = report.outcomes
    assert outcome.status == Status.NO_ADDRESS and "settings.sending.drivers" in outcome.note
    assert "--drivers-to" in outcome.note and inbox.messages == []


def test_unknown_groups_and_bad_addresses_are_refused(db, plans, inbox):
    run = _published(db, plans)
    with pytest.raises(FoodchainError, match="choose among farmers, canteens, relays, drivers"):
        send_run(db, run, groups=["farmers", "bakers"], plans=plans)
    with pytest.raises(FoodchainError, match="not an e-mail address"):
        send_run(db, run, drivers_to="nobody", plans=plans)


# --------------------------------------------------------------------------- settings


def test_smtp_settings_from_the_environment_over_the_file(tmp_path):
    config = tmp_path / "smtp.toml"
    config.write_text('host = "smtp.example.org"\nuser = "hub@example.org"\npassword = "p"\n')
    settings = smtp_settings({"FOODCHAIN_SMTP_CONFIG": str(config), "FOODCHAIN_SMTP_PORT": "25"})
    assert (settings.host, settings.port, settings.sender) == (
        "smtp.example.org",
        25,
        "hub@example.org",
    )
    assert not settings.starttls and "'p'" not in repr(settings)
    assert smtp_settings({"FOODCHAIN_SMTP_CONFIG": str(config)}).starttls  # 587: STARTTLS
    assert smtp_settings({"FOODCHAIN_SMTP_CONFIG": str(config), "FOODCHAIN_SMTP_PORT": "465"}).tls
    env = {"FOODCHAIN_SMTP_CONFIG": str(config), "FOODCHAIN_SMTP_STARTTLS": "no"}
    assert not smtp_settings(env).starttls
    default = tmp_path / "xdg" / "foodchain" / "smtp.toml"
    default.parent.mkdir(parents=True)
    default.write_text('[smtp]\nhost = "mail.example.org"\nfrom = "a@example.org"\n')
    assert smtp_settings({"XDG_CONFIG_HOME": str(tmp_path / "xdg")}).host == "mail.example.org"


def test_missing_or_bad_smtp_settings_say_what_to_set(tmp_path):
    with pytest.raises(FoodchainError, match="set FOODCHAIN_SMTP_HOST"):
        smtp_settings({"XDG_CONFIG_HOME": str(tmp_path)})
    with pytest.raises(FoodchainError, match="no sender address"):
        smtp_settings(
            {
                "XDG_CONFIG_HOME": str(tmp_path),
                "FOODCHAIN_SMTP_HOST": "h",
                "FOODCHAIN_SMTP_USER": "u",
            }
        )
    with pytest.raises(FoodchainError, match="is not yes or no"):
        smtp_settings(
            {
                "FOODCHAIN_SMTP_HOST": "h",
                "FOODCHAIN_SMTP_FROM": "a@b.org",
                "FOODCHAIN_SMTP_STARTTLS": "maybe",
            }
        )
    bad = tmp_path / "bad.toml"
    bad.write_text("host = \n")
    with pytest.raises(FoodchainError, match="not valid TOML"):
        smtp_settings({"FOODCHAIN_SMTP_CONFIG": str(bad)})


def test_a_scenario_refuses_a_driver_without_an_address(tmp_path):
    from foodchain.sending_rules import SendingRules

    with pytest.raises(ValueError, match="not an e-mail address"):
        SendingRules.model_validate({"drivers": [{"name": "Karim", "email": "karim"}]})
