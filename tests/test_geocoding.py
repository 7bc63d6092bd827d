"""Sites placed on their street address: accepted answers written in one transaction, far or
weak ones shown for review, sites without an address skipped, a failed lookup writes nothing.
A fake geocoder answers: these tests never reach the network."""

import subprocess
import sys
from typing import Any

import pytest
from geopy.exc import GeocoderServiceError, GeocoderTimedOut
from geopy.location import Location

from foodchain import geocoding
from foodchain.db import transaction
from foodchain.errors import FoodchainError
from foodchain.geocoding import GEOCODED, Status, geocode_sites, make_geocoder, query_of
from foodchain.models import Setting, Site

from .snapshot import snapshot

NORD = "12 rue du Nord, 62750 Loos-en-Gohelle"
SUD = "3 chemin du Marais, 62750 Loos-en-Gohelle"


def ban(lat, lon, score=0.93, kind="housenumber", postcode="62750", label="label"):
    """A Location as geopy's BANFrance returns it (a GeoJSON feature)."""
    properties = {"label": label, "score": score, "type": kind, "postcode": postcode}
    return Location(label, (lat, lon), {"properties": properties})


class FakeGeocoder:
    """Fixed answers per query; an exception instance is raised; records every query."""

    def __init__(self, answers):
        self.answers = answers
        self.queries = []

    def geocode(self, query):
        self.queries.append(query)
        answer = self.answers.get(query)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _address(engine, **addresses):
    with transaction(engine) as session:
        for site_id, address in addresses.items():
            site = session.get(Site, site_id)
            assert site is not None
            site.address, site.postcode = address, "62750"
            session.add(site)


def _position(engine, site_id):
    with transaction(engine) as session:
        site = session.get(Site, site_id)
        assert site is not None
        return site.lat, site.lon


@pytest.fixture
def addressed(engine):
    _address(engine, farm_nord="12 rue du Nord", farm_sud="3 chemin du Marais")
    return engine


def test_accepted_positions_are_written_and_remembered(addressed):
    old_sud = _position(addressed, "farm_sud")
    fake = FakeGeocoder({NORD: ban(50.4612, 2.7888, label="12 Rue du Nord 62750 Loos")})
    report = geocode_sites(addressed, fake, kind="farm")
    (nord,) = report.having(Status.APPLY)
    assert nord.site_id == "farm_nord" and nord.old == (50.46, 2.79)
    assert nord.new == (50.4612, 2.7888) and nord.score == 0.93
    assert nord.moved_km is not None and 0.05 < nord.moved_km < 0.2
    assert report.written == 1
    assert _position(addressed, "farm_nord") == (50.4612, 2.7888)
    assert _position(addressed, "farm_sud") == old_sud  # no answer: reviewed, not moved
    assert fake.queries == [NORD, SUD]  # only farms, each with address, postcode, commune
    with transaction(addressed) as session:
        setting = session.get(Setting, GEOCODED)
    assert setting is not None
    record = setting.value
    assert record["farm_nord"]["query"] == NORD and record["farm_nord"]["provider"] == "ban"


def test_sites_without_an_address_are_skipped_with_their_reason(addressed):
    fake = FakeGeocoder({})
    report = geocode_sites(addressed, fake)
    skipped = report.having(Status.SKIPPED)
    assert "base_11_19" in {p.site_id for p in skipped}
    assert all("no street address" in p.reason for p in skipped)
    assert sorted(fake.queries) == [NORD, SUD]  # the geocoder is asked only about those


def test_far_weak_or_vague_answers_are_reported_and_not_applied(addressed, tiny):
    more = {s.id: f"{n} rue Test" for n, s in enumerate(tiny.sites[3:6], start=1)}
    _address(addressed, **more)
    communes = [s.commune for s in tiny.sites[3:6]]
    queries = {i: f"{a}, 62750 {c}" for (i, a), c in zip(more.items(), communes, strict=True)}
    ids = list(more)
    answers = {
        NORD: ban(50.55, 2.79),  # 10 km north
        SUD: ban(50.4421, 2.7801, score=0.31),  # close, but a weak match
        queries[ids[0]]: ban(tiny.sites[3].lat, tiny.sites[3].lon, kind="municipality"),
        queries[ids[1]]: ban(tiny.sites[4].lat, tiny.sites[4].lon, postcode="62300"),
        queries[ids[2]]: None,  # not found
    }
    before = snapshot(addressed)
    report = geocode_sites(addressed, FakeGeocoder(answers))
    reasons = {p.site_id: p.reason for p in report.having(Status.REVIEW)}
    assert "more than 5 km" in reasons["farm_nord"]
    assert "score 0.31" in reasons["farm_sud"]
    assert "only the commune" in reasons[ids[0]]
    assert "postcode 62300, not 62750" in reasons[ids[1]]
    assert "found no such address" in reasons[ids[2]]
    assert report.written == 0 and snapshot(addressed) == before


