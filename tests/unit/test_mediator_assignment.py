"""Mediator assignment: R13/R5 independence, conflicts, needs, capacity, fair load, availability, late slots."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduling.mediator import rules
from scheduling.mediator.models import EmployerKind, Mediator, MediatorAvailability, MediatorUnavailability
from scheduling.mediator.rules import Diary, Needs
from shared.calendar import WorkingDayCalendar

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
MONDAY = date(2026, 11, 30)
NEEDS = Needs(provider_id="prov-1", la_code="E06000033")


def mediator(id: str, **overrides) -> Mediator:
    fields = {"name": f"Mediator {id}", "email": f"{id}@provider.example", "provider_id": "prov-1",
              "employer_kind": EmployerKind.independent, "employer_name": "Independent", "capacity_per_week": 5,
              "active": True, "languages": ["en"], "accessibility_skills": [], "areas": ["E06000033"],
              "conflicts": []}
    return Mediator(id=id, **{**fields, **overrides})


def window(rrule: str = WEEKDAYS, start: time = time(9, 30), end: time = time(16, 30), **overrides) -> MediatorAvailability:
    return MediatorAvailability(mediator_id="m", rrule=rrule, start_time=start, end_time=end, **overrides)


def away(starts_on: date, ends_on: date) -> MediatorUnavailability:
    return MediatorUnavailability(mediator_id="m", starts_on=starts_on, ends_on=ends_on, reason="leave")


def weekdays(*bookings: datetime) -> Diary:
    return Diary(windows=[window()], bookings=[(b, b.replace(hour=b.hour + 2)) for b in bookings])


def assign(candidates, needs=NEEDS, *, earliest=MONDAY, latest=date(2026, 12, 18), diaries=None, **kwargs):
    diaries = diaries if diaries is not None else {m.id: weekdays() for m in candidates}
    return rules.assign(candidates, needs, earliest=earliest, latest=latest, diaries=diaries,
                        calendar=WorkingDayCalendar(), **kwargs)


def considered(assignment, mediator_id: str) -> dict:
    return next(c for c in assignment.explanation["considered"] if c["mediator_id"] == mediator_id)


# R13 / R5: independence.


def test_r13_a_mediator_employed_by_an_icb_is_refused_and_the_reason_says_so():
    icb = mediator("icb-1", employer_kind=EmployerKind.icb, employer_name="NHS Mid and South Essex ICB")

    assignment = assign([icb, mediator("ind-1")])

    assert assignment.mediator is not None and assignment.mediator.id == "ind-1"
    assert considered(assignment, "icb-1") == {
        "mediator_id": "icb-1", "eligible": False,
        "reasons": ["not independent (R13): employed by NHS Mid and South Essex ICB"]}


@pytest.mark.parametrize("kind", [EmployerKind.local_authority, EmployerKind.icb, EmployerKind.nhs_england])
def test_r13_la_icb_and_nhs_england_employees_are_refused_even_when_nobody_else_is_free(kind):
    assignment = assign([mediator("m1", employer_kind=kind, employer_name="Essex County Council")])

    assert assignment.mediator is None and assignment.slot is None
    assert considered(assignment, "m1")["reasons"] == ["not independent (R13): employed by Essex County Council"]


def test_r13_refusals_of_a_mediator_named_by_the_provider_give_the_reason():
    assert rules.refusals(mediator("nhse", employer_kind=EmployerKind.nhs_england, employer_name="NHS England"),
                          NEEDS) == ["not independent (R13): employed by NHS England"]
    assert rules.refusals(mediator("ok"), NEEDS) == []


# Conflicts of interest, area, languages, accessibility, inactive.


def test_a_conflict_with_the_case_la_is_refused_and_named():
    reasons = rules.refusals(mediator("m1", conflicts=["E06000033"]), NEEDS)

    assert reasons == ["conflict of interest with the local authority E06000033"]


def test_a_conflict_with_the_case_school_is_refused_and_named():
    needs = Needs(provider_id="prov-1", la_code="E06000033", school_urn="115024")

    assert rules.refusals(mediator("m1", conflicts=["115024"]), needs) == [
        "conflict of interest with the school 115024"]
    assert rules.refusals(mediator("m2", conflicts=["999999"]), needs) == []


def test_a_mediator_who_does_not_serve_the_area_is_refused_and_one_with_no_areas_serves_every_area():
    assert rules.refusals(mediator("m1", areas=["E10000012"]), NEEDS) == ["does not serve the area E06000033"]
    assert rules.refusals(mediator("m2", areas=[]), NEEDS) == []


def test_a_needed_language_the_mediator_lacks_is_refused_and_bcp47_subtags_match():
    needs = Needs(provider_id="prov-1", la_code="E06000033", languages=("pl", "bfi"))

    assert rules.refusals(mediator("m1", languages=["en", "pl"]), needs) == ["does not mediate in bfi"]
    assert rules.refusals(mediator("m2", languages=["en", "PL-pl", "bfi"]), needs) == []
    assert rules.language_matches("zh-Hant", "zh-Hans") is False


def test_a_needed_accessibility_skill_the_mediator_lacks_is_refused():
    needs = Needs(provider_id="prov-1", la_code="E06000033", accessibility_needs=("hearing_loop", "bsl"))

    assignment = assign([mediator("m1", accessibility_skills=["hearing_loop"]),
                         mediator("m2", accessibility_skills=["bsl", "hearing_loop"])], needs)

    assert assignment.mediator is not None and assignment.mediator.id == "m2"
    assert considered(assignment, "m1")["reasons"] == ["lacks the accessibility skill bsl"]


def test_an_inactive_mediator_or_one_of_another_provider_is_refused():
    assert rules.refusals(mediator("m1", active=False), NEEDS) == ["inactive"]
    assert rules.refusals(mediator("m2", provider_id="prov-2"), NEEDS) == ["not a mediator of the provider prov-1"]


# Capacity and fair load.


def test_a_mediator_at_capacity_that_week_is_passed_over_and_the_reason_says_so():
    full = mediator("a-full", capacity_per_week=2)
    diaries = {"a-full": weekdays(datetime(2026, 12, 1, 10, tzinfo=UTC), datetime(2026, 12, 2, 10, tzinfo=UTC)),
               "b-free": weekdays()}

    assignment = assign([full, mediator("b-free")], latest=date(2026, 12, 4), diaries=diaries)

    assert assignment.mediator is not None and assignment.mediator.id == "b-free"
    assert "at capacity (2 of 2) in the week of 2026-11-30" in considered(assignment, "a-full")["reasons"]


def test_a_mediator_at_capacity_this_week_is_booked_the_next_week_when_the_only_one():
    diaries = {"m1": weekdays(datetime(2026, 12, 1, 10, tzinfo=UTC))}

    assignment = assign([mediator("m1", capacity_per_week=1)], diaries=diaries)

    assert assignment.slot is not None and assignment.slot.starts_at.date() == date(2026, 12, 7)


def test_fair_load_is_weighted_by_capacity():
    busy_but_big = mediator("a-big", capacity_per_week=5)  # 2 of 5 = 0.4
    quiet_but_small = mediator("b-small", capacity_per_week=2)  # 1 of 2 = 0.5
    diaries = {"a-big": weekdays(datetime(2026, 12, 1, 10, tzinfo=UTC), datetime(2026, 12, 2, 10, tzinfo=UTC)),
               "b-small": weekdays(datetime(2026, 12, 1, 10, tzinfo=UTC))}

    assignment = assign([quiet_but_small, busy_but_big], diaries=diaries)

    assert assignment.mediator is not None and assignment.mediator.id == "a-big"
    assert considered(assignment, "a-big")["load"] == {"week_of": "2026-11-30", "booked": 2, "capacity": 5}


def test_equal_load_goes_to_the_least_recently_booked_then_by_id():
    recent = mediator("a-recent", last_booked_at=datetime(2026, 11, 20, tzinfo=UTC))
    longer = mediator("b-longer", last_booked_at=datetime(2026, 10, 1, tzinfo=UTC))

    assert assign([recent, longer]).mediator.id == "b-longer"
    assert assign([mediator("b"), mediator("a")]).mediator.id == "a"


# Availability: recurring windows and exceptions.


def test_availability_follows_the_rrule_and_its_local_hours():
    windows = [window("FREQ=WEEKLY;BYDAY=TU,TH", time(9, 30), time(16, 30))]

    assert rules.is_available(windows, [], date(2026, 12, 1), time(10, 0)) is True  # Tuesday
    assert rules.is_available(windows, [], date(2026, 12, 2), time(10, 0)) is False  # Wednesday
    assert rules.is_available(windows, [], date(2026, 12, 1), time(15, 0)) is False  # would end 17:00


def test_an_exception_makes_every_day_in_its_range_unavailable():
    windows, absences = [window()], [away(date(2026, 12, 1), date(2026, 12, 2))]

    assert rules.is_available(windows, absences, date(2026, 12, 2), time(10, 0)) is False
    assert rules.slots(windows, absences, date(2026, 12, 1)) == []
    assert rules.is_available(windows, absences, date(2026, 12, 3), time(10, 0)) is True


def test_slots_of_a_day_are_every_half_hour_that_ends_inside_the_window_in_london_time():
    found = rules.slots([window(start=time(9, 30), end=time(13, 0))], [], date(2026, 7, 6))

    assert [s.starts_at.time() for s in found] == [time(9, 30), time(10, 0), time(10, 30), time(11, 0)]
    assert found[0].starts_at == datetime(2026, 7, 6, 9, 30, tzinfo=LONDON)
    assert found[0].starts_at.utcoffset().total_seconds() == 3600  # BST


def test_a_window_only_applies_between_valid_from_and_valid_until_and_interval_counts_from_valid_from():
    fortnightly = window("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", valid_from=date(2026, 11, 30),
                         valid_until=date(2026, 12, 31))

    assert rules.window_days(fortnightly, date(2026, 11, 1), date(2027, 1, 31)) == {
        date(2026, 11, 30), date(2026, 12, 14), date(2026, 12, 28)}


def test_a_booked_meeting_takes_its_slot():
    booked = [(datetime(2026, 12, 1, 10, tzinfo=LONDON), datetime(2026, 12, 1, 12, tzinfo=LONDON))]

    assert rules.is_available([window()], [], date(2026, 12, 1), time(10, 0), busy=booked) is False
    assert rules.is_available([window()], [], date(2026, 12, 1), time(12, 0), busy=booked) is True


def test_assignment_books_the_first_free_day_after_an_exception_at_10am():
    diaries = {"m1": Diary(windows=[window()], absences=[away(date(2026, 11, 30), date(2026, 12, 2))])}

    assignment = assign([mediator("m1")], diaries=diaries)

    assert assignment.slot == rules.Slot(datetime(2026, 12, 3, 10, tzinfo=LONDON), datetime(2026, 12, 3, 12, tzinfo=LONDON))
    assert assignment.late is False


def test_a_bank_holiday_is_skipped_even_when_the_rrule_names_it():
    diaries = {"m1": Diary(windows=[window("FREQ=DAILY")])}

    assignment = assign([mediator("m1")], earliest=date(2026, 8, 31), latest=date(2026, 9, 30), diaries=diaries)

    assert assignment.slot is not None and assignment.slot.starts_at.date() == date(2026, 9, 1)  # 31 Aug: bank holiday


def test_the_fairest_mediator_free_by_the_statutory_date_is_chosen_over_an_earlier_less_fair_one():
    thursdays = mediator("a-thursdays")
    every_day = mediator("b-every-day", last_booked_at=datetime(2026, 11, 1, tzinfo=UTC))
    diaries = {"a-thursdays": Diary(windows=[window("FREQ=WEEKLY;BYDAY=TH")]), "b-every-day": weekdays()}

    assignment = assign([every_day, thursdays], diaries=diaries)

    assert assignment.mediator.id == "a-thursdays"
    assert assignment.slot.starts_at.date() == date(2026, 12, 3)


# Late: nobody free by `latest`.


def test_when_nobody_is_free_by_latest_the_first_slot_after_it_is_booked_late():
    diaries = {"m1": Diary(windows=[window()], absences=[away(date(2026, 11, 30), date(2026, 12, 18))])}

    assignment = assign([mediator("m1")], latest=date(2026, 12, 11), diaries=diaries)

    assert assignment.late is True
    assert assignment.slot.starts_at == datetime(2026, 12, 21, 10, tzinfo=LONDON)
    assert assignment.explanation["late"] is True
    assert "no free slot from 2026-11-30 to 2026-12-11" in considered(assignment, "m1")["reasons"]


def test_no_slot_within_the_horizon_gives_no_mediator():
    diaries = {"m1": Diary(windows=[window()], absences=[away(date(2026, 11, 1), date(2027, 6, 1))])}

    assignment = assign([mediator("m1")], diaries=diaries, horizon_days=30)

    assert assignment.mediator is None and assignment.slot is None
    assert assignment.explanation["chosen"] is None


def test_an_empty_pool_gives_no_mediator_and_says_so():
    assignment = assign([])

    assert assignment.mediator is None
    assert assignment.explanation == {"chosen": None, "slot": None, "late": False, "earliest": "2026-11-30",
                                      "latest": "2026-12-18", "considered": []}
    assert assignment.reason == "no eligible mediator with a free slot"


# The explanation shown to ops.


def test_the_explanation_is_json_with_ids_and_reasons_never_names_or_emails():
    candidates = [mediator("med-1", name="Jordan Avery", email="jordan@kids.example"),
                  mediator("med-2", name="Sam Okafor", email="sam@nhs.example", employer_kind=EmployerKind.icb,
                           employer_name="NHS Mid and South Essex ICB")]

    assignment = assign(candidates)
    text = json.dumps(assignment.explanation)

    assert assignment.explanation["chosen"] == "med-1"
    assert assignment.explanation["slot"] == "2026-11-30T10:00:00+00:00"
    assert [c["mediator_id"] for c in assignment.explanation["considered"]] == ["med-1", "med-2"]
    for personal in ("Jordan", "Avery", "Sam Okafor", "kids.example", "nhs.example"):
        assert personal not in text and personal not in assignment.reason
    assert repr(candidates[0]).count("Jordan") == 0  # not in logs either


def test_rrules_the_schema_cannot_use_are_explained():
    assert rules.rrule_problem("FREQ=HOURLY") == "FREQ must be one of DAILY, MONTHLY, WEEKLY, YEARLY"
    assert rules.rrule_problem("FREQ=WEEKLY;UNTIL=20271231T000000Z") == "UNTIL is a local date (e.g. 20271231), without Z"
    assert rules.rrule_problem("DTSTART:20260101T000000\nRRULE:FREQ=DAILY") is not None
    assert rules.rrule_problem("FREQ=WEEKLY;BYDAY=XX") is not None
    assert rules.rrule_problem("RRULE:" + WEEKDAYS) is None


def bookable(candidates, *, latest, diaries, earliest=MONDAY):
    return rules.bookable_meetings(candidates, NEEDS, earliest=earliest, latest=latest, diaries=diaries,
                                   calendar=WorkingDayCalendar())


def test_capacity_counts_non_overlapping_free_slots_per_working_day_capped_by_weekly_capacity():
    # 09:30-16:30 holds three 2-hour meetings a day: 15 in a working week, capped at 5 (or 20: all 15).
    diaries = {"a": weekdays(), "b": weekdays()}
    found = bookable([mediator("a"), mediator("b", capacity_per_week=20)], latest=date(2026, 12, 11), diaries=diaries)

    assert found == {"a": 10, "b": 30}


def test_capacity_leaves_out_booked_meetings_full_weeks_and_refused_mediators():
    diaries = {"full": weekdays(datetime(2026, 12, 1, 10, tzinfo=UTC), datetime(2026, 12, 2, 10, tzinfo=UTC)),
               "busy": weekdays(datetime(2026, 12, 1, 10, tzinfo=UTC)), "off": weekdays()}
    found = bookable([mediator("full", capacity_per_week=2), mediator("busy", capacity_per_week=20),
                      mediator("off", active=False)], latest=date(2026, 12, 1), diaries=diaries)

    # full: at capacity that week. busy: Monday's three; on Tuesday the 10:00-12:00 booking leaves 12:00 and
    # 14:00. off: inactive, so refused, and not counted at all.
    assert found == {"full": 0, "busy": 5}
