"""Whether a trigger gets an automatic certificate: R2 health-only, R4 late contact, R10 then mediation."""

from __future__ import annotations

import pytest

from certificates.certificate import rules
from certificates.certificate.models import CertificateKind
from certificates.certificate.rules import Outcome


def outcome(kind: CertificateKind = CertificateKind.mediator, *, health_only: bool = False,
            late_contact: bool = False, reviewed: bool = False, r10_counts: bool = False) -> Outcome:
    return rules.outcome(kind=kind, health_only=health_only, late_contact=late_contact, reviewed=reviewed,
                         missed_deadline_certificate_counts=r10_counts)


def test_r15_a_concluded_mediation_gets_its_certificate():
    assert outcome() is Outcome.issue


@pytest.mark.parametrize("kind", list(CertificateKind))
def test_r2_a_health_only_case_gets_no_tribunal_certificate_even_after_review(kind: CertificateKind):
    assert outcome(kind, health_only=True) is Outcome.health_only
    assert outcome(kind, health_only=True, late_contact=True, reviewed=True) is Outcome.health_only
    assert "no certificate: health-only" in rules.HEALTH_ONLY_OUTCOME


@pytest.mark.parametrize("kind", list(CertificateKind))
def test_r4_late_contact_gets_no_automatic_certificate_but_a_review(kind: CertificateKind):
    assert outcome(kind, late_contact=True) is Outcome.late_contact_review


def test_r4_a_reviewed_late_contact_certificate_is_issued_like_any_other():
    assert outcome(CertificateKind.adviser, late_contact=True, reviewed=True) is Outcome.issue


def test_r10_a_mediation_after_a_missed_30_days_certificate_does_not_issue_a_second_one():
    assert outcome(CertificateKind.mediator, r10_counts=True) is Outcome.missed_deadline_certificate_counts
    assert outcome(CertificateKind.mediator, r10_counts=True, late_contact=True) is (
        Outcome.missed_deadline_certificate_counts)  # the question is only whether to replace it
