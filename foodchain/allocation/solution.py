"""What the tiers decided, as arrays over the arcs (read by the result's assembly)."""

from __future__ import annotations

from dataclasses import dataclass

from foodchain.allocation.arcs import Arcs
from foodchain.allocation.lp import FloatArray
from foodchain.allocation.parameters import TierStats


@dataclass(frozen=True)
class Solution:
    """Raw values of a solved allocation, indexed like the problem and the arcs (frozen: the
    tiers' statistics are added by making a new one, never by changing one in place)."""

    canteen_arcs: Arcs
    basket_arcs: Arcs
    """target = basket type index (into ``basket_type_ids``)."""
    shop_arcs: Arcs
    basket_type_ids: list[str]
    canteen_kg: FloatArray
    basket_kg: FloatArray
    shop_kg: FloatArray
    short_kg: FloatArray
    composition: dict[tuple[str, str], float]
    """(basket type, product) → kg per basket."""
    baskets_filled: dict[tuple[str, str, int], int]
    """(basket type, relay point, day) → baskets filled."""
    relaxed: bool = False
    """Supply fell short: baskets under the short week's rules (lighter, caps raised)."""
    nested: bool = False
    """The sizes nest (``BasketPolicy.chains``); False when they have none or gave way."""
    tiers: tuple[TierStats, ...] = ()
    status: str = "optimal"
    variables: int = 0
    constraints: int = 0
    integers: int = 0
    build_seconds: float = 0.0
