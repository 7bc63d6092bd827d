"""Sites' positions from their street address (optional; nothing geocodes unless
``foodchain sites geocode`` runs).

A site's ``lat``/``lon`` come from the scenario; once the coordinator has imported street
addresses (``site_contacts``), a geocoder can place each site on its door rather than on its
commune. ``geocode_sites`` asks a geocoder for every site with an address (query: address,
postcode and commune), checks each answer and writes the positions it accepts in one
transaction, or none at all:

- a site without a street address is skipped, with that reason;
- an answer farther than ``max_km`` from the stored position, with a score below
  ``min_score``, only the commune's (not the street's), in another postcode, or no answer at
  all, is reported for review and not applied;
- a lookup that fails (network, service, quota) is reported for its site, and then nothing is
  written: running the command again asks again.

The geocoder is any object with a ``geocode(query)`` method returning a geopy ``Location``
(or ``None``): ``make_geocoder`` builds geopy's ``BANFrance`` (the Base Adresse Nationale,
api-adresse.data.gouv.fr, the default) or ``Nominatim`` (OpenStreetMap, one request a second as
its usage policy asks); tests give a fake one and never reach the network. geopy is an optional
dependency (``pip install foodchain[geocode]``), imported only here and only when used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session, select

from foodchain import __version__
from foodchain.db import transaction, write_transaction
from foodchain.errors import FoodchainError
from foodchain.models import Setting, Site, SiteIn
from foodchain.routing.travel import great_circle_km

PROVIDERS = ("ban", "nominatim")
"""``ban``: the Base Adresse Nationale (French addresses, no key, the default);
``nominatim``: OpenStreetMap's geocoder (one request a second)."""

MAX_KM = 5.0
"""An answer farther than this from the stored position is reviewed, not applied."""

MIN_SCORE = 0.6
"""An answer whose score (the BAN's, 0 to 1) is below this is reviewed, not applied."""

UNCHANGED_KM = 0.01
"""An answer closer than this (10 m) to the stored position changes nothing."""

TIMEOUT_S = 10.0

GEOCODED = "geocoded_sites"
"""Setting: per site, the query its stored position was geocoded from (``--only-missing``
skips a site whose address has not changed since)."""

USER_AGENT = f"foodchain/{__version__} (short food supply chain planner)"


class Geocoder(Protocol):
    """What ``geocode_sites`` needs of a geocoder: geopy's ``geocode`` of one query."""

    def geocode(self, query: str) -> Any: ...


class Status(StrEnum):
    APPLY = "apply"
    UNCHANGED = "unchanged"
    REVIEW = "review"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class Proposal:
    """One site's answer: where it is stored, where the geocoder puts it, and what to do."""

    site_id: str
    name: str
    query: str
    old: tuple[float, float]
    status: Status
    new: tuple[float, float] | None = None
    score: float | None = None
    label: str = ""
    reason: str = ""

    @property
    def moved_km(self) -> float | None:
        if self.new is None:
            return None
        return great_circle_km(*self.old, *self.new)


@dataclass
class GeocodeReport:
    provider: str
    dry_run: bool
    proposals: list[Proposal] = field(default_factory=list)
    written: int = 0
    """Positions written (0 in a dry run, or when a lookup failed)."""

    def having(self, status: Status) -> list[Proposal]:
        return [p for p in self.proposals if p.status is status]


# --------------------------------------------------------------------------- geocoders


def _geopy() -> Any:
    try:
        import geopy
    except ImportError:
        raise FoodchainError(
            "geocoding needs the geopy library, which is not installed. "
            "Fix: pip install 'foodchain[geocode]'"
        ) from None
    return geopy


class _OnePerSecond:
    """Nominatim, French addresses only, at most one request a second (its usage policy:
    https://operations.osmfoundation.org/policies/nominatim/), errors raised, not swallowed."""

    def __init__(self, nominatim: Any) -> None:
        from geopy.extra.rate_limiter import RateLimiter

        lookup = partial(nominatim.geocode, country_codes="fr", addressdetails=True)
        self._geocode = RateLimiter(lookup, min_delay_seconds=1.0, swallow_exceptions=False)

    def geocode(self, query: str) -> Any:
        return self._geocode(query)


def make_geocoder(provider: str = "ban") -> Geocoder:
    """geopy's geocoder of ``provider`` (``PROVIDERS``); a ``FoodchainError`` saying how to
    install geopy when it is absent. Building one sends no request."""
    _geopy()
    from geopy.geocoders import BANFrance, Nominatim

    if provider == "ban":
        geocoder: Geocoder = BANFrance(user_agent=USER_AGENT, timeout=TIMEOUT_S)
        return geocoder
    if provider == "nominatim":
        return _OnePerSecond(Nominatim(user_agent=USER_AGENT, timeout=TIMEOUT_S))
    raise FoodchainError(f"unknown geocoding provider {provider!r}; use one of {PROVIDERS}")


def _lookup_errors() -> tuple[type[Exception], ...]:
    """geopy's errors (service down, timeout, quota, refused query): reported per site."""
    try:
        from geopy.exc import GeopyError
    except ImportError:  # a fake geocoder without geopy installed
        return ()
    return (GeopyError,)


# --------------------------------------------------------------------------- checks


