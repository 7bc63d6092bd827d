"""Sites' contact details (address, postcode, contact, phone, e-mail, access notes) from the
coordinator's spreadsheet, back to it, and who owns them when the scenario is loaded again.

Coordinators keep these details in a spreadsheet; ``IMPORTER`` updates only the contact
columns of sites that exist (never a site's kind, position or windows, never a new site). A
blank cell keeps the stored value, so a sheet with some columns left empty wipes nothing; a
cell holding ``-`` clears it.

The scenario YAML may give contact values too. Once stored they belong to people, as
forecasts do: ``keep_people_contacts`` makes ``install_scenario`` apply a value of the YAML
only where the stored one is still what the scenario wrote last time (``SCENARIO_CONTACTS``),
so a value imported (or cleared) since is never reset, and a value edited in the YAML reaches
the database when nobody changed it there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from foodchain.catalogue import Catalogue
from foodchain.db import transaction
from foodchain.errors import Problem
from foodchain.files.columns import Column, ParsedTable, Row, TableSpec, text
from foodchain.files.writing import Sheet
from foodchain.importing import Checks, Importer, RowErrors
from foodchain.models import ImportRecord, Setting, Site, SiteIn
from foodchain.store import stored_rows

CONTACT_FIELDS = ("address", "postcode", "contact_name", "phone", "email", "access_notes")
"""The site columns people own (``SiteIn``): the import writes these and nothing else."""

CLEAR = "-"
"""A cell holding only this clears the stored value (a blank cell keeps it)."""

SCENARIO_CONTACTS = "scenario_contacts"
"""Setting: the contact values the scenario gave when it was last loaded, per site (the
non-empty ones): a stored value that differs from it was set by people since."""

KIND = "site contacts"


def _cell(text: str) -> str:
    """The cell without surrounding space, nor the apostrophe our exports put before a cell
    starting with ``+`` or ``-`` (so that spreadsheets do not take it for a formula)."""
    value = text.strip()
    if value.startswith("'") and value[1:2] in ("+", "-", "=", "@"):
        value = value[1:]
    return value


def _free_text(text: str) -> str:
    value = _cell(text)
    return "" if value == CLEAR else value


def postcode(text: str) -> str:
    """A French postcode, five digits (``62 750`` is ``62750``; four digits are a postcode
    whose leading 0 a spreadsheet dropped: ``2100`` is ``02100``)."""
    value = _cell(text)
    if value == CLEAR:
        return ""
    digits = value.replace(" ", "")
    if re.fullmatch(r"\d{4}", digits):
        digits = "0" + digits
    if not re.fullmatch(r"\d{5}", digits):
        raise ValueError("not a French postcode (5 digits)")
    return digits


def phone(text: str) -> str:
    """A phone number as people write it: a French one of 10 digits starting with 0
    (``03 21 12 34 56``; nine digits are a number whose 0 a spreadsheet dropped), or an
    international one (``+33 3 21 12 34 56``, ``0032 ...``) of 8 to 15 digits."""
    value = _cell(text)
    if value == CLEAR:
        return ""
    if not re.fullmatch(r"\+?[0-9 .()\-]+", value):
        raise ValueError(
            "a phone number holds only digits, spaces, '.', '-', '(', ')' and a leading '+'"
        )
    digits = re.sub(r"\D", "", value)
    if value.startswith("+") or digits.startswith("00"):
        international = digits[2:] if digits.startswith("00") else digits
        if not 8 <= len(international) <= 15:
            raise ValueError("not a phone number (an international number has 8 to 15 digits)")
    elif re.fullmatch(r"[1-9]\d{8}", value):
        value = "0" + value
    elif not re.fullmatch(r"0\d{9}", digits):
        raise ValueError("not a French phone number (10 digits starting with 0)")
    if len(value) > 32:
        raise ValueError("too long for a phone number (at most 32 characters)")
    return value


def email(text: str) -> str:
    value = _cell(text)
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    if value == CLEAR:
        return ""
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError("not an e-mail address")
    return value


SPEC = TableSpec(
    KIND,
    (
        Column(
            "site",
            text,
            "the site's id or name, e.g. farm_anges_gardins (see foodchain sites list)",
            ("identifiant", "id", "site id", "code site", "lieu"),
            help_fr="l'identifiant du site ou son nom, p. ex. farm_anges_gardins "
            "(voir foodchain sites list)",
        ),
        Column(
            "address",
            _free_text,
            "street and number, e.g. 11 rue de Bourgogne (blank: keep; '-': clear)",
            ("adresse", "rue", "adresse postale", "street"),
            required=False,
            blank_ok=True,
            help_fr="le numéro et la rue, p. ex. 11 rue de Bourgogne (vide : inchangé ; "
            "'-' : effacer)",
        ),
        Column(
            "postcode",
            postcode,
            "a French postcode of 5 digits, e.g. 62750 (blank: keep; '-': clear)",
            ("code postal", "cp", "postal code", "zip"),
            required=False,
            blank_ok=True,
            help_fr="un code postal de 5 chiffres, p. ex. 62750 (vide : inchangé ; '-' : effacer)",
        ),
        Column(
            "contact_name",
            _free_text,
            "who receives the driver, e.g. Mme Dupont, cuisine (blank: keep; '-': clear)",
            ("contact", "nom du contact", "interlocuteur", "responsable", "contact name"),
            required=False,
            blank_ok=True,
            help_fr="qui accueille le chauffeur, p. ex. Mme Dupont, cuisine (vide : inchangé ; "
            "'-' : effacer)",
        ),
        Column(
            "phone",
            phone,
            "a phone number, e.g. 03 21 12 34 56 or +33 3 21 12 34 56 (blank: keep; '-': clear)",
            ("telephone", "tel", "portable", "mobile", "numero de telephone", "phone number"),
            required=False,
            blank_ok=True,
            help_fr="un numéro de 10 chiffres, p. ex. 03 21 12 34 56, ou +33 3 21 12 34 56 "
            "(lettres et autres signes refusés ; vide : inchangé ; '-' : effacer)",
        ),
        Column(
            "email",
            email,
            "an e-mail address, e.g. cuisine@example.org (blank: keep; '-': clear)",
            ("e mail", "courriel", "mail", "adresse mail", "adresse e mail", "adresse courriel"),
            required=False,
            blank_ok=True,
            help_fr="une adresse e-mail, p. ex. cuisine@exemple.fr (vide : inchangé ; "
            "'-' : effacer)",
        ),
        Column(
            "access_notes",
            _free_text,
            "what a driver needs on arrival: gate, code, where to unload (blank: keep; '-': clear)",
            ("acces", "consignes d'acces", "consignes", "consignes de livraison", "access"),
            required=False,
            blank_ok=True,
            help_fr="ce qu'il faut au chauffeur : portail, code, où décharger (vide : "
            "inchangé ; '-' : effacer)",
        ),
    ),
    key=("site",),
    ignored=("name", "nom", "kind", "type", "commune"),
)
_FIELDS = {"id": "site", **{f: f for f in CONTACT_FIELDS}}

FRENCH_HEADERS = {
    "site": "site",
    "name": "nom",
    "kind": "type",
    "commune": "commune",
    "address": "adresse",
    "postcode": "code postal",
    "contact_name": "contact",
    "phone": "téléphone",
    "email": "e-mail",
    "access_notes": "consignes d'accès",
}


class SiteContacts(SQLModel):
    """What the import writes: a site's id and its contact columns, nothing else (so that
    a site's kind, position and windows are never written, even unchanged)."""

    id: str
    address: str = ""
    postcode: str = ""
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    access_notes: str = ""


