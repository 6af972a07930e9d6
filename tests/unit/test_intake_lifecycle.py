"""Intake's pure rules: R3 exemption, R8 health routing, and the case lifecycle."""

from datetime import date

import pytest

from intake.case import rules
from intake.case.models import ArrangingBody, CaseStatus
from intake.case.rules import Action, AppealMatter
from shared.calendar import DEFAULT_CALENDAR


@pytest.mark.parametrize("matters", [
    {AppealMatter.named_school}, {AppealMatter.named_school_type}, {AppealMatter.no_school_named},
    {AppealMatter.named_school, AppealMatter.named_school_type},
])
def test_r3_an_appeal_only_about_the_school_named_needs_no_certificate(matters):
    assert rules.certificate_requirement(matters).certificate_required is False


@pytest.mark.parametrize("extra", [AppealMatter.section_b, AppealMatter.section_f, AppealMatter.refusal_to_assess])
def test_r3_an_appeal_that_also_covers_needs_or_provision_needs_a_certificate(extra):
    requirement = rules.certificate_requirement({AppealMatter.named_school, extra})

    assert requirement.certificate_required is True
    assert extra.value in requirement.reason


def test_r8_without_health_issues_the_la_arranges_and_no_health_body_is_told():
    routing = rules.health_routing(health_issues=False, health_only=False, told_on=date(2026, 11, 20),
                                   calendar=DEFAULT_CALENDAR)

    assert routing == rules.HealthRouting(ArrangingBody.local_authority, None)


def test_r8_health_only_is_arranged_by_the_commissioning_body():
    routing = rules.health_routing(health_issues=True, health_only=True, told_on=date(2026, 12, 23),
                                   calendar=DEFAULT_CALENDAR)

    assert routing.arranging_body is ArrangingBody.health_commissioning_body
    assert routing.health_bodies_told_by == date(2026, 12, 30)  # 24, 29, 30 Dec: 25 and 28 Dec are holidays


def test_r8_health_plus_other_issues_is_arranged_by_the_la_which_still_tells_the_health_body():
    routing = rules.health_routing(health_issues=True, health_only=False, told_on=date(2026, 4, 2),
                                   calendar=DEFAULT_CALENDAR)

    assert routing.arranging_body is ArrangingBody.local_authority
    assert routing.health_bodies_told_by == date(2026, 4, 9)  # Good Friday and Easter Monday skipped


@pytest.mark.parametrize(("action", "status", "allowed"), [
    (Action.decline_mediation, CaseStatus.submitted, True),
    (Action.decline_mediation, CaseStatus.meeting_scheduled, True),
    (Action.decline_mediation, CaseStatus.meeting_concluded, False),
    (Action.request_mediation, CaseStatus.declined, True),
    (Action.request_mediation, CaseStatus.submitted, False),
    (Action.withdraw, CaseStatus.submitted, True),
    (Action.withdraw, CaseStatus.certificate_issued, False),
    (Action.withdraw, CaseStatus.withdrawn, False),
])
def test_the_lifecycle_allows_only_its_transitions(action, status, allowed):
    assert rules.can(action, status) is allowed


def test_a_withdrawn_case_is_not_moved_on_by_a_late_meeting_event():
    assert rules.follows(CaseStatus.withdrawn, CaseStatus.meeting_scheduled) is False
    assert rules.follows(CaseStatus.submitted, CaseStatus.meeting_scheduled) is True


@pytest.mark.parametrize(("dr_type", "roles"), [
    (1, ["parent", "local_authority"]), (1, ["young_person", "academy_proprietor"]),
    (2, ["parent", "school"]), (2, ["parent", "early_years_provider"]),
    (3, ["parent", "icb"]), (3, ["young_person", "local_authority"]),
])
def test_r21_each_type_accepts_the_family_and_its_other_side(dr_type, roles):
    assert rules.dr_party_errors(dr_type, roles, has_child=True) == []


def test_r21_type_4_refuses_a_parent_and_names_the_party():
    [error] = rules.dr_party_errors(4, ["local_authority", "parent", "icb"], has_child=False)

    assert error.field == "body.parties.1.role"


def test_r21_type_4_needs_the_la_and_a_health_commissioning_body():
    errors = rules.dr_party_errors(4, ["icb", "nhs_england"], has_child=False)

    assert [e.reason for e in errors] == ["type 4 needs the local_authority as a party"]


def test_r21_type_2_is_not_with_an_icb():
    [error] = rules.dr_party_errors(2, ["parent", "icb"], has_child=True)

    assert error.field == "body.parties.1.role"


def test_r21_types_1_to_3_need_exactly_one_family_party_and_a_child():
    errors = rules.dr_party_errors(1, ["local_authority", "governing_body"], has_child=False)

    assert [e.field for e in errors] == ["body.parties", "body.child"]


def test_r21_booking_waits_for_every_partys_consent_and_names_who_is_missing():
    parties = [{"role": "parent", "consented_on": "2026-11-20"}, {"role": "school", "consented_on": None}]

    assert rules.all_consented(parties) is False
    assert rules.missing_consent(parties) == ["school"]
