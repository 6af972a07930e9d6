from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from shared import clock


class InvitationStatus(StrEnum):
    booked = "booked"
    cancelled = "cancelled"


class MeetingInvitation(SQLModel, table=True):
    """What the parties were last told about a meeting: the calendar invitation's UID and SEQUENCE.

    Every invitation, update and cancellation of one meeting shares its UID;
    each change raises SEQUENCE so calendar programs replace the old entry
    (RFC 5546 2.1.4).
    """

    __tablename__ = "meeting_invitations"

    meeting_id: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(index=True, max_length=36)
    uid: str = Field(max_length=255)
    sequence: int = 0
    status: InvitationStatus = InvitationStatus.booked
    starts_at: datetime
    ends_at: datetime
    location: str = Field(max_length=500)
    mediator_name: str = Field(default="", max_length=200)
    provider_name: str = Field(default="", max_length=200)
    kind: str = Field(default="mediation", max_length=32, sa_column_kwargs={"server_default": "mediation"})
    arranging_body: str = Field(default="local_authority", max_length=32,
                                sa_column_kwargs={"server_default": "local_authority"})
    #: The mediator's work address for their invitations; personal data, kept only here.
    mediator_email: str | None = Field(default=None, max_length=320)
    updated_at: datetime = Field(default_factory=clock.now)