def _build(row: Row, catalogue: Catalogue, _options: dict[str, Any]) -> SiteContacts:
    """The stored site's contacts with the row's non-blank cells, checked as ``SiteIn``
    checks the whole site."""
    checks = Checks(row)
    site_id = checks.ref("site", catalogue.resolve_any_site, row.values["site"])
    if site_id is None:
        raise RowErrors(checks.errors)
    site = catalogue.sites[site_id]
    given = {n: row.values[n] for n in CONTACT_FIELDS if row.values[n] is not None}
    checked = checks.validated(SiteIn, site.model_dump() | given, _FIELDS)
    return SiteContacts(id=site_id, **{n: getattr(checked, n) for n in CONTACT_FIELDS})


def _existing(
    session: Session, records: Sequence[SiteContacts], _options: dict[str, Any]
) -> list[dict[str, Any]]:
    ids = [r.id for r in records]
    rows = stored_rows(session, Site, Site.id.in_(ids)) if ids else []  # type: ignore[attr-defined]
    return [{n: row[n] or "" for n in ("id", *CONTACT_FIELDS)} for row in rows]


def _some_contact_column(
    _rows: Sequence[tuple[Row, SiteContacts]], parsed: ParsedTable
) -> list[Problem]:
    if any(name in parsed.labels for name in CONTACT_FIELDS):
        return []
    headers = ", ".join(repr(FRENCH_HEADERS[n]) for n in CONTACT_FIELDS)
    return [
        Problem(
            parsed.source,
            "the file has no contact column: nothing to import",
            f"ajoutez au moins une de ces colonnes : {headers}"
            if parsed.french
            else f"add at least one of the columns {', '.join(CONTACT_FIELDS)}",
            line=1,
        )
    ]


