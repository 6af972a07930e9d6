"""The directory of local authorities (reference data kept in the repository).

Read from ``SEND_LA_DIRECTORY`` when set (production mounts it as
configuration), else from the copy packaged with ``shared``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Organisation(_Model):
    id: str | None = None
    name: str
    phone: str | None = None
    email: str | None = None
    website: str | None = None


class HealthCommissioningBody(_Model):
    id: str
    name: str
    kind: Literal["icb", "nhs_england"]
    #: The body's mailbox for SEND notices (R8: told of health issues within 3 working days).
    email: str | None = None


class LocalAuthority(_Model):
    code: str
    name: str
    reply_to: str
    contact: str
    #: The LA's SEND team mailbox: new requests, meeting invitations, deadline alerts.
    officer_email: str | None = None
    mediation_provider: Organisation
    mediation_adviser: Organisation
    health_commissioning_bodies: tuple[HealthCommissioningBody, ...] = ()


class Directory(_Model):
    version: int
    local_authorities: dict[str, LocalAuthority]

    def get(self, code: str) -> LocalAuthority | None:
        return self.local_authorities.get(code)


@lru_cache(maxsize=4)
def load_directory(path: str | None = None) -> Directory:
    source = path or os.environ.get("SEND_LA_DIRECTORY")
    text = Path(source).read_text() if source else resources.files("shared.data").joinpath("local_authorities.yaml").read_text()
    raw = yaml.safe_load(text)
    authorities = {code: {"code": code, **entry} for code, entry in raw["local_authorities"].items()}
    return Directory(version=raw["version"], local_authorities=authorities)
