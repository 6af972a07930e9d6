"""Pure: whether a trigger gets an automatic certificate (R2, R4, R10), and the words that explain why not."""

from __future__ import annotations

from enum import StrEnum

from certificates.certificate.models import CertificateKind


class Outcome(StrEnum):
    issue = "issue"
    #: R2: health care provision alone cannot be appealed to the Tribunal; no certificate at all.
    health_only = "health_only"
    #: R10 then mediation: the certificate after a missed 30 days stays the one that counts; a review is raised.
    missed_deadline_certificate_counts = "missed_deadline_certificate_counts"
    #: R4: contact with the adviser after the 2-month window; held for a person's review.
    late_contact_review = "late_contact_review"


HEALTH_ONLY_OUTCOME = ("no certificate: health-only. Health care provision alone cannot be appealed to the "
                       "Tribunal (R2), so a health-only mediation does not produce a mediation certificate.")
LATE_CONTACT_REASON = ("R4: the parent or young person first contacted the mediation adviser more than 2 months "
                       "after the decision notice was sent. No automatic certificate: decide whether to issue one.")
LATE_CONTACT_HELD = "held for review: late contact with the mediation adviser (R4)"
LATE_CONTACT_REFUSED = "no certificate: refused on review of late contact (R4)"


def outcome(*, kind: CertificateKind, health_only: bool, late_contact: bool, reviewed: bool,
            missed_deadline_certificate_counts: bool) -> Outcome:
    """What the issuer does with a triggered certificate once the case's facts are known.

    Health-only comes first: no review can make such a certificate useful. A mediation after an R10
    certificate never issues a second valid certificate (with another appeal deadline) on its own. Late contact
    holds any kind for review; a certificate a person has reviewed is issued like any other.
    """
    if health_only:
        return Outcome.health_only
    if kind == CertificateKind.mediator and missed_deadline_certificate_counts:
        return Outcome.missed_deadline_certificate_counts
    if late_contact and not reviewed:
        return Outcome.late_contact_review
    return Outcome.issue


def missed_deadline_counts_outcome(number: str) -> str:
    return (f"no separate certificate: certificate {number}, issued after the 30 days were missed (R10), stays the "
            "one that counts; the mediation is recorded on it and the adviser reviews whether to replace it.")


def mediation_after_missed_deadline_reason(number: str) -> str:
    return (f"R10: mediation took place after certificate {number} was issued for a missed 30 days. It stays the "
            "valid certificate; issue a replacement (a correction, R16, keeping its issue date) if the mediation "
            "should be shown on it.")