IMPORTER: Importer[SiteContacts] = Importer(
    KIND,
    SPEC,
    Site,
    _build,
    _existing,
    field_columns=_FIELDS,
    check_rows=_some_contact_column,
    partial_rows=True,
)


def contacts_sheet(engine: Engine, kind: str | None = None) -> Sheet:
    """Every site (or those of ``kind``) with its contact details, in the import's format:
    a template to fill, or the file to correct and import again."""
    with transaction(engine) as session:
        sites = session.exec(select(Site).order_by(Site.kind, Site.id)).all()
    keys = ["site", "name", "kind", "commune", *CONTACT_FIELDS]
    rows = [
        [s.id, s.name, str(s.kind), s.commune, *(getattr(s, f) for f in CONTACT_FIELDS)]
        for s in sites
        if kind is None or s.kind == kind
    ]
    return Sheet(keys, rows, FRENCH_HEADERS, title="Contacts", fill=CONTACT_FIELDS)


# --------------------------------------------------------------------------- scenario loads


def scenario_values(sites: Sequence[SiteIn]) -> dict[str, dict[str, str]]:
    """What ``SCENARIO_CONTACTS`` stores: each site's non-empty contact values."""
    return {
        s.id: {f: getattr(s, f) for f in CONTACT_FIELDS if getattr(s, f)}
        for s in sites
        if any(getattr(s, f) for f in CONTACT_FIELDS)
    }


def keep_people_contacts(
    session: Session, sites: Sequence[SiteIn]
) -> tuple[list[SiteIn], list[str]]:
    """The scenario's sites, with each contact value people set since the scenario was last
    loaded kept instead of the YAML's; and the ``site.field`` names kept.

    A stored value is the scenario's if it equals what the scenario gave last time
    (``SCENARIO_CONTACTS``); without that record (a database loaded by an older version), a
    stored value is the scenario's unless a contacts file was ever imported, in which case
    any non-empty stored value is kept."""
    stored = {r["id"]: r for r in stored_rows(session, Site)}
    record = session.get(Setting, SCENARIO_CONTACTS)
    base: dict[str, dict[str, str]] | None
    if record is not None:
        base = dict(record.value or {})
    elif session.exec(select(ImportRecord).where(ImportRecord.kind == KIND)).first() is None:
        base = {i: {f: row[f] for f in CONTACT_FIELDS if row[f]} for i, row in stored.items()}
    else:
        base = None
    merged: list[SiteIn] = []
    kept: list[str] = []
    for site in sites:
        old = stored.get(site.id)
        update: dict[str, str] = {}
        for name in CONTACT_FIELDS if old is not None else ():
            yaml_value, value = getattr(site, name), old[name] or ""  # type: ignore[index]
            if value == yaml_value:
                continue
            scenario_wrote = "" if base is None else base.get(site.id, {}).get(name, "")
            if value != scenario_wrote:  # set (or cleared) by people since
                update[name] = value
                kept.append(f"{site.id}.{name}")
        merged.append(site.model_copy(update=update) if update else site)
    return merged, kept


def kept_note(kept: Sequence[str]) -> str:
    shown = ", ".join(kept[:5]) + ("…" if len(kept) > 5 else "")
    return (
        f"{len(kept)} site contact value(s) set since by an import were kept over the "
        f"scenario's ({shown}); change them with foodchain sites import"
    )


def record_scenario_values(session: Session, sites: Sequence[SiteIn]) -> None:
    """Remember the scenario's contact values (see ``keep_people_contacts``)."""
    session.merge(Setting(key=SCENARIO_CONTACTS, value=scenario_values(sites)))