def keep_geocoded_positions(
    session: Session, sites: Sequence[SiteIn]
) -> tuple[list[SiteIn], list[str]]:
    """The scenario's sites, each one geocoded since keeping the stored position while its
    address is still the one it was geocoded from (``GEOCODED``); and the ids kept. A site
    whose address changed takes the scenario's position again (geocode it anew)."""
    record = session.get(Setting, GEOCODED)
    done: dict[str, Any] = dict(record.value or {}) if record is not None else {}
    stored = {s.id: s for s in session.exec(select(Site)).all()} if done else {}
    merged: list[SiteIn] = []
    kept: list[str] = []
    for site in sites:
        placed, old = done.get(site.id) or {}, stored.get(site.id)
        if (
            old is not None
            and placed.get("query") == query_of(site) != ""
            and (old.lat, old.lon) == (placed.get("lat"), placed.get("lon"))
            and (old.lat, old.lon) != (site.lat, site.lon)
        ):
            merged.append(site.model_copy(update={"lat": old.lat, "lon": old.lon}))
            kept.append(site.id)
        else:
            merged.append(site)
    return merged, kept


def query_of(site: SiteIn) -> str:
    """``11 rue de Bourgogne, 62750 Loos-en-Gohelle``; empty without a street address."""
    if not site.address.strip():
        return ""
    town = f"{site.postcode} {site.commune}".strip()
    return ", ".join(part for part in (site.address.strip(), town) if part)


def _details(raw: Any) -> dict[str, Any]:
    """The answer's fields: a BAN feature's ``properties``, Nominatim's ``address``."""
    if not isinstance(raw, dict):
        return {}
    properties = raw.get("properties")
    if isinstance(properties, dict):
        return properties
    address = raw.get("address")
    return {"postcode": address.get("postcode")} if isinstance(address, dict) else {}


def _score(details: dict[str, Any]) -> float | None:
    value = details.get("score")
    return float(value) if isinstance(value, int | float) else None


def judge(site: SiteIn, query: str, location: Any, *, max_km: float, min_score: float) -> Proposal:
    """The proposal for ``site`` from the geocoder's answer ``location`` (``None``: none)."""
    base = Proposal(site.id, site.name, query, (site.lat, site.lon), Status.REVIEW)
    if location is None:
        return _with(base, reason="the geocoder found no such address; check it")
    new = (float(location.latitude), float(location.longitude))
    details = _details(location.raw)
    score = _score(details)
    label = str(details.get("label") or location.address or "")
    proposal = _with(base, new=new, score=score, label=label)
    moved = great_circle_km(*proposal.old, *new)
    reasons = []
    if not (-90 <= new[0] <= 90 and -180 <= new[1] <= 180):
        reasons.append("not a position on Earth")
    if moved > max_km:
        reasons.append(f"{moved:.1f} km from the stored position (more than {max_km:g} km)")
    if score is not None and score < min_score:
        reasons.append(f"a weak match (score {score:.2f} < {min_score:g})")
    if details.get("type") == "municipality":
        reasons.append("only the commune was found, not the street")
    found_postcode = str(details.get("postcode") or "")
    if site.postcode and found_postcode and found_postcode != site.postcode:
        reasons.append(f"in postcode {found_postcode}, not {site.postcode}")
    if reasons:
        return _with(proposal, reason="; ".join(reasons) + ": check the address, not applied")
    if moved < UNCHANGED_KM:
        return _with(proposal, status=Status.UNCHANGED)
    return _with(proposal, status=Status.APPLY)


def _with(proposal: Proposal, **changes: Any) -> Proposal:
    return replace(proposal, **changes)


# --------------------------------------------------------------------------- the run


def geocode_sites(
    engine: Engine,
    geocoder: Geocoder,
    *,
    provider: str = "ban",
    kind: str | None = None,
    only_missing: bool = False,
    dry_run: bool = False,
    max_km: float = MAX_KM,
    min_score: float = MIN_SCORE,
    progress: Callable[[Proposal], None] | None = None,
) -> GeocodeReport:
    """Ask ``geocoder`` where each site (of ``kind``) is, and write the accepted positions in
    one transaction (none with ``dry_run``, none when a lookup failed). ``only_missing``
    skips sites already geocoded from their current address. No transaction is held while
    the geocoder answers."""
    with transaction(engine) as session:
        sites = session.exec(select(Site).order_by(Site.id)).all()
        record = session.get(Setting, GEOCODED)
        done: dict[str, Any] = dict(record.value or {}) if record is not None else {}
    report = GeocodeReport(provider, dry_run)
    errors = _lookup_errors()
    for site in sites:
        if kind is not None and site.kind != kind:
            continue
        query = query_of(site)
        base = Proposal(site.id, site.name, query, (site.lat, site.lon), Status.SKIPPED)
        if not query:
            proposal = _with(base, reason="no street address (add it with foodchain sites import)")
        elif only_missing and (done.get(site.id) or {}).get("query") == query:
            proposal = _with(base, reason="already geocoded from this address")
        else:
            try:
                proposal = judge(
                    site, query, geocoder.geocode(query), max_km=max_km, min_score=min_score
                )
            except errors as exc:
                reason = f"the lookup failed ({type(exc).__name__}: {exc})"
                proposal = _with(base, status=Status.FAILED, reason=reason)
        report.proposals.append(proposal)
        if progress is not None:
            progress(proposal)
    accepted = [p for p in report.proposals if p.status in (Status.APPLY, Status.UNCHANGED)]
    if dry_run or report.having(Status.FAILED) or not accepted:
        return report
    with write_transaction(engine) as session:
        for proposal in accepted:
            site_row = session.get(Site, proposal.site_id)
            if site_row is None or proposal.new is None:  # removed since: nothing to place
                continue
            if proposal.status is Status.APPLY:
                site_row.lat, site_row.lon = proposal.new
                session.add(site_row)
                report.written += 1
            done[proposal.site_id] = {
                "query": proposal.query,
                "provider": provider,
                "lat": proposal.new[0],
                "lon": proposal.new[1],
            }
        session.merge(Setting(key=GEOCODED, value=done))
    return report
