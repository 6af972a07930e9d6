"""What the portal's request must say: the appealable decisions (R2), the health bodies (R22), the dates kept (T6)."""

from __future__ import annotations

from datetime import date
from typing import get_args

import pytest
from pydantic import ValidationError

from intake.case.schemas import EXAMPLE_CASE, EXAMPLE_DR, DisagreementResolutionCreate, MediationCreate
from shared.events.cases import DecisionKind

APPEALABLE_DECISIONS = ["refusal_to_assess", "refusal_to_issue_plan", "plan_contents", "refusal_to_reassess",
                        "refusal_to_amend", "cease_plan"]


def mediation(**overrides: object) -> dict[str, object]:
    return {**EXAMPLE_CASE, **overrides}


def refused_fields(error: ValidationError) -> list[str]:
    return [".".join(str(part) for part in item["loc"]) for item in error.errors()]


@pytest.mark.parametrize("decision", APPEALABLE_DECISIONS)
def test_r2_each_appealable_decision_can_be_mediated(decision):
    request = MediationCreate.model_validate(mediation(decision=decision))

    assert request.decision == decision


def test_r2_the_decisions_accepted_are_exactly_the_appealable_ones():
    assert sorted(get_args(DecisionKind)) == sorted(APPEALABLE_DECISIONS)


@pytest.mark.parametrize("decision", ["health_provision", "social_care_provision", "school_transport"])
def test_r2_a_decision_that_cannot_be_appealed_is_not_a_mediation_case(decision):
    with pytest.raises(ValidationError) as raised:
        MediationCreate.model_validate(mediation(decision=decision))

    assert refused_fields(raised.value) == ["decision"]


@pytest.mark.parametrize("role", ["icb", "nhs_england"])
def test_r22_a_health_commissioning_body_is_an_icb_or_nhs_england(role):
    parties = [{"role": "local_authority", "name": "Example Council"}, {"role": role, "name": "Example health body"}]

    request = DisagreementResolutionCreate.model_validate({**EXAMPLE_DR, "dr_type": 4, "parties": parties})

    assert [party.role for party in request.parties] == ["local_authority", role]


def test_r22_a_clinical_commissioning_group_is_not_accepted_as_a_party():
    parties = [{"role": "local_authority", "name": "Example Council"}, {"role": "ccg", "name": "Example CCG"}]

    with pytest.raises(ValidationError) as raised:
        DisagreementResolutionCreate.model_validate({**EXAMPLE_DR, "dr_type": 4, "parties": parties})

    assert refused_fields(raised.value) == ["parties.1.role"]


def test_t6_the_date_the_notice_was_sent_is_required_besides_the_decision_date():
    request = {key: value for key, value in mediation().items() if key != "notice_sent_on"}

    with pytest.raises(ValidationError) as raised:
        MediationCreate.model_validate(request)

    assert refused_fields(raised.value) == ["notice_sent_on"]


def test_t6_the_notice_sent_date_is_kept_as_given_not_replaced_by_the_decision_date():
    request = MediationCreate.model_validate(mediation(decision_date="2026-11-02", notice_sent_on="2026-11-05"))

    assert (request.decision_date, request.notice_sent_on) == (date(2026, 11, 2), date(2026, 11, 5))
