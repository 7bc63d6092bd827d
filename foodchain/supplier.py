"""Who sells to the canteens: the identity a delivery note carries (``settings.supplier``).

A public canteen's receiving desk files the note with its purchase records: it needs the
supplier's name, address and SIRET, and the VAT the price bears. Kept in the scenario's
settings (no table of its own), validated when the scenario is read.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

FRESH_PRODUCE_VAT = 0.055
"""TVA on fresh fruit and vegetables in France: the reduced rate of 5.5 % (CGI art. 278-0 bis)."""


class Supplier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    address: str = ""
    postcode: str = ""
    commune: str = ""
    siret: str = ""
    """14 digits; empty until known (the note then says it is to be filled in)."""
    vat_number: str = ""
    phone: str = ""
    email: str = ""
    vat_rate: float = Field(default=FRESH_PRODUCE_VAT, ge=0.0, le=0.3)

    @field_validator("siret")
    @classmethod
    def _siret(cls, value: str) -> str:
        digits = re.sub(r"\s", "", value)
        if digits and not re.fullmatch(r"\d{14}", digits):
            raise ValueError(f"{value!r} is not a SIRET (14 digits); leave it empty until known")
        return value.strip()


def supplier(settings: dict[str, Any]) -> Supplier | None:
    """The supplier in a scenario's settings, or None when the scenario names none."""
    raw = settings.get("supplier")
    return Supplier.model_validate(raw) if raw else None
