"""The department's side of 一网统管 and the street's summons (约请), as pages: returning a case lands on a
page the department can see, required fields say their name, a summons names its cases (only cases the
street may view), its letter prints, the department answers it and may not close it, and the assessment
judges an answer only once it is due."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from shequ.cases import selectors, services
from shequ.cases.choices import Stage, SummonsStatus
from shequ.cases.forms import FeedbackForm, ReturnForm, SummonsAnswerForm, SummonsCloseForm, SummonsForm
from shequ.cases.models import Case, Summons

from .conftest import at


@pytest.fixture
def dispatched(world, new_case):
    """A case of 新安 dispatched by 江宁路街道 to 区房管局 (the responsibility list's choice for 群租)."""

    def make(**overrides):
        case = new_case(**overrides)
        street = world.user("jiangning")
        case = services.register_case(actor=street, case=case)
        case = services.dispatch_case(actor=street, case=case, assignee=services.propose_assignee(case))
        assert case.assignee == world.department
        return case

    return make


def png(name="after.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def summon(world, cases=(), *, now=None, days=3):
    return services.summon_department(
        actor=world.user("jiangning"),
        street=world.jn.area.parent,
        department=world.department,
        reason="群租反复",
        request="请房管局牵头联合执法",
        response_days=days,
        cases=cases,
        now=now,
    )


# 退单 and 处置 from the case page ------------------------------------------------------------------------


def test_a_return_without_a_reason_names_the_field_on_the_case_page(client, world, dispatched):
    case = dispatched()
    client.force_login(world.user("fangguan"))
    response = client.post(reverse("case-action", args=[case.pk, "return"]), {"note": " "})
    assert response.status_code == 200
    form = dict((action, form) for action, form, _label in response.context["actions"])["return"]
    assert form.errors["note"] == ["请填写退单原因。"]
    assert "请填写退单原因。" in response.content.decode()
    assert Case.objects.get(pk=case.pk).stage == Stage.DISPATCHED


def test_after_a_return_the_department_lands_on_its_queue_with_the_case_named(client, world, dispatched):
    case = dispatched()
    client.force_login(world.user("fangguan"))
    response = client.post(
        reverse("case-action", args=[case.pk, "return"]), {"note": "不属于本部门职责"}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("case-queue", args=["assigned"])
    text = response.content.decode()
    assert f"案件 {case.code} 已退单" in text and "江宁路街道" in text
    case.refresh_from_db()
    assert case.stage == Stage.REGISTERED and case.return_count == 1
    # The case page itself is now out of the department's reach, as before.
    assert client.get(case.get_absolute_url()).status_code == 404


def test_the_department_handles_with_a_photo_from_the_case_page(client, world, dispatched):
    case = dispatched()
    client.force_login(world.user("fangguan"))
    response = client.post(reverse("case-action", args=[case.pk, "accept"]), {"note": ""})
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'id="feedback-attachments"' in page or "处置后照片" in page
    response = client.post(
        reverse("case-action", args=[case.pk, "feedback"]),
        {"result": "已约谈房东，清退群租人员", "attachments": png()},
        follow=True,
    )
    assert response.status_code == 200
    assert f"案件 {case.code}：已完成" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.HANDLED
    assert case.attachments.get().name == "after.png"


def test_a_feedback_without_a_result_names_the_field(client, world, dispatched):
    case = services.accept_case(actor=world.user("fangguan"), case=dispatched())
    client.force_login(world.user("fangguan"))
    response = client.post(reverse("case-action", args=[case.pk, "feedback"]), {"result": ""})
    assert response.status_code == 200
    assert "请填写处置结果。" in response.content.decode()


@pytest.mark.parametrize(
    "form_class, kwargs, expected",
    [
        (ReturnForm, {}, {"note": "请填写退单原因。"}),
        (FeedbackForm, {}, {"result": "请填写处置结果。"}),
        (SummonsAnswerForm, {}, {"accepted": "请选择答复。", "answer": "请填写答复内容。"}),
        (SummonsCloseForm, {}, {"outcome": "请填写办理结果。", "rating_result": "请选择办理结果满意度。"}),
        (SummonsForm, {"user": None}, {"reason": "请填写约请事由。", "department": "请选择被约请部门。"}),
    ],
)
def test_every_required_message_names_its_field(world, form_class, kwargs, expected):
    if "user" in kwargs:
        kwargs = {"user": world.user("jiangning")}
    form = form_class({}, **kwargs)
    assert not form.is_valid()
    for name, message in expected.items():
        assert form.errors[name] == [message]
    assert not any("该字段是必填项" in error for errors in form.errors.values() for error in errors)


# A summons names its cases ----------------------------------------------------------------------------------


def summons_post(street, department, codes, **extra):
    return {
        "street": street.pk,
        "department": department.pk,
        "reason": "群租反复整治不到位",
        "request": "请房管局牵头联合执法，并书面答复",
        "response_days": 3,
        "cases": codes,
        **extra,
    }


def test_the_street_summons_a_department_about_two_cases(client, world, dispatched):
    first, second = dispatched(), dispatched(description="5楼隔断群租")
    client.force_login(world.user("jiangning"))
    form = client.get(reverse("summons-add"), {"case": first.code, "department": world.department.code})
    assert form.status_code == 200
    initial = form.context["form"].initial
    assert initial["cases"] == first.code and initial["department"] == world.department.pk
    assert initial["street"] == world.jn.area.parent.pk  # the user's only street
    response = client.post(
        reverse("summons-add"),
        summons_post(world.jn.area.parent, world.department, f"{first.code}、{second.code.lower()}"),
    )
    assert response.status_code == 302
    summons = Summons.objects.get()
    assert set(summons.cases.all()) == {first, second}
    page = client.get(response.url).content.decode()
    assert first.get_absolute_url() in page and second.get_absolute_url() in page
    # The case page links back to the summons.
    assert summons.get_absolute_url() in client.get(first.get_absolute_url()).content.decode()


def test_a_case_the_street_may_not_see_is_refused_like_a_missing_one(client, world, dispatched, new_case):
    own = dispatched()
    elsewhere = new_case(
        actor="shimen", unit=world.sm.area, building_group=world.sm.group, category=own.category
    )
    client.force_login(world.user("jiangning"))
    answers = []
    for code in (elsewhere.code, "JA2099-9999999"):
        response = client.post(
            reverse("summons-add"), summons_post(world.jn.area.parent, world.department, f"{own.code} {code}")
        )
        assert response.status_code == 200
        (message,) = response.context["form"].errors["cases"]
        answers.append(message.replace(code, "…"))
        # Nothing about the hidden case beyond what the user typed.
        assert elsewhere.description not in response.content.decode()
    assert answers[0] == answers[1]
    assert not Summons.objects.exists()


def test_the_service_checks_every_case_through_restrict(world, dispatched, new_case):
    elsewhere = new_case(actor="shimen", unit=world.sm.area, building_group=world.sm.group)
    with pytest.raises(ValidationError) as refused:
        summon(world, [dispatched(), elsewhere])
    assert "cases" in refused.value.message_dict
    assert elsewhere.code not in str(refused.value)
    assert not Summons.objects.exists()


def test_the_summoned_department_may_not_close_its_own_summons(world, dispatched):
    summons = summon(world, [dispatched()])
    summons = services.answer_summons(
        actor=world.user("fangguan"), summons=summons, accepted=True, answer="已安排联合执法"
    )
    with pytest.raises(PermissionDenied):
        services.close_summons(
            actor=world.user("fangguan"),
            summons=summons,
            outcome="自评",
            rating_timeliness=5,
            rating_result=5,
        )
    with pytest.raises(PermissionDenied):  # nor another street
        services.close_summons(
            actor=world.user("shimen"), summons=summons, outcome="办结", rating_timeliness=5, rating_result=5
        )
    closed = services.close_summons(
        actor=world.user("jiangning"), summons=summons, outcome="已整改", rating_timeliness=4, rating_result=5
    )
    assert closed.status == SummonsStatus.CLOSED


def test_the_department_answers_from_its_summons_list(client, world, dispatched):
    summons = summon(world, [dispatched()])
    client.force_login(world.user("fangguan"))
    listing = client.get(reverse("summons-list"))
    assert listing.context["to_answer"]["count"] == 1
    waiting = client.get(reverse("summons-list"), {"status": "sent"}).content.decode()
    assert summons.get_absolute_url() in waiting
    page = client.get(summons.get_absolute_url())
    assert page.context["can_answer"] and not page.context["can_close"]
    response = client.post(reverse("summons-answer", args=[summons.pk]), {"accepted": "1", "answer": ""})
    assert response.status_code == 200 and "请填写答复内容。" in response.content.decode()
    response = client.post(
        reverse("summons-answer", args=[summons.pk]), {"accepted": "1", "answer": "已安排联合执法"}
    )
    assert response.status_code == 302
    assert Summons.objects.get().status == SummonsStatus.ACCEPTED
    assert client.get(reverse("summons-list")).context["to_answer"]["count"] == 0


def test_the_summons_letter_prints(client, world, dispatched):
    case = dispatched()
    summons = summon(world, [case])
    for username in ("jiangning", "fangguan"):
        client.force_login(world.user(username))
        assert (
            reverse("summons-print", args=[summons.pk])
            in client.get(summons.get_absolute_url()).content.decode()
        )
        response = client.get(reverse("summons-print", args=[summons.pk]))
        assert response.status_code == 200
        text = response.content.decode()
        assert "约请函" in text and summons.code in text and case.code in text and "区房管局" in text
        assert "cases/letter.css" in text and "cases/print.js" in text
    client.force_login(world.user("shimen"))
    assert client.get(reverse("summons-print", args=[summons.pk])).status_code == 404


def test_the_letter_has_print_rules():
    from django.contrib.staticfiles import finders

    css = open(finders.find("cases/letter.css"), encoding="utf-8").read()
    assert "@media print" in css and "@page" in css


# The assessment judges an answer once it is due ---------------------------------------------------------------


def housing_row(world, now, username="district"):
    period = selectors.parse_period("2025")
    result = selectors.assessment(world.user(username), period, now=now)
    return next(row for row in result.rows if row.name == "区房管局")


def test_an_open_summons_before_its_deadline_is_neither_on_time_nor_late(world):
    summons = summon(world, now=at(2025, 3, 3, 10), days=3)  # due 2025-03-06 17:30
    before = housing_row(world, at(2025, 3, 4, 10))
    assert before.summonses == 1
    assert before.summons_on_time == selectors.Rate(0, 0)
    after = housing_row(world, at(2025, 3, 7, 10))
    assert after.summons_on_time == selectors.Rate(0, 1)  # open past its deadline: late
    services.answer_summons(
        actor=world.user("fangguan"), summons=summons, accepted=True, answer="已处理", now=at(2025, 3, 5, 9)
    )
    assert housing_row(world, at(2025, 3, 5, 10)).summons_on_time == selectors.Rate(1, 1)


def test_a_summons_closed_before_its_deadline_without_an_answer_is_not_judged(world):
    summons = summon(world, now=at(2025, 3, 3, 10), days=3)
    closed = services.close_summons(
        actor=world.user("jiangning"),
        summons=summons,
        outcome="街道自行协调解决",
        rating_timeliness=3,
        rating_result=3,
        now=at(2025, 3, 4, 10),
    )
    assert closed.answered_on_time is None
    assert housing_row(world, at(2025, 6, 1, 10)).summons_on_time == selectors.Rate(0, 0)


def test_the_assessment_page_counts_only_due_summonses(client, world):
    summon(world, now=datetime.datetime.now(tz=datetime.UTC), days=5)
    client.force_login(world.user("fangguan"))
    response = client.get(reverse("case-assessment"))
    assert response.status_code == 200
    (row,) = response.context["result"].rows
    assert row.summonses == 1 and row.summons_on_time.denominator == 0


def test_a_case_the_department_returned_is_counted_not_shown_on_its_summons(client, world, dispatched):
    kept, returned = dispatched(), dispatched(description="5楼隔断群租")
    summons = summon(world, [kept, returned])
    services.return_case(actor=world.user("fangguan"), case=returned, reason="不属于本部门职责")
    client.force_login(world.user("fangguan"))
    page = client.get(summons.get_absolute_url())
    assert list(page.context["cases"]) == [kept] and page.context["unseen_cases"] == 1
    text = page.content.decode()
    assert "另有 1 件涉及案件不在您的查看范围内" in text
    assert returned.code not in text and returned.description not in text
    client.force_login(world.user("jiangning"))
    assert client.get(summons.get_absolute_url()).context["unseen_cases"] == 0


# Notifications are read ------------------------------------------------------------------------------


def test_marking_notifications_read_empties_the_menu_count_of_ones_own_units_only(client, world):
    from shequ.cases.models import Notification
    from shequ.core.models import AuditEntry

    own = Notification.objects.create(unit=world.jn.area, message="新派遣案件 JA2026-0000001")
    other = Notification.objects.create(unit=world.sm.area, message="新派遣案件 JA2026-0000002")
    client.force_login(world.user("xinan"))
    page = client.get(reverse("notification-list")).content.decode()
    assert "全部标为已读" in page
    response = client.post(reverse("notifications-read"), follow=True)
    assert "已将 1 条通知标为已读。" in response.content.decode()
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.read_at is not None and other.read_at is None
    trail = AuditEntry.objects.filter(content_type__model="notification", object_id=str(own.pk))
    assert trail.filter(action="update").count() == 1
    assert "全部标为已读" not in client.get(reverse("notification-list")).content.decode()
    # A second press marks nothing and writes nothing.
    client.post(reverse("notifications-read"))
    assert trail.count() == 1
