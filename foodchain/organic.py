"""Organic certification of a harvest, a name shared by the tables, the allocation's results
and the documents (which read results without the database's models)."""

from __future__ import annotations

from enum import StrEnum


class OrganicStatus(StrEnum):
    """Certification of a harvest. EGalim counts organic in both shares, hve as quality only."""

    ORGANIC = "organic"
    CONVERSION = "conversion"
    HVE = "hve"
    CONVENTIONAL = "conventional"

    @property
    def is_organic(self) -> bool:
        return self is OrganicStatus.ORGANIC

    @property
    def is_quality(self) -> bool:
        """EGalim 'sustainable and quality' (organic, in-conversion and HVE products count)."""
        return self is not OrganicStatus.CONVENTIONAL
