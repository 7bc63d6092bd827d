"""Every word a person reads in the documents, per language, in one place.

Machine files (allocation.csv, routes.csv, kpis.json, routes.geojson) keep English column names
and are not translated; everything else takes its words from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from foodchain.errors import FoodchainError

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        # titles
        "title_index": "Plan de la semaine {week}",
        "title_map": "Tournées de la semaine {week}",
        "title_route_sheet": "Feuille de route : {vehicle}, {day}",
        "title_pick_list": "Liste de récolte : {farm}",
        "title_packing_list": "Liste de préparation : {site}",
        "title_delivery_note": "Bon de livraison : {site}",
        "week": "Semaine {week}",
        "footer": "Plan {week}, scénario {scenario}, préparé par foodchain",
        # column headers
        "day": "Jour",
        "pickup_day": "Jour de collecte",
        "delivery_day": "Jour de livraison",
        "product": "Produit",
        "item": "Produit ou panier",
        "kg": "Quantité (kg)",
        "units": "Unités (environ)",
        "destination": "Destination",
        "purpose": "Usage",
        "handover": "Remise",
        "trip": "Tournée",
        "seq": "Ordre",
        "action": "Action",
        "site": "Lieu",
        "address": "Adresse",
        "commune": "Commune",
        "arrival": "Arrivée",
        "departure": "Départ",
        "window": "Créneau",
        "part": "Partie",
        "stop_pickup_kg": "Collecté (kg)",
        "stop_delivery_kg": "Livré (kg)",
        "load_kg": "Charge après l'arrêt (kg)",
        "km": "km depuis l'arrêt précédent",
        "sheet_load_kg": "Charge (kg)",
        "sheet_km": "km",
        "what": "À prendre ou à déposer",
        "baskets": "Paniers",
        "basket_size": "Taille de panier",
        "baskets_due": "Paniers prévus",
        "baskets_filled": "Paniers remplis",
        "kg_per_basket": "Par panier (kg)",
        "units_per_basket": "Unités par panier",
        "total_kg": "Total (kg)",
        "farm": "Ferme",
        "organic_status": "Mode de production",
        "for_need": "Pour le menu",
        "price": "Prix (€/kg)",
        "amount": "Montant (€)",
        "document": "Document",
        "files": "Fichiers",
        "explanation": "Explication",
        # values
        "action_depart": "Départ du hub",
        "action_depart_from": "Départ : {site}",
        "action_return_from": "Retour : {site}",
        "direct_from_farm": "livré directement par {farm}, depuis sa ferme",
        "deliver_yourself": "À livrer vous-même le {day} : {destination}",
        "take_at_hub": (
            "À prendre à {hub} le {day}, de {farm}, pour votre livraison du {delivery} : "
            "{destination}"
        ),
        "farm_delivers": "La ferme livre elle-même, depuis la ferme : {destinations}.",
        "handed_over_words": "remis à {farm} (sa venue au hub) pour {destination}",
        "action_pickup": "Collecte",
        "action_delivery": "Livraison",
        "action_return": "Retour au hub",
        "purpose_canteen": "Cantine",
        "purpose_basket": "Paniers",
        "purpose_shop": "Épicerie",
        "status_organic": "Bio",
        "status_conversion": "En conversion bio",
        "status_hve": "HVE",
        "status_conventional": "Conventionnel",
        "type_cng_van_small": "fourgonnette GNV",
        "type_cng_van_large": "fourgon GNV",
        "type_e_cargo_bike": "vélo cargo électrique",
        "type_diesel_van": "fourgon diesel",
        "type_electric_van": "fourgon électrique",
        "unit_piece": "pièce",
        "unit_pieces": "pièces",
        "unit_bunch": "botte",
        "unit_bunches": "bottes",
        "approx_units": "≈ {n} {unit}",
        "basket_line": "{name} × {count} ({kg} kg)",
        "product_line": "{name} : {kg} kg",
        "product_units_line": "{name} : {kg} kg ({units})",
        "stop_kg": "{kg} kg",
        "part_of": "partie {part} sur {parts} : {kg} kg sur {total} kg",
        "total": "Total",
        # sentences
        "vehicle_line": "Véhicule : {name} ({id}), {type}, {capacity} kg au plus",
        "day_line": "Jour : {day}",
        "day_summary": "{trips} tournée(s), {km} km, de {start} à {end}",
        "loading_from": "chargement à partir de {time}",
        "trip_title": "Tournée {trip} : départ {departure}, retour {back}, {km} km",
        "pause_after": "Après cette tournée : pause au hub de {start} à {end} ({minutes} min).",
        "cold_trip": "❄ Chaîne du froid ({classes}) : caisson isotherme fermé entre les "
        "arrêts ; livrer chaque arrêt marqué ❄ avant l'heure dite.",
        "cold_stop": "❄ {classes} : au froid",
        "cold_deliver_by": "❄ {classes} : livrer avant {time} (au plus {minutes} min à bord)",
        "cold_unload_by": "❄ {classes} : au hub et déchargé avant {time} "
        "(au plus {minutes} min à bord)",
        "trip_total": "Total de la tournée : collecté {picked} kg, livré {dropped} kg",
        "collected_at": "collecte vers {time} ({vehicle})",
        "bring_to_hub": "à apporter à {hub}",
        "not_planned": "pas de passage prévu : voir le coordinateur",
        "delivery_at": "livraison vers {time} ({vehicle})",
        "farm_brings": "La ferme apporte elle-même sa récolte à {hub}.",
        "farm_collected": "La récolte est collectée à la ferme (heures ci-dessous).",
        "pick_total_section": "Total à récolter par jour et produit",
        "baskets_short": "{name} : {due} paniers prévus, {filled} remplis",
        "shortfalls": "Manques de la semaine",
        "shortfall_line": "{item}, {day} : {kg} kg manquants",
        # index
        "kpi_left_out": (
            "Arrêts obligatoires non desservis : {count} ({kg} kg qui ne seront ni collectés "
            "ni livrés, détail ci-dessous)"
        ),
        "kpi_left_out_none": "Arrêts obligatoires non desservis : aucun",
        "kpi_dropped": "Épiceries partenaires laissées hors des tournées : {count}",
        "kpi_canteens": "Cantines : {delivered} kg livrés sur {demand} kg demandés ({share})",
        "kpi_baskets": "Paniers : {delivered} livrés sur {due} prévus ({share})",
        "kpi_shops": "Épiceries partenaires : {kg} kg livrés",
        "kpi_allocated_kg": " ; {kg} kg alloués",
        "kpi_allocated_baskets": " ; {filled} remplis",
        "kpi_transport": "Transport : {trips} tournées, {km} km, {co2} kg de CO2",
        "index_data": "Fichiers de données",
        "index_map": "Carte des tournées",
        "index_route_sheets": "Feuilles de route (chauffeurs)",
        "index_pick_lists": "Listes de récolte (fermes)",
        "index_packing_lists": "Listes de préparation (points relais, épiceries)",
        "index_delivery_notes": "Bons de livraison (cantines)",
        "index_unserved": "Arrêts non desservis",
        "sheet_label": "{day} : {vehicle} ({id})",
        "map_visit": "{vehicle}, tournée {trip}, arrêt {seq} : {action}",
        "map_arrival": "arrivée {time} (créneau {window})",
        "map_trip": "{vehicle}, tournée {trip} : {km} km",
        "map_stop": "{seq}. {name}, {time}",
        "map_legend": "Véhicules",
        "map_vehicle": "{id} : {name}",
        "map_hub": "Hub : {name}",
        "map_offline": (
            "Tournées et arrêts visibles sans connexion ; le fond de carte (OpenStreetMap) "
            "demande une connexion internet."
        ),
        "map_days": "Jour affiché",
        # the run every page comes from (pages.RunStamp)
        "stamp_draft": "BROUILLON - run {run} · planifié le {at}",
        "stamp_published": "PUBLIÉ - run {run} · publié le {at}",
        "stamp_superseded": "REMPLACÉ - run {run} · publié le {at}, remplacé depuis",
        # quantities as people count them
        "kg_amount": "{kg} kg",
        "pieces_amount": "{n} {unit} ({weight})",
        "n_crate": "{n} caisse",
        "n_crates": "{n} caisses",
        "crates_amount": "{crates} ({weight})",
        "crates_rest_amount": "{crates} + {rest} kg ({weight})",
        "part_crate_amount": "{weight} (moins d'une caisse)",
        # where and who
        "address_missing": "adresse non renseignée : demander au coordinateur",
        "contact_missing": "contact non renseigné",
        "address_contact_missing": "adresse et contact à demander au coordinateur",
        "phone": "tél. {phone}",
        "access": "Accès : {notes}",
        "nav_geo": "GPS",
        "nav_osm": "OpenStreetMap",
        "product_amount_line": "{name} : {amount}",
        "action_words": "{action} : {kg}",
        "load_for_trip": (
            "À charger au hub à partir de {time} : ce qui est à déposer ci-dessous ({kg} kg, "
            "détail sur la feuille de préparation du hub)"
        ),
        "unload_collected": "À décharger au hub : tout ce qui a été collecté ({kg} kg)",
        "window_short": "créneau {window}",
        "qr_caption": "Itinéraire (GPS du téléphone)",
        "qr_leg": "Itinéraire, partie {n}",
        "check": "Fait ✓ / signature",
        "crates": "Caisses pleines",
        "crate_rest_kg": "Caisse entamée (kg)",
        "pieces": "Pièces ou bottes",
        "postcode": "Code postal",
        "contact": "Contact",
        "phone_number": "Téléphone",
        "access_notes": "Accès",
        "map_link": "Carte",
        # pick lists and the hub's packing sheet
        "quantity": "Quantité",
        "bring_to_hub_at": "À apporter à {hub} ({address}), ouvert {hours}",
        "asked_to_bring": (
            "Petite quantité, pas de collecte ce jour : à apporter à la plateforme, {hub} "
            "({address}), ouverte {hours}"
        ),
        "hours_missing": "horaires non renseignés",
        "collected_in_window": "{visits}, créneau de la ferme {window}",
        "pick_week_total": "Total de la semaine : {kg} kg",
        "title_hub_packing": "Préparation au hub : {hub}",
        "hub_packing_intro": "Par jour de livraison, dans l'ordre de chargement des tournées.",
        "round": "Tournée",
        "round_words": "{vehicle}, tournée {trip}, arrêt {seq} ({time})",
        "lot": "récolte du {day}",
        "basket_count": "{n} paniers",
        "index_hub_packing": "Préparation au hub (par destination)",
        "packing_schedule": "Planning des préparateurs : {day}",
        "packer": "Préparateur",
        "packer_n": "Préparateur {n}",
        "time_slot": "Horaire",
        "to_pack": "À préparer",
        "goods_in": "Marchandise au hub",
        "loads": "Pour le départ",
        "loads_with": "{vehicle}, tournée {trip}, chargement à {time}",
        "pack_baskets": "Paniers ({n}) : y mettre les produits de {source}",
        "pack_crates": "{n} caisses : produits de {source}",
        "pack_crate": "{n} caisse : produits de {source}",
        "source_at_hub": "stock du hub (collecté avant)",
        "start": "Début",
        "end": "Fin",
        "vehicle": "Véhicule",
        "loading": "Chargement",
        "crates_title": "Caisses de la semaine, par lieu",
        "crates_note": (
            "Les caisses vides d'un lieu sont reprises, pliées, à sa livraison suivante, dans la "
            "place libre du véhicule (le reste attend la suivante). En début de semaine, le lieu "
            "a les caisses de sa dernière livraison de la semaine (les semaines se ressemblent)."
        ),
        "crates_out_before": "Sur place en début de semaine",
        "crates_delivered": "Livrées pleines",
        "crates_returned": "Vides reprises",
        "crates_out": "Sur place en fin de semaine",
        "and_take_empties": "{action} ; reprendre {n} caisses vides (pliées)",
        "empties_back": "Caisses vides à reprendre",
        # delivery notes
        "title_delivery_note_n": "Bon de livraison n° {number}",
        "supplier": "Fournisseur",
        "delivered_to": "Livré à",
        "supplier_missing": "fournisseur non renseigné (settings.supplier du scénario)",
        "siret": "SIRET : {siret}",
        "vat_number": "N° TVA intracommunautaire : {number}",
        "to_fill": "à renseigner",
        "farm_lot": "Ferme et lot",
        "lot_day": "Lot (jour de récolte)",
        "note_number": "N° de bon",
        "price_ht": "Prix HT (€/kg)",
        "amount_ht": "Montant HT (€)",
        "amount_eur": "Montant (€)",
        "reception": "Réception du {day}",
        "received_by": "Reçu par (nom), date et heure",
        "signature": "Signature",
        "reserves": "Réserves (produit, quantité, motif)",
        "totals": "Totaux du bon",
        "total_ht": "Total HT",
        "vat_line": "TVA {rate}",
        "total_ttc": "Total TTC",
        "egalim_contribution": "Contribution de cette livraison à EGalim",
        "egalim_organic": "Produits bio",
        "egalim_quality": "Produits durables et de qualité (bio, en conversion, HVE)",
        "share_of_note": "Part du montant HT du bon",
        "town_rule": (
            "Règle de la commune pour cette cantine (sur ses achats) : {organic} de bio, "
            "{quality} de produits durables et de qualité"
        ),
        "legal_rule": (
            "Minimum légal EGalim : {quality} de produits durables et de qualité dont "
            "{organic} de bio, en valeur HT des achats de l'année civile"
        ),
    },
    "en": {
        "title_index": "Plan of week {week}",
        "title_map": "Rounds of week {week}",
        "title_route_sheet": "Route sheet: {vehicle}, {day}",
        "title_pick_list": "Pick list: {farm}",
        "title_packing_list": "Packing list: {site}",
        "title_delivery_note": "Delivery note: {site}",
        "week": "Week {week}",
        "footer": "Plan {week}, scenario {scenario}, prepared by foodchain",
        "day": "Day",
        "pickup_day": "Pickup day",
        "delivery_day": "Delivery day",
        "product": "Product",
        "item": "Product or basket",
        "kg": "Quantity (kg)",
        "units": "Units (about)",
        "destination": "Destination",
        "purpose": "Purpose",
        "handover": "Handover",
        "trip": "Trip",
        "seq": "Order",
        "action": "Action",
        "site": "Place",
        "address": "Address",
        "commune": "Town",
        "arrival": "Arrival",
        "departure": "Departure",
        "window": "Time window",
        "part": "Part",
        "stop_pickup_kg": "Picked up (kg)",
        "stop_delivery_kg": "Delivered (kg)",
        "load_kg": "Load after the stop (kg)",
        "km": "km from the previous stop",
        "sheet_load_kg": "Load (kg)",
        "sheet_km": "km",
        "what": "To pick up or drop",
        "baskets": "Baskets",
        "basket_size": "Basket size",
        "baskets_due": "Baskets due",
        "baskets_filled": "Baskets filled",
        "kg_per_basket": "Per basket (kg)",
        "units_per_basket": "Units per basket",
        "total_kg": "Total (kg)",
        "farm": "Farm",
        "organic_status": "Farming",
        "for_need": "For the menu",
        "price": "Price (€/kg)",
        "amount": "Amount (€)",
        "document": "Document",
        "files": "Files",
        "explanation": "Explanation",
        "action_depart": "Leave the hub",
        "action_depart_from": "Leave {site}",
        "action_return_from": "Back at {site}",
        "direct_from_farm": "delivered directly by {farm}, from its farm",
        "deliver_yourself": "Deliver yourself on {day}: {destination}",
        "take_at_hub": (
            "Take at {hub} on {day}, from {farm}, for your delivery of {delivery}: {destination}"
        ),
        "farm_delivers": "The farm delivers these itself, from the farm: {destinations}.",
        "handed_over_words": "handed to {farm} (its hub run) for {destination}",
        "action_pickup": "Pickup",
        "action_delivery": "Delivery",
        "action_return": "Back at the hub",
        "purpose_canteen": "Canteen",
        "purpose_basket": "Baskets",
        "purpose_shop": "Shop",
        "status_organic": "Organic",
        "status_conversion": "In conversion to organic",
        "status_hve": "HVE",
        "status_conventional": "Conventional",
        "type_cng_van_small": "small CNG van",
        "type_cng_van_large": "large CNG van",
        "type_e_cargo_bike": "electric cargo bike",
        "type_diesel_van": "diesel van",
        "type_electric_van": "electric van",
        "unit_piece": "piece",
        "unit_pieces": "pieces",
        "unit_bunch": "bunch",
        "unit_bunches": "bunches",
        "approx_units": "≈ {n} {unit}",
        "basket_line": "{name} × {count} ({kg} kg)",
        "product_line": "{name}: {kg} kg",
        "product_units_line": "{name}: {kg} kg ({units})",
        "stop_kg": "{kg} kg",
        "part_of": "part {part} of {parts}: {kg} kg of {total} kg",
        "total": "Total",
        "vehicle_line": "Vehicle: {name} ({id}), {type}, {capacity} kg at most",
        "day_line": "Day: {day}",
        "day_summary": "{trips} trip(s), {km} km, from {start} to {end}",
        "loading_from": "loading from {time}",
        "trip_title": "Trip {trip}: leave {departure}, back {back}, {km} km",
        "pause_after": "After this trip: break at the hub from {start} to {end} ({minutes} min).",
        "cold_trip": "❄ Cold chain ({classes}): insulated body kept closed between stops; "
        "serve each stop marked ❄ by the time it says.",
        "cold_stop": "❄ {classes}: keep cool",
        "cold_deliver_by": "❄ {classes}: deliver by {time} (at most {minutes} min on board)",
        "cold_unload_by": "❄ {classes}: at the hub and unloaded by {time} "
        "(at most {minutes} min on board)",
        "trip_total": "Trip total: picked up {picked} kg, delivered {dropped} kg",
        "collected_at": "collected around {time} ({vehicle})",
        "bring_to_hub": "bring to {hub}",
        "not_planned": "no visit planned: ask the coordinator",
        "delivery_at": "delivery around {time} ({vehicle})",
        "farm_brings": "The farm brings its harvest to {hub} itself.",
        "farm_collected": "The harvest is collected at the farm (times below).",
        "pick_total_section": "Total to harvest per day and product",
        "baskets_short": "{name}: {due} baskets due, {filled} filled",
        "shortfalls": "Shortfalls of the week",
        "shortfall_line": "{item}, {day}: {kg} kg short",
        "kpi_left_out": (
            "Mandatory stops not served: {count} ({kg} kg neither collected nor delivered, "
            "see below)"
        ),
        "kpi_left_out_none": "Mandatory stops not served: none",
        "kpi_dropped": "Partner shops left out of the rounds: {count}",
        "kpi_canteens": "Canteens: {delivered} kg delivered of {demand} kg asked ({share})",
        "kpi_baskets": "Baskets: {delivered} delivered of {due} due ({share})",
        "kpi_shops": "Partner shops: {kg} kg delivered",
        "kpi_allocated_kg": "; {kg} kg allocated",
        "kpi_allocated_baskets": "; {filled} filled",
        "kpi_transport": "Transport: {trips} trips, {km} km, {co2} kg CO2",
        "index_data": "Data files",
        "index_map": "Map of the rounds",
        "index_route_sheets": "Route sheets (drivers)",
        "index_pick_lists": "Pick lists (farms)",
        "index_packing_lists": "Packing lists (relay points, shops)",
        "index_delivery_notes": "Delivery notes (canteens)",
        "index_unserved": "Stops not served",
        "sheet_label": "{day}: {vehicle} ({id})",
        "map_visit": "{vehicle}, trip {trip}, stop {seq}: {action}",
        "map_arrival": "arrival {time} (window {window})",
        "map_trip": "{vehicle}, trip {trip}: {km} km",
        "map_stop": "{seq}. {name}, {time}",
        "map_legend": "Vehicles",
        "map_vehicle": "{id}: {name}",
        "map_hub": "Hub: {name}",
        "map_offline": (
            "Rounds and stops show without a connection; the background map (OpenStreetMap) "
            "needs an internet connection."
        ),
        "map_days": "Day shown",
        # the run every page comes from (pages.RunStamp)
        "stamp_draft": "DRAFT - run {run} · planned {at}",
        "stamp_published": "PUBLISHED - run {run} · published {at}",
        "stamp_superseded": "SUPERSEDED - run {run} · published {at}, replaced since",
        "kg_amount": "{kg} kg",
        "pieces_amount": "{n} {unit} ({weight})",
        "n_crate": "{n} crate",
        "n_crates": "{n} crates",
        "crates_amount": "{crates} ({weight})",
        "crates_rest_amount": "{crates} + {rest} kg ({weight})",
        "part_crate_amount": "{weight} (less than a crate)",
        "address_missing": "address not known: ask the coordinator",
        "contact_missing": "no contact given",
        "address_contact_missing": "ask the coordinator for address and contact",
        "phone": "tel. {phone}",
        "access": "Access: {notes}",
        "nav_geo": "GPS",
        "nav_osm": "OpenStreetMap",
        "product_amount_line": "{name}: {amount}",
        "action_words": "{action}: {kg}",
        "load_for_trip": (
            "Load at the hub from {time}: what is dropped below ({kg} kg, detail on the hub's "
            "packing sheet)"
        ),
        "unload_collected": "Unload at the hub: everything collected ({kg} kg)",
        "window_short": "window {window}",
        "qr_caption": "Itinerary (phone navigation)",
        "qr_leg": "Itinerary, part {n}",
        "check": "Done ✓ / signature",
        "crates": "Full crates",
        "crate_rest_kg": "Part crate (kg)",
        "pieces": "Pieces or bunches",
        "postcode": "Postcode",
        "contact": "Contact",
        "phone_number": "Phone",
        "access_notes": "Access",
        "map_link": "Map",
        "quantity": "Quantity",
        "bring_to_hub_at": "Bring to {hub} ({address}), open {hours}",
        "asked_to_bring": (
            "A small quantity, no collection that day: please bring it to the hub, {hub} "
            "({address}), open {hours}"
        ),
        "hours_missing": "opening hours not known",
        "collected_in_window": "{visits}, farm's window {window}",
        "pick_week_total": "Total of the week: {kg} kg",
        "title_hub_packing": "Packing at the hub: {hub}",
        "hub_packing_intro": "Per delivery day, in the order the rounds are loaded.",
        "round": "Round",
        "round_words": "{vehicle}, trip {trip}, stop {seq} ({time})",
        "lot": "harvested {day}",
        "basket_count": "{n} baskets",
        "index_hub_packing": "Packing at the hub (per destination)",
        "packing_schedule": "Packers' schedule: {day}",
        "packer": "Packer",
        "packer_n": "Packer {n}",
        "time_slot": "Time",
        "to_pack": "To pack",
        "goods_in": "Goods at the hub",
        "loads": "For the departure",
        "loads_with": "{vehicle}, trip {trip}, loading at {time}",
        "pack_baskets": "Baskets ({n}): put in the products of {source}",
        "pack_crates": "{n} crates: products of {source}",
        "pack_crate": "{n} crate: products of {source}",
        "source_at_hub": "the hub's stock (collected before)",
        "start": "Start",
        "end": "End",
        "vehicle": "Vehicle",
        "loading": "Loading",
        "crates_title": "Crates of the week, per site",
        "crates_note": (
            "A site's empty crates are taken back, folded, at its next delivery, in the room "
            "left in the vehicle (the rest waits for the one after). At the start of the week "
            "a site has the crates of its last delivery of the week (the weeks are alike)."
        ),
        "crates_out_before": "Out there when the week starts",
        "crates_delivered": "Delivered full",
        "crates_returned": "Empties taken back",
        "crates_out": "Out there when the week ends",
        "and_take_empties": "{action}; take back {n} empty crates (folded)",
        "empties_back": "Empty crates to take back",
        "title_delivery_note_n": "Delivery note no. {number}",
        "supplier": "Supplier",
        "delivered_to": "Delivered to",
        "supplier_missing": "supplier not given (the scenario's settings.supplier)",
        "siret": "SIRET: {siret}",
        "vat_number": "VAT number: {number}",
        "to_fill": "to be filled in",
        "farm_lot": "Farm and lot",
        "lot_day": "Lot (harvest day)",
        "note_number": "Note no.",
        "price_ht": "Price excl. VAT (€/kg)",
        "amount_ht": "Amount excl. VAT (€)",
        "amount_eur": "Amount (€)",
        "reception": "Received on {day}",
        "received_by": "Received by (name), date and time",
        "signature": "Signature",
        "reserves": "Reserves (product, quantity, reason)",
        "totals": "Totals of the note",
        "total_ht": "Total excl. VAT",
        "vat_line": "VAT {rate}",
        "total_ttc": "Total incl. VAT",
        "egalim_contribution": "Contribution of this delivery to EGalim",
        "egalim_organic": "Organic products",
        "egalim_quality": "Sustainable and quality products (organic, in conversion, HVE)",
        "share_of_note": "Share of the note's amount excl. VAT",
        "town_rule": (
            "The town's rule for this canteen (over its purchases): {organic} organic, "
            "{quality} sustainable and quality products"
        ),
        "legal_rule": (
            "EGalim legal minimum: {quality} sustainable and quality products, {organic} of "
            "them organic, by value excl. VAT of a calendar year's purchases"
        ),
    },
}

WEEKDAY_NAMES = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}

LANGUAGES = tuple(WORDS)


@dataclass(frozen=True)
class Language:
    """Words, dates and numbers as the reader of one language writes them."""

    code: str

    def __call__(self, key: str, **values: Any) -> str:
        return WORDS[self.code][key].format(**values)

    def day(self, day: dt.date) -> str:
        """``jeudi 03/12/2026`` or ``Thursday 2026-12-03``."""
        name = WEEKDAY_NAMES[self.code][day.weekday()]
        return f"{name} {day:%d/%m/%Y}" if self.code == "fr" else f"{name} {day.isoformat()}"

    def moment(self, when: dt.datetime) -> str:
        """``01/12/2026 à 14:05`` or ``2026-12-01 14:05``."""
        return f"{when:%d/%m/%Y à %H:%M}" if self.code == "fr" else f"{when:%Y-%m-%d %H:%M}"

    def number(self, value: float, digits: int = 2) -> str:
        text = f"{value:,.{digits}f}"
        if self.code == "fr":
            return text.replace(",", "\u202f").replace(".", ",")
        return text

    def kg(self, value: float) -> str:
        """Kg as a scale shows them: to 100 g, ``12`` rather than ``12,0``, never ``-0``."""
        value = round(value, 1)
        text = self.number(value if value > 0 else 0.0, 1)
        return text[:-2] if text.endswith("0") and text[-2] in ",." else text

    def percent(self, share: float | None, digits: int = 0) -> str:
        if share is None:
            return "-"
        text = f"{share:.{digits}%}"
        return text.replace(".", ",").replace("%", "\u00a0%") if self.code == "fr" else text

    def optional(self, prefix: str, value: str) -> str:
        """The word for ``prefix_value`` (an action, a status...), else the value itself."""
        return self(f"{prefix}_{value}") if f"{prefix}_{value}" in WORDS[self.code] else value


def language(code: str) -> Language:
    """The documents' language; anything but a known code is refused before writing."""
    if code not in WORDS:
        raise FoodchainError(
            f"unknown document language {code!r}: use one of {', '.join(LANGUAGES)}"
        )
    return Language(code)