def test_a_dry_run_writes_nothing_and_shows_old_and_new_positions(addressed, cli, monkeypatch):
    fake = FakeGeocoder({NORD: ban(50.4612, 2.7888), SUD: ban(50.4431, 2.7812)})
    monkeypatch.setattr(geocoding, "make_geocoder", lambda provider: fake)
    before = snapshot(addressed)
    output = cli("sites", "geocode", "--kind", "farm", "--dry-run")
    assert snapshot(addressed) == before
    assert "farm_nord (Ferme du Nord): 50.46000, 2.79000 → 50.46120, 2.78880 (0.16 km" in output
    assert "2 position(s) would be written" in output
    output = cli("sites", "geocode", "--kind", "farm")
    assert "2 position(s) were written" in output
    assert _position(addressed, "farm_sud") == (50.4431, 2.7812)


def test_a_failed_lookup_is_reported_per_site_and_nothing_is_written(addressed, cli, monkeypatch):
    fake = FakeGeocoder(
        {NORD: ban(50.4612, 2.7888), SUD: GeocoderServiceError("HTTP Error 503: unavailable")}
    )
    before = snapshot(addressed)
    report = geocode_sites(addressed, fake)
    (failed,) = report.having(Status.FAILED)
    assert failed.site_id == "farm_sud" and "HTTP Error 503" in failed.reason
    assert report.written == 0 and snapshot(addressed) == before

    fake.answers[SUD] = GeocoderTimedOut("read timed out")
    monkeypatch.setattr(geocoding, "make_geocoder", lambda provider: fake)
    output = cli("sites", "geocode", code=1)
    assert "farm_sud" in output and "GeocoderTimedOut" in output
    assert "1 lookup(s) failed, so nothing was written" in output
    assert snapshot(addressed) == before


def test_only_missing_skips_sites_geocoded_from_their_current_address(addressed):
    answers = {NORD: ban(50.4612, 2.7888), SUD: ban(50.4431, 2.7812)}
    geocode_sites(addressed, FakeGeocoder(answers))
    _address(addressed, farm_sud="5 chemin du Marais")
    moved = "5 chemin du Marais, 62750 Loos-en-Gohelle"
    fake = FakeGeocoder({moved: ban(50.4433, 2.7815)})
    report = geocode_sites(addressed, fake, only_missing=True)
    assert fake.queries == [moved]
    (nord,) = [p for p in report.proposals if p.site_id == "farm_nord"]
    assert nord.status is Status.SKIPPED and "already geocoded" in nord.reason
    assert _position(addressed, "farm_sud") == (50.4433, 2.7815)


def test_the_query_is_address_postcode_and_commune(tiny):
    site = tiny.sites[1].model_copy(update={"address": " 12 rue du Nord ", "postcode": "62750"})
    assert query_of(site) == NORD
    assert query_of(tiny.sites[1]) == ""  # no street address: no query


def test_the_real_geocoders_are_built_without_a_request():
    from geopy.geocoders import BANFrance

    assert isinstance(make_geocoder("ban"), BANFrance)
    nominatim: Any = make_geocoder("nominatim")
    assert nominatim._geocode.min_delay_seconds == 1.0  # Nominatim's policy: one a second
    assert "foodchain" in geocoding.USER_AGENT
    with pytest.raises(FoodchainError, match="unknown geocoding provider"):
        make_geocoder("google")


def test_without_geopy_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "geopy", None)
    with pytest.raises(FoodchainError, match=r"foodchain\[geocode\]"):
        make_geocoder("ban")


def test_the_command_line_does_not_import_geopy_at_start():
    code = "import sys, foodchain.cli; print('geopy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_loading_the_scenario_again_keeps_geocoded_positions_while_the_address_holds(
    addressed, tiny
):
    """`init` after `sites geocode` keeps the geocoded position (and says so) instead of the
    YAML's, and `plan --scenario` sees no change; once the address differs from the one
    geocoded, the scenario's position comes back (the site is to be geocoded anew)."""
    from foodchain.scenario import ensure_scenario, install_scenario

    geocode_sites(addressed, FakeGeocoder({NORD: ban(50.4612, 2.7888)}), kind="farm")
    report = install_scenario(addressed, tiny)
    assert _position(addressed, "farm_nord") == (50.4612, 2.7888)
    assert any("geocoded since were kept" in n and "farm_nord" in n for n in report.notes)
    assert ensure_scenario(addressed, tiny).outcome == "same"
    _address(addressed, farm_nord="40 rue du Nord")
    install_scenario(addressed, tiny)
    yaml_nord = next(s for s in tiny.sites if s.id == "farm_nord")
    assert _position(addressed, "farm_nord") == (yaml_nord.lat, yaml_nord.lon)
