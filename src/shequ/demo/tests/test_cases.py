"""The demo cases: a year of synthetic cases played through the stages the services would take, ending\non the day they are loaded (or the day a test fixes)."""

import datetime
import re
from collections import defaultdict

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from shequ.cases import selectors, services
from shequ.cases.choices import FINAL_STAGES, OPEN_STAGES, Action, Stage
from shequ.cases.models import Case, CaseEvent, CaseSequence, Notification, Summons, Supervision
from shequ.cases.queues import QUEUES, queue_cases
from shequ.cases.seed import load_categories, load_rules
from shequ.core.models import AuditAction, AuditEntry
from shequ.demo.cases import JIANGNING, load_demo_cases

TODAY = datetime.date(2025, 6, 30)


@pytest.fixture
def loaded(world):
    load_rules(load_categories())
    return load_demo_cases(400, today=TODAY)


def test_it_loads_the_cases_asked_for_once(loaded):
    assert loaded.cases == 400 == Case.objects.count()
    again = load_demo_cases(400, today=TODAY)
    assert again.cases == 0 and Case.objects.count() == 400


def test_it_is_the_same_every_time(world):
    load_rules(load_categories())
    load_demo_cases(50, today=TODAY, seed=7)
    first = list(
        Case.objects.order_by("code").values_list("code", "category_id", "unit_id", "stage", "reported_at")
    )
    Case.objects.all().delete()
    CaseSequence.objects.all().delete()
    Summons.objects.all().delete()
    load_demo_cases(50, today=TODAY, seed=7)
    second = list(
        Case.objects.order_by("code").values_list("code", "category_id", "unit_id", "stage", "reported_at")
    )
    assert first == second


def test_codes_are_unique_and_follow_the_sequence(loaded):
    codes = list(Case.objects.values_list("code", flat=True))
    assert len(set(codes)) == len(codes)
    highest = defaultdict(int)
    for code in codes:
        found = re.fullmatch(r"(JA\d{4}-)(\d{7})", code)
        assert found, code
        highest[found[1]] = max(highest[found[1]], int(found[2]))
    assert dict(CaseSequence.objects.filter(prefix__startswith="JA").values_list("prefix", "last")) == highest
    # The next case reported through the service continues the sequence without a clash.
    assert services.next_code("JA2025-") == f"JA2025-{highest['JA2025-'] + 1:07d}"


def test_hotline_cases_carry_unique_work_order_numbers(loaded):
    numbers = list(Case.objects.filter(source="hotline").values_list("external_code", flat=True))
    assert numbers and all(numbers) and len(set(numbers)) == len(numbers)
    assert not Case.objects.exclude(source="hotline").exclude(external_code="").exists()


def test_cases_span_the_year_before_the_fixed_day(loaded):
    first = Case.objects.order_by("reported_at").first().reported_at.date()
    last = Case.objects.order_by("-reported_at").first().reported_at.date()
    assert TODAY - datetime.timedelta(days=365) <= first and last <= TODAY
    assert (last - first).days > 300


def test_every_stage_follows_from_the_timeline(loaded):
    """Each event starts from the stage the previous transition left, and the last one leaves the case at
    its stage; closing, rejection and the rating agree with it."""
    events = defaultdict(list)
    for event in CaseEvent.objects.order_by("created_at", "id"):
        events[event.case_id].append(event)
    for case in Case.objects.all():
        timeline = events[case.pk]
        assert timeline[0].action == Action.REPORT and timeline[0].created_at == case.reported_at
        stage = ""
        for event in timeline:
            assert event.stage_from == stage, (case.code, event.action, event.stage_from, stage)
            stage = event.stage_to
        assert stage == case.stage, case.code
        if case.stage in FINAL_STAGES:
            assert case.closed_at is not None and case.stage_deadline is None
            assert not case.overdue
        else:
            assert case.stage in OPEN_STAGES and case.closed_at is None and case.stage_deadline is not None
        if case.rating:
            assert case.stage == Stage.CLOSED and timeline[-1].action in (Action.RATE, Action.SUMMON)
        returns = sum(1 for event in timeline if event.action == Action.RETURN)
        assert returns == case.return_count
        assert case.reopen_count == sum(1 for event in timeline if event.action == Action.REOPEN)
        if case.stage in (Stage.DISPATCHED, Stage.HANDLING):
            last_dispatch = [e for e in timeline if e.action in (Action.DISPATCH, Action.REDISPATCH)][-1]
            assert last_dispatch.unit_id == case.assignee_id


def test_cases_go_where_the_responsibility_list_says(loaded):
    first_dispatch = {}
    for event in CaseEvent.objects.filter(action=Action.DISPATCH).order_by("created_at"):
        first_dispatch.setdefault(event.case_id, event.unit_id)
    cases = Case.objects.select_related("category", "unit__parent", "estate")
    for case in cases.filter(pk__in=first_dispatch):
        rule = services.matching_rule(
            case.category, case.unit, case.estate.housing_type if case.estate else ""
        )
        expected = services.responsible_unit(rule, case.unit) or services._street_of(case.unit)
        assert first_dispatch[case.pk] == expected.pk, case.code


