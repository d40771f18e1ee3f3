"""The case's life (GB/T 30428 stages), who may take each step, the time limits, the sweep, summons."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from shequ.cases import services
from shequ.cases.choices import Stage
from shequ.cases.models import Case, CaseEvent, Notification, Summons, Supervision
from shequ.core.models import AuditEntry
from shequ.org.models import Unit

from .conftest import at


def dispatched(world, new_case, now=None, **kwargs):
    case = new_case(now=now, **kwargs)
    case = services.register_case(actor=world.user("jiangning"), case=case, now=now)
    return services.dispatch_case(
        actor=world.user("jiangning"), case=case, assignee=services.propose_assignee(case), now=now
    )


def test_a_report_gets_a_code_a_rule_and_a_registration_limit(world, new_case):
    case = new_case(now=at(2025, 3, 3, 10, 0))
    assert case.code.startswith("JA2025-") and len(case.code) == len("JA2025-0000001")
    assert case.stage == Stage.REPORTED and case.dispatcher.code == "310106006"
    assert case.rule.category.code == "S0301"
    assert case.stage_deadline == at(2025, 3, 3, 12, 0)  # two working hours
    assert case.reporter_phone_masked == "138****8000" and "13800138000" not in case.reporter_phone_cipher
    assert AuditEntry.objects.filter(object_id=str(case.pk), content_type__model="case").count() == 1
    assert list(case.events.values_list("action", flat=True)) == ["report"]


def test_codes_count_up_within_a_year(world, new_case):
    first, second = new_case(now=at(2025, 3, 3, 10)), new_case(now=at(2025, 3, 3, 11))
    assert int(second.code[-7:]) == int(first.code[-7:]) + 1


def test_the_responsibility_list_proposes_the_department(world, new_case):
    case = services.register_case(actor=world.user("jiangning"), case=new_case())
    assert services.propose_assignee(case).name == "区房管局"
    neighbours = services.register_case(actor=world.user("jiangning"), case=new_case(code="S0201"))
    assert services.propose_assignee(neighbours) == world.jn.area  # 邻里纠纷: the committee first


def test_dispatching_elsewhere_needs_a_reason(world, new_case):
    case = services.register_case(actor=world.user("jiangning"), case=new_case())
    other = Unit.objects.get(name="区城管执法局")
    with pytest.raises(ValidationError) as error:
        services.dispatch_case(actor=world.user("jiangning"), case=case, assignee=other)
    assert "区房管局" in str(error.value)
    case = services.dispatch_case(
        actor=world.user("jiangning"), case=case, assignee=other, reason="涉及违法搭建"
    )
    assert case.assignee == other and "涉及违法搭建" in case.events.last().note


def test_the_full_life_of_a_case(world, new_case):
    monday = at(2025, 3, 3, 9, 30)
    case = dispatched(world, new_case, now=monday)
    assert case.stage == Stage.DISPATCHED and case.assignee.name == "区房管局"
    assert case.handle_deadline == at(2025, 3, 10, 17, 30)  # 5 working days from Monday
    assert Notification.objects.filter(unit=case.assignee, case=case).exists()
    fangguan = world.user("fangguan")
    case = services.accept_case(actor=fangguan, case=case, now=at(2025, 3, 4, 9))
    case = services.feedback_case(
        actor=fangguan, case=case, result="已上门核查，责令整改", now=at(2025, 3, 6, 15)
    )
    assert case.stage == Stage.HANDLED and not case.handled_late
    case = services.verify_case(actor=world.user("jiangning"), case=case, passed=True, now=at(2025, 3, 7, 10))
    assert case.stage == Stage.CLOSED and case.closed_at == at(2025, 3, 7, 10)
    case = services.rate_case(
        actor=None, case=case, rating="satisfied", comment="处理及时", channel="platform"
    )
    assert case.rating == "satisfied"
    actions = list(case.events.values_list("action", flat=True))
    assert actions == ["report", "register", "dispatch", "accept", "feedback", "verify_pass", "rate"]
    assert AuditEntry.objects.filter(object_id=str(case.pk), content_type__model="case").count() == len(
        actions
    )


def audit_count(case) -> int:
    return AuditEntry.objects.filter(object_id=str(case.pk), content_type__model="case").count()


def test_register_and_dispatch_takes_both_steps_in_one_call(world, new_case):
    monday = at(2025, 3, 3, 9, 30)
    case = new_case(now=monday)
    case = services.register_and_dispatch_case(
        actor=world.user("jiangning"), case=case, assignee=world.department, note="热线来电", now=monday
    )
    assert case.stage == Stage.DISPATCHED and case.assignee == world.department
    assert case.handle_deadline == at(2025, 3, 10, 17, 30)  # the dispatch's limit, as when taken apart
    events = list(case.events.values_list("action", "note", "unit__name"))
    assert events == [
        ("report", "网格巡查", None),
        ("register", "热线来电", None),
        ("dispatch", "", "区房管局"),
    ]
    assert audit_count(case) == 3  # 受理, 立案, 派遣: one entry each
    assert Notification.objects.filter(unit=world.department, case=case).exists()


def test_register_and_dispatch_elsewhere_needs_a_reason_and_then_writes_nothing(world, new_case):
    case = new_case()
    other = Unit.objects.get(name="区城管执法局")
    with pytest.raises(ValidationError) as error:
        services.register_and_dispatch_case(actor=world.user("jiangning"), case=case, assignee=other)
    assert "reason" in error.value.message_dict and "区房管局" in str(error.value)
    case.refresh_from_db()
    assert case.stage == Stage.REPORTED and case.assignee is None  # the 立案 was rolled back too
    assert list(case.events.values_list("action", flat=True)) == ["report"] and audit_count(case) == 1
    case = services.register_and_dispatch_case(
        actor=world.user("jiangning"), case=case, assignee=other, reason="涉及违法搭建"
    )
    assert case.stage == Stage.DISPATCHED and case.assignee == other


@pytest.mark.parametrize("username", ["xinan", "shimen", "fangguan", "wangge"])
def test_only_the_dispatching_street_may_register_and_dispatch(world, new_case, username):
    case = new_case()
    with pytest.raises(PermissionDenied):
        services.register_and_dispatch_case(actor=world.user(username), case=case, assignee=world.department)
    case.refresh_from_db()
    assert case.stage == Stage.REPORTED and audit_count(case) == 1


def test_register_and_dispatch_after_someone_registered_is_a_conflict(world, new_case):
    case = new_case()
    services.register_case(actor=world.user("jiangning_admin"), case=case)
    with pytest.raises(services.CaseConflict):
        services.register_and_dispatch_case(
            actor=world.user("jiangning"), case=case, assignee=world.department
        )


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("jiangning", True),
        ("jiangning_admin", True),
        ("district", True),
        ("shimen", False),
        ("xinan", False),
        ("fangguan", False),
        ("auditor", False),
        ("admin", False),
    ],
)
def test_who_may_register(world, new_case, username, allowed):
    case = new_case()
    if allowed:
        assert services.register_case(actor=world.user(username), case=case).stage == Stage.REGISTERED
    else:
        with pytest.raises(PermissionDenied):
            services.register_case(actor=world.user(username), case=case)
        assert Case.objects.get(pk=case.pk).stage == Stage.REPORTED


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("fangguan", True),
        ("jiangning", False),
        ("xinan", False),
        ("district", False),
        ("shimen", False),
    ],
)
def test_only_the_assigned_unit_handles(world, new_case, username, allowed):
    case = dispatched(world, new_case)
    if allowed:
        assert services.accept_case(actor=world.user(username), case=case).stage == Stage.HANDLING
    else:
        with pytest.raises(PermissionDenied):
            services.accept_case(actor=world.user(username), case=case)


def test_a_step_from_the_wrong_stage_is_refused(world, new_case):
    case = new_case()
    with pytest.raises(ValidationError, match="当前环节为“受理”"):
        services.accept_case(actor=world.user("fangguan"), case=case)


def test_a_return_goes_back_to_the_dispatcher_and_is_counted(world, new_case):
    case = dispatched(world, new_case)
    case = services.return_case(actor=world.user("fangguan"), case=case, reason="不属于本部门职责")
    assert case.stage == Stage.REGISTERED and case.assignee is None and case.return_count == 1
    returned = case.events.get(action="return")
    assert returned.unit.name == "区房管局"
    other = Unit.objects.get(name="区城管执法局")
    case = services.dispatch_case(actor=world.user("jiangning"), case=case, assignee=other, reason="改派城管")
    assert case.events.last().action == "redispatch"
    assert Notification.objects.filter(unit=case.dispatcher, message__contains="退单").exists()


def test_verification_failure_sends_it_back_with_a_new_limit(world, new_case):
    case = dispatched(world, new_case, now=at(2025, 3, 3, 9, 30))
    fangguan = world.user("fangguan")
    case = services.accept_case(actor=fangguan, case=case, now=at(2025, 3, 3, 10))
    case = services.feedback_case(actor=fangguan, case=case, result="已处理", now=at(2025, 3, 4, 10))
    with pytest.raises(ValidationError):
        services.verify_case(actor=world.user("jiangning"), case=case, passed=False, note="")
    case = services.verify_case(
        actor=world.user("jiangning"), case=case, passed=False, note="现场仍有群租", now=at(2025, 3, 5, 10)
    )
    assert case.stage == Stage.HANDLING and case.handle_deadline == at(2025, 3, 12, 17, 30)


def test_an_unsatisfied_rating_reopens_the_case_once(world, new_case, settings):
    settings.SHEQU_CASE_REOPEN_LIMIT = 1
    case = dispatched(world, new_case)
    fangguan = world.user("fangguan")

    def close(case):
        if case.stage == Stage.DISPATCHED:
            case = services.accept_case(actor=fangguan, case=case)
        case = services.feedback_case(actor=fangguan, case=case, result="已处理")
        return services.verify_case(actor=world.user("jiangning"), case=case, passed=True)

    case = close(case)
    case = services.rate_case(actor=None, case=case, rating="unsatisfied", comment="仍有群租")
    assert case.stage == Stage.HANDLING and case.reopen_count == 1 and case.rating == ""
    assert case.events.filter(action="reopen").count() == 1
    case = close(Case.objects.get(pk=case.pk))
    case = services.rate_case(actor=None, case=case, rating="unsatisfied", comment="还是不满意")
    assert case.stage == Stage.CLOSED and case.rating == "unsatisfied"  # only once


def test_rejection_needs_a_reason(world, new_case):
    case = new_case()
    with pytest.raises(ValidationError):
        services.reject_case(actor=world.user("jiangning"), case=case, reason=" ")
    case = services.reject_case(actor=world.user("jiangning"), case=case, reason="非本区管辖")
    assert case.stage == Stage.REJECTED


# Time limits across the calendar ------------------------------------------------------------------


def test_a_deadline_across_national_day_2025(world, new_case):
    """国办发明电〔2024〕12号: 10月1日至8日放假，9月28日（周日）、10月11日（周六）上班."""
    case = dispatched(world, new_case, now=at(2025, 9, 30, 10, 0))  # 群租: 5 working days
    # 9/30 is day 0; the working days after it are 10/9, 10/10, 10/11 (make-up Saturday), 10/13, 10/14.
    assert case.handle_deadline == at(2025, 10, 14, 17, 30)


def test_a_make_up_saturday_counts(world, new_case):
    case = dispatched(world, new_case, code="E0101", now=at(2025, 10, 10, 10, 0))  # 暴露垃圾: 1 working day
    assert case.handle_deadline == at(2025, 10, 11, 17, 30)


def test_working_hour_limits_skip_lunch_and_nights(world, new_case):
    case = dispatched(world, new_case, code="E0402", now=at(2025, 3, 3, 16, 30))  # 管道破裂: 4 working hours
    # 16:30–17:30 is one hour; the next morning 09:00–12:00 gives the other three.
    assert case.handle_deadline == at(2025, 3, 4, 12, 0)


# The sweep ----------------------------------------------------------------------------------------


def test_the_sweep_warns_marks_overdue_and_opens_supervision(world, new_case, settings):
    settings.SHEQU_SUPERVISION_GRACE_HOURS = 24
    monday = at(2025, 3, 3, 9, 0)
    case = dispatched(world, new_case, code="E0101", now=monday)  # deadline Tuesday 17:30
    report = services.sweep_deadlines(now=at(2025, 3, 3, 10, 0))
    assert (report.warned, report.overdue, report.supervised) == (0, 0, 0)
    report = services.sweep_deadlines(now=at(2025, 3, 4, 13, 0))  # past 80% of the limit
    assert report.warned == 1 and Case.objects.get(pk=case.pk).warned
    assert Notification.objects.filter(case=case, message__contains="即将超时").count() == 1
    report = services.sweep_deadlines(now=at(2025, 3, 4, 18, 0))
    assert report.overdue == 1 and Case.objects.get(pk=case.pk).overdue
    assert CaseEvent.objects.filter(case=case, action="overdue").count() == 1
    assert services.sweep_deadlines(now=at(2025, 3, 4, 19, 0)).overdue == 0  # not twice
    report = services.sweep_deadlines(now=at(2025, 3, 6, 9, 0))  # overdue for more than the grace
    assert report.supervised == 1
    supervision = Supervision.objects.get(case=case)
    assert supervision.status == "open" and supervision.deadline > at(2025, 3, 6, 9, 0)
    assert services.sweep_deadlines(now=at(2025, 3, 7, 9, 0)).supervised == 0


def test_closing_a_supervised_case_ends_the_supervision(world, new_case):
    case = dispatched(world, new_case, code="E0101", now=at(2025, 3, 3, 9, 0))
    services.sweep_deadlines(now=at(2025, 3, 10, 9, 0))
    fangguan_street = world.user("jiangning")  # 暴露垃圾 goes to the street itself
    case = services.accept_case(actor=fangguan_street, case=Case.objects.get(pk=case.pk))
    case = services.feedback_case(actor=fangguan_street, case=case, result="已清运")
    assert case.handled_late
    services.verify_case(actor=world.user("jiangning"), case=case, passed=True)
    assert Supervision.objects.get(case=case).status == "done"


def test_the_district_office_may_supervise_by_hand(world, new_case):
    case = new_case()
    with pytest.raises(PermissionDenied):
        services.open_supervision(actor=world.user("jiangning"), case=case, reason="群众反映强烈")
    supervision = services.open_supervision(actor=world.user("district"), case=case, reason="群众反映强烈")
    assert supervision.case == case and case.events.filter(action="supervise").exists()


# Duplicates --------------------------------------------------------------------------------------


def test_duplicate_candidates_and_merge(world, new_case):
    first = new_case()
    second = new_case(description="楼里有人群租，每天很多人进出")
    elsewhere = new_case(unit=world.sm.area, building_group=world.sm.group, actor="shimen")
    candidates = services.duplicate_candidates(second)
    assert first in candidates and elsewhere not in candidates
    merged = services.merge_case(actor=world.user("jiangning"), case=second, parent=first)
    assert merged.stage == Stage.MERGED and merged.parent == first
    assert services.followed_case(merged) == first
    with pytest.raises(ValidationError):
        services.merge_case(actor=world.user("jiangning"), case=first, parent=first)


# Summons ------------------------------------------------------------------------------------------


def test_a_summons_has_a_working_day_deadline_and_is_answered_and_rated(world, new_case):
    case = dispatched(world, new_case)
    street = world.units["310106006"]
    summons = services.summon_department(
        actor=world.user("jiangning"),
        street=street,
        department=case.assignee,
        reason="群租反复",
        request="请房管局牵头联合执法",
        response_days=3,
        cases=[case],
        now=at(2025, 9, 29, 10, 0),
    )
    assert summons.response_deadline == at(2025, 10, 10, 17, 30)  # 9/30, 10/9, 10/10
    assert Notification.objects.filter(unit=case.assignee, summons=summons).exists()
    with pytest.raises(PermissionDenied):
        services.answer_summons(
            actor=world.user("jiangning"), summons=summons, accepted=True, answer="我来答"
        )
    summons = services.answer_summons(
        actor=world.user("fangguan"),
        summons=summons,
        accepted=True,
        answer="已安排联合执法",
        now=at(2025, 10, 9, 10, 0),
    )
    assert summons.status == "accepted" and summons.answered_on_time
    summons = services.close_summons(
        actor=world.user("jiangning"), summons=summons, outcome="已整改", rating_timeliness=5, rating_result=4
    )
    assert summons.status == "closed" and summons.rating_result == 4
    with pytest.raises(ValidationError):
        services.close_summons(
            actor=world.user("jiangning"), summons=summons, outcome="", rating_timeliness=9, rating_result=4
        )


def test_a_late_answer_is_marked_late(world, new_case):
    summons = services.summon_department(
        actor=world.user("jiangning"),
        street=world.units["310106006"],
        department=world.department,
        reason="占道经营",
        request="请派员",
        response_days=1,
        now=at(2025, 3, 3, 10),
    )
    summons = services.answer_summons(
        actor=world.user("fangguan"),
        summons=summons,
        accepted=False,
        answer="不属于本部门",
        now=at(2025, 3, 6, 10),
    )
    assert summons.answered_on_time is False
    assert Summons.objects.restrict(world.user("shimen"), "view").count() == 0


def test_bad_uploads_are_refused(world, new_case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("x.jpg", b"not really a jpeg", content_type="image/jpeg")
    with pytest.raises(ValidationError, match="文件内容与类型不符"):
        new_case(attachments=[fake])
    script = SimpleUploadedFile("x.html", b"<script>", content_type="text/html")
    with pytest.raises(ValidationError, match="只能上传"):
        new_case(attachments=[script])
    assert not Case.objects.exists()
