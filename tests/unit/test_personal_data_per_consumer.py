"""Data minimisation: which personal fields (``Personal`` in shared/events) each service receives, per topic.

A consumer reads every record of a topic it subscribes to, so what it receives is every personal field of
every event type it subscribes to. ``USED`` is what each service needs; ``NOT_YET_TRIMMED`` is what it still
receives without using (issue 11: to be split onto topics of their own, as intake.health-referrals already is
for the health data). The test fails when a new personal field reaches a consumer, and when a trimmed one is
still listed: the second list only shrinks.
"""

from __future__ import annotations

from typing import get_args

from pydantic import BaseModel

from certificates.consumers import SUBSCRIPTIONS as CERTIFICATES
from intake.consumers import SUBSCRIPTIONS as INTAKE
from notifications.consumers import SUBSCRIPTIONS as NOTIFICATIONS
from scheduling.consumers import SUBSCRIPTIONS as SCHEDULING
from shared.kafka.consumer import Subscriptions

CONSUMERS: dict[str, Subscriptions] = {"intake": INTAKE, "scheduling": SCHEDULING, "certificates": CERTIFICATES,
                                       "notifications": NOTIFICATIONS}

#: (service, topic, event type, field): what each service receives and uses.
USED = {
    ("certificates", "intake.cases", "case.submitted.v1", "requester.name"),  # printed; the verification surname
    ("certificates", "intake.cases", "case.mediation_declined.v1", "requester.name"),
    ("notifications", "intake.cases", "case.submitted.v1", "requester.name"),  # the acknowledgement email
    ("notifications", "intake.cases", "case.submitted.v1", "requester.email"),
    ("notifications", "intake.cases", "case.mediation_declined.v1", "requester.name"),
    ("notifications", "intake.cases", "case.mediation_declined.v1", "requester.email"),
    ("notifications", "intake.cases", "case.disagreement_resolution_requested.v1", "parties.name"),
    ("notifications", "intake.cases", "case.disagreement_resolution_requested.v1", "parties.email"),
    ("notifications", "intake.health-referrals", "case.health_referral.v1", "mediation_issues"),  # R8 notice
    ("notifications", "intake.health-referrals", "case.health_referral.v1", "health_provision_wanted"),
    ("notifications", "scheduling.meetings", "meeting.scheduled.v1", "mediator_email"),  # the invitation
    ("notifications", "certificates.documents", "certificate.document_ready.v1", "pdf_base64"),  # the attachment
}

#: Received and never read. Scheduling books meetings from roles, dates and needs; certificates prints the name
#: but never writes; intake's timeline does not address the mediator.
NOT_YET_TRIMMED = {
    ("scheduling", "intake.cases", "case.submitted.v1", "requester.name"),
    ("scheduling", "intake.cases", "case.submitted.v1", "requester.email"),
    ("scheduling", "intake.cases", "case.mediation_declined.v1", "requester.name"),
    ("scheduling", "intake.cases", "case.mediation_declined.v1", "requester.email"),
    ("scheduling", "intake.cases", "case.disagreement_resolution_requested.v1", "parties.name"),
    ("scheduling", "intake.cases", "case.disagreement_resolution_requested.v1", "parties.email"),
    ("certificates", "intake.cases", "case.submitted.v1", "requester.email"),
    ("certificates", "intake.cases", "case.mediation_declined.v1", "requester.email"),
    ("intake", "scheduling.meetings", "meeting.scheduled.v1", "mediator_email"),
}


def personal_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted paths of the fields marked ``Personal`` / ``OptionalPersonal`` (``repr=False``), nested too."""
    found: set[str] = set()
    for name, info in model.model_fields.items():
        path = prefix + name
        if info.repr is False:
            found.add(path)
        for arg in (info.annotation, *get_args(info.annotation)):
            for inner in (arg, *get_args(arg)):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    found |= personal_fields(inner, path + ".")
    return found


def received() -> set[tuple[str, str, str, str]]:
    return {(service, model.topic, model.type, field)
            for service, subscriptions in CONSUMERS.items()
            for model in subscriptions
            for field in personal_fields(model)}


def test_each_service_receives_only_the_personal_fields_listed_for_it():
    unexpected = received() - USED - NOT_YET_TRIMMED

    assert not unexpected, f"personal data reaches a consumer that is not listed as using it: {sorted(unexpected)}"


def test_every_listed_personal_field_still_reaches_its_consumer_so_the_lists_only_shrink():
    assert (USED | NOT_YET_TRIMMED) - received() == set()


def test_the_health_data_reaches_notifications_alone():
    health = {(service, field) for service, topic, _, field in received() if topic == "intake.health-referrals"}

    assert health == {("notifications", "mediation_issues"), ("notifications", "health_provision_wanted")}
