"""Who receives the drivers' route sheets (``settings.sending`` of a scenario).

Farms, canteens, relay points and shops are sites with an ``email``; drivers are not sites and
the fleet names vehicles, not people, so the scenario lists them:

.. code-block:: yaml

    settings:
      sending:
        drivers:
          - {name: Karim, email: karim@example.org, vehicles: [gnv_ducato_1]}
          - {name: Planning, email: planning@example.org}   # no vehicles: every route sheet

``foodchain runs send --drivers-to ADDRESS`` sends every route sheet to one address instead
(a shared mailbox, the coordinator printing them), whatever the scenario says.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
"""What an address must look like (the same test as a site's ``email``)."""


class Driver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=100)
    email: str
    vehicles: list[str] = []
    """The vehicles whose route sheets this driver gets; empty: every route sheet."""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if not EMAIL.fullmatch(value):
            raise ValueError(f"{value!r} is not an e-mail address (name@example.org)")
        return value


class SendingRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    drivers: list[Driver] = []


def sending_rules(settings: dict[str, Any]) -> SendingRules:
    """The scenario's ``settings.sending`` (none: no driver is known)."""
    raw = settings.get("sending")
    return SendingRules.model_validate(raw) if raw else SendingRules()