def test_the_mix_looks_like_a_real_year(loaded):
    cases = Case.objects.all()
    total = cases.count()
    hotline = cases.filter(source="hotline").count() / total
    assert 0.35 < hotline < 0.55
    assert cases.filter(return_count__gt=0).exists()
    assert cases.filter(handled_late=True).exists()
    assert cases.filter(stage__in=OPEN_STAGES).exists()
    rated = cases.exclude(rating="")
    satisfied = rated.filter(rating__in=("satisfied", "basically")).count() / rated.count()
    assert 0.85 < satisfied < 0.99
    # The last weeks have open cases, and overdue ones are under supervision.
    recent = cases.filter(reported_at__date__gte=TODAY - datetime.timedelta(days=21))
    assert recent.filter(stage__in=OPEN_STAGES).exists()
    for supervision in Supervision.objects.select_related("case"):
        assert supervision.case.overdue or supervision.case.handled_late or supervision.status == "done"


def test_summonses_are_about_cases_of_the_summoning_street(loaded):
    assert Summons.objects.exists()
    for summons in Summons.objects.prefetch_related("cases__unit"):
        assert summons.department.kind == "department"
        for case in summons.cases.all():
            assert case.unit.path.startswith(summons.street.path)
            assert CaseEvent.objects.filter(case=case, action=Action.SUMMON, unit=summons.department).exists()
        if summons.status == "closed":
            assert summons.rating_timeliness and summons.rating_result and summons.answered_at


def test_one_audit_entry_per_bulk_load(loaded):
    entries = AuditEntry.objects.filter(
        action=AuditAction.LOAD, content_type=ContentType.objects.get_for_model(Case)
    )
    assert entries.count() == 1
    assert entries.get().after["count"] == 400


# The demo's year ends on the day it is loaded -------------------------------------------------------


@pytest.fixture
def loaded_now(world):
    load_rules(load_categories())
    return load_demo_cases(400)


def test_the_year_ends_on_the_day_it_is_loaded_and_fills_the_default_period(loaded_now):
    now = timezone.now()
    first = Case.objects.order_by("reported_at").first().reported_at
    last = Case.objects.order_by("-reported_at").first().reported_at
    assert now - datetime.timedelta(days=366) <= first and last <= now
    assert now - last < datetime.timedelta(days=2)
    # The Open311 feed's default window (the last 90 days) and the queues have recent cases.
    recent = Case.objects.filter(reported_at__gte=now - datetime.timedelta(days=90))
    assert recent.count() > 400 * 0.15
    assert recent.filter(stage__in=OPEN_STAGES).exists()
    assert not CaseEvent.objects.filter(created_at__gt=now).exists()
    # The dashboard's default period (the 12 calendar months to the last report) counts most of them.
    span = selectors.reported_span(Case.objects.all())
    period = selectors.rolling_year(span.last)
    counted = Case.objects.filter(reported_at__gte=period.start, reported_at__lt=period.end).count()
    assert counted >= 0.85 * Case.objects.count()


def test_the_same_seed_and_day_give_the_same_cases_and_another_day_shifts_them(world):
    load_rules(load_categories())
    now = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)

    def load(at):
        for model in (Notification, Summons, Case, CaseSequence):
            model.objects.all().delete()
        load_demo_cases(60, seed=7, now=at)
        return list(Case.objects.order_by("reported_at").values_list("stage", "reported_at"))

    first = load(now)
    assert load(now) == first
    later = load(now + datetime.timedelta(days=40))
    assert max(at for _stage, at in later) > max(at for _stage, at in first) + datetime.timedelta(days=35)


def test_each_demo_role_finds_work_in_its_queues_and_notifications(world, loaded_now):
    def queue(username, name):
        return queue_cases(world.user(username), QUEUES[name])

    jiangning = world.units[JIANGNING]
    assert queue("jiangning", "to-register").filter(unit__path__startswith=jiangning.path).count() >= 3
    assert queue("jiangning", "to-dispatch").filter(unit__path__startswith=jiangning.path).count() >= 3
    assert queue("wangge", "to-verify").filter(unit__path__startswith=jiangning.path).count() >= 3
    assigned = queue("fangguan", "assigned")
    assert assigned.filter(assignee=world.department).count() >= 4
    awaiting = Summons.objects.get(street=jiangning, department=world.department, status="sent")
    assert awaiting.response_deadline > timezone.now() and awaiting.cases.count() >= 1
    assert set(awaiting.cases.values_list("pk", flat=True)) <= set(assigned.values_list("pk", flat=True))
    xinan = world.user("xinan")
    assert queue("xinan", "assigned").count() >= 3
    assert queue("xinan", "overdue").exists() and queue("xinan", "supervised").exists()
    unread = Notification.objects.restrict(xinan, "view").filter(read_at__isnull=True)
    assert unread.filter(message__startswith="新派遣案件").exists()
    # A summons awaiting an answer is on the department's notifications.
    assert Notification.objects.filter(unit=world.department, summons=awaiting).exists()

    # The notifications are those the services would have sent, over the last weeks.
    since = timezone.now() - datetime.timedelta(days=31)
    notes = Notification.objects.select_related("case")
    assert notes.exists() and not notes.filter(created_at__lt=since).exists()
    for note in notes.filter(message__startswith="新派遣案件"):
        assert CaseEvent.objects.filter(
            case=note.case,
            action__in=(Action.DISPATCH, Action.REDISPATCH),
            unit=note.unit,
            created_at=note.created_at,
        ).exists()
    assert not notes.filter(read_at__gt=timezone.now()).exists()
