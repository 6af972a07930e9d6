"""Data minimisation: which personal fields (``Personal`` in shared/events) each service receives, per topic.

A consumer reads every record of a topic it subscribes to, so what it receives is every personal field of
every event type it subscribes to. ``USED`` is what each service receives, and every field of it is one the
service reads: the rest travels on topics of their own (one per audience: scheduling reads ``intake.referrals``
and intake ``scheduling.timeline``, without names or contact details; certificates ``intake.certificate-facts``,
with the name it prints; only notifications reads ``intake.cases`` and ``intake.health-referrals``). The test
fails when a personal field reaches a consumer not listed as using it, and when a listed one no longer does.
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

#: (service, topic, event type, field): what each service receives, and each one it uses. Nothing else
#: reaches a consumer: scheduling books meetings from ``intake.referrals`` (roles, dates and needs; no names or
#: emails), certificates prints the requester's name from ``intake.certificate-facts`` (no email), and intake's
#: timeline reads ``scheduling.timeline`` (no mediator's email).
USED = {
    # printed on the certificate; the surname its verification asks for
    ("certificates", "intake.certificate-facts", "certificate_facts.submitted.v1", "requester.name"),
    ("certificates", "intake.certificate-facts", "certificate_facts.mediation_declined.v1", "requester.name"),
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
    unexpected = received() - USED

    assert not unexpected, f"personal data reaches a consumer that is not listed as using it: {sorted(unexpected)}"


def test_every_listed_personal_field_still_reaches_its_consumer():
    assert USED - received() == set()


def test_the_health_data_reaches_notifications_alone():
    health = {(service, field) for service, topic, _, field in received() if topic == "intake.health-referrals"}

    assert health == {("notifications", "mediation_issues"), ("notifications", "health_provision_wanted")}


def test_scheduling_and_intake_receive_no_personal_data_from_each_other():
    assert {(service, topic) for service, topic, _, _ in received() if service in {"scheduling", "intake"}} == set()


def test_the_contact_details_of_the_case_reach_notifications_alone():
    assert {service for service, topic, _, _ in received() if topic == "intake.cases"} == {"notifications"}
    assert {service for service, _, _, field in received() if field.endswith("email")} == {"notifications"}
