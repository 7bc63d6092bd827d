"""The rounds on a map: routes.geojson for GIS tools, map.html (Leaflet via folium) for people.

Lines join the sites in visiting order as the crow flies: the record keeps no road geometry.
Every text put into the map's popups and tooltips is escaped, including the characters that
would end or interpolate the JavaScript template strings folium wraps them in.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from statistics import mean
from typing import Any

from foodchain.allocation.export import kg
from foodchain.documents.view import PlanView
from foodchain.plan.record import StopRow
from foodchain.weeks import clock

COLOURS = (
    *("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"),
    *("#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39"),
)


def _position(view: PlanView, site_id: str) -> tuple[float, float] | None:
    """(lon, lat) of a site, None if the record does not know it."""
    site = view.record.sites.get(site_id)
    return (site.lon, site.lat) if site else None


def _trip_positions(view: PlanView, rows: list[StopRow]) -> list[tuple[float, float]]:
    return [p for p in (_position(view, r.site_id) for r in rows) if p is not None]


def geojson(view: PlanView) -> dict[str, Any]:
    """A FeatureCollection (RFC 7946): a LineString per trip, a Point per visit."""
    features: list[dict[str, Any]] = []
    for (day, vehicle_id, trip), rows in view.trips.items():
        common = {
            "vehicle_id": vehicle_id,
            "vehicle_type": view.vehicle_type(vehicle_id),
            "day": day.isoformat(),
            "trip": trip,
        }
        positions = _trip_positions(view, rows)
        if len(positions) >= 2:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [list(p) for p in positions]},
                    "properties": {
                        "kind": "trip",
                        **common,
                        "departure": clock(rows[0].departure),
                        "back": clock(rows[-1].arrival),
                        "km": kg(sum(r.km for r in rows)),
                        "stops": len(rows) - 2,
                    },
                }
            )
        for row in rows[1:-1]:
            position = _position(view, row.site_id)
            if position is None:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": list(position)},
                    "properties": {
                        "kind": "visit",
                        **common,
                        "seq": row.seq,
                        "site_id": row.site_id,
                        "site_name": view.name(row.site_id),
                        "action": row.action,
                        "arrival": clock(row.arrival),
                        "pickup_kg": kg(row.pickup_kg),
                        "delivery_kg": kg(row.delivery_kg),
                        "load_kg": kg(row.load_kg),
                        "part": row.part,
                        "parts": row.parts,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def write_geojson(view: PlanView, path: Path) -> Path:
    path.write_text(json.dumps(geojson(view), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def escape(text: str) -> str:
    """HTML-escape, and neutralise what would break out of a JavaScript template string."""
    return html.escape(text).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def _popup(view: PlanView, row: StopRow) -> str:
    t = view.t
    lines = [f"<b>{escape(view.name(row.site_id))}</b>"]
    if view.address(row.site_id):
        lines.append(escape(view.address(row.site_id)))
    action = t.optional("action", row.action)
    lines.append(
        escape(t("map_visit", vehicle=row.vehicle_id, trip=row.trip, seq=row.seq, action=action))
    )
    lines.append(escape(t("map_arrival", time=clock(row.arrival), window=view.window(row))))
    lines.append(escape(view.stop_words(row)))
    lines.extend(escape(line.text(t)) for line in view.stop_lines(row))
    return "<br>".join(lines)


def _legend(view: PlanView, colours: dict[str, str]) -> str:
    items = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;background:{colour};'
        f'margin-right:4px"></span>'
        f"{escape(view.t('map_vehicle', id=vehicle_id, name=view.name(vehicle_id)))}</div>"
        for vehicle_id, colour in colours.items()
    )
    return (
        '<div style="position:fixed;bottom:24px;left:12px;z-index:1000;background:white;'
        'padding:6px 8px;border:1px solid #999;font:12px sans-serif">'
        f"<b>{escape(view.t('map_legend'))}</b>{items}</div>"
    )


def write_map(view: PlanView, path: Path) -> Path:
    """The week's rounds on a Leaflet map: a layer per day, a colour per vehicle."""
    import folium  # slow to import: only here, so that the CLI starts fast
    from branca.element import Figure

    t, record = view.t, view.record
    sites = list(record.sites.values())
    hub = record.sites.get(record.hub_id)
    figure = Figure(title=escape(t("title_map", week=record.week)))
    fmap = folium.Map(
        location=(mean(s.lat for s in sites), mean(s.lon for s in sites)) if sites else None,
        zoom_start=11,
        control_scale=True,
    )
    fmap.add_to(figure)
    if len(sites) > 1:
        fmap.fit_bounds(
            [
                [min(s.lat for s in sites), min(s.lon for s in sites)],
                [max(s.lat for s in sites), max(s.lon for s in sites)],
            ]
        )
    if hub is not None:
        folium.Marker(
            (hub.lat, hub.lon),
            tooltip=escape(t("map_hub", name=hub.name)),
            icon=folium.Icon(color="black", icon="home"),
        ).add_to(fmap)
    colours = {
        vehicle_id: COLOURS[i % len(COLOURS)]
        for i, vehicle_id in enumerate(sorted({key[1] for key in view.trips}))
    }
    layers: dict[dt.date, folium.FeatureGroup] = {}
    for (day, vehicle_id, trip), rows in view.trips.items():
        if day not in layers:
            layers[day] = folium.FeatureGroup(name=escape(t.day(day)), show=not layers)
            layers[day].add_to(fmap)
        layer, colour = layers[day], colours[vehicle_id]
        positions = [(lat, lon) for lon, lat in _trip_positions(view, rows)]
        km = t.number(sum(r.km for r in rows), 1)
        folium.PolyLine(  # type: ignore[no-untyped-call]
            positions,
            color=colour,
            weight=4,
            opacity=0.8,
            tooltip=escape(t("map_trip", vehicle=vehicle_id, trip=trip, km=km)),
        ).add_to(layer)
        for row in rows[1:-1]:
            site = record.sites.get(row.site_id)
            if site is None:
                continue
            folium.CircleMarker(
                (site.lat, site.lon),
                radius=7,
                color=colour,
                fill=True,
                fill_opacity=0.9,
                tooltip=escape(t("map_stop", seq=row.seq, name=site.name, time=clock(row.arrival))),
                popup=folium.Popup(_popup(view, row), max_width=320),
            ).add_to(layer)
    folium.LayerControl(collapsed=False).add_to(fmap)
    figure.html.add_child(folium.Element(_legend(view, colours)))
    figure.save(str(path))
    return path
