"""Words for food as canteen software and cooks write them: data, not code.

``NOT_LOCAL``: what a menu names that the local vegetable and fruit supply chain does not
supply (meat, fish, eggs, dairy, bread, starches and grocery, fruit that does not grow here).
A menu line whose product starts with one of these words is left out of the demand and
counted, never refused — unless the scenario's catalogue itself holds that product.

``PRODUCT_ALIASES``: usual names of a product that its catalogue name does not give, mapped
to the product id (an alias whose id the catalogue lacks is ignored).

Words are written folded (lowercase, no accents, œ as oe) and in the singular: they are
compared with the product cell folded the same way, plural ``s``/``x`` dropped.
"""

from __future__ import annotations

_NOT_LOCAL = {
    "meat": """viande, boeuf, veau, porc, agneau, mouton, poulet, volaille, dinde, dindonneau,
        canard, lapin, pintade, jambon, lardon, saucisse, saucisson, chipolata, merguez, knack,
        cervelas, steak, hache, boulette, nugget, cordon bleu, escalope, roti, saute,
        blanquette, bourguignon, cuisse, emince, paupiette, rillette, pate de campagne,
        terrine, bacon, chorizo, carbonnade, hachis""",
    "fish": """poisson, cabillaud, colin, merlu, lieu, hoki, saumon, thon, sardine, maquereau,
        truite, limande, sole, dos de, pave de, crevette, moule, calamar, encornet, surimi,
        brandade, fruits de mer, poulpe, crabe""",
    "eggs": "oeuf, omelette",
    "dairy": """lait, laitage, produit laitier, yaourt, yoghourt, yogourt, fromage, petit suisse,
        faisselle, creme, beurre, emmental, gruyere, comte, camembert, brie, coulommier, edam,
        gouda, mimolette, cantal, chevre, tomme, maroilles, mozzarella, feta, vache qui rit,
        kiri, flan, liegeois, entremet, riz au lait, semoule au lait, mousse""",
    "bread": """pain, baguette, brioche, biscotte, viennoiserie, croissant, madeleine, biscuit,
        gateau, cake, gaufre, crepe, tarte, quiche, pizza, feuillete, beignet, cookie, muffin""",
    "starches": """pate, spaghetti, coquillette, macaroni, penne, tagliatelle, lasagne, ravioli,
        riz, semoule, boulgour, quinoa, ble, polenta, lentille, pois chiche, haricot blanc,
        haricot rouge, flageolet, farine, puree en flocon, frite, chips""",
    "grocery": """huile, vinaigre, vinaigrette, sel, poivre, sucre, miel, confiture, chocolat,
        cacao, compote, jus, sirop, eau, sauce, ketchup, mayonnaise, moutarde, epice, bouillon,
        glace, sorbet, cereale, muesli, olive, cornichon, mais""",
    "fruit not grown here": """banane, orange, clementine, mandarine, ananas, citron,
        pamplemousse, mangue, raisin, peche, nectarine, abricot, melon, pasteque, avocat, datte,
        fruit exotique""",
}
NOT_LOCAL: dict[str, tuple[str, ...]] = {
    family: tuple(w.strip() for w in words.split(",")) for family, words in _NOT_LOCAL.items()
}
"""Family → words and phrases (folded, singular)."""

PRODUCT_ALIASES: dict[str, str] = {
    "oignon": "onion",
    "chicon": "endive",
    "pdt": "potato",
    "patate": "potato",
    "pomme de terre nouvelle": "potato",
    "celeri": "celeriac",
    "haricot": "green_beans",
    "potiron": "squash",
    "courge": "squash",
    "salade verte": "lettuce",
    "mache": "lambs_lettuce",
    "blette": "chard",
    "bette": "chard",
    "feve": "broad_beans",
    "petit pois": "peas",
    "ail": "new_garlic",
}
