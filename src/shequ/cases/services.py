"""Every write to a case: intake, the GB/T 30428 stage transitions, summons, supervision, ratings.

Each transition locks the case row, checks the stage it starts from (so of two people acting at once,
exactly one wins and the other is told what happened), checks the actor's right on this case, moves the
stage, sets the new stage's time limit from the responsibility list with the working-day calendar, and
writes one timeline event and one audit entry in the same transaction."""

from __future__ import annotations

import datetime
import difflib
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.core import crypto, workdays
from shequ.core.audit import AuditAction, audit_entry, create_record, record_audit, snapshot, update_record
from shequ.core.models import AuditEntry
from shequ.core.personal_data import mask_phone, validate_phone
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit

from .choices import OPEN_STAGES, Action, LimitUnit, Rating, RatingChannel, Source, Stage, SummonsStatus
from .models import (
    Attachment,
    Case,
    CaseEvent,
    CaseSequence,
    Category,
    Notification,
    Open311Client,
    ResponsibilityRule,
    Summons,
    Supervision,
)

DEFAULT_REGISTER_HOURS = 2
ALLOWED_UPLOADS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Kept without their metadata (cases.attachments.without_metadata); HEIC is kept as sent (Pillow cannot
# read it without a plug-in).
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}


class CaseConflict(ValidationError):
    """Someone else moved the case first; nothing was written."""


def case_setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# Codes ----------------------------------------------------------------------------------------------


def next_code(prefix: str) -> str:
    """`JA2026-0001234`: the district's initials, the year, a sequence without gaps (locked row)."""
    sequence, _created = CaseSequence.objects.select_for_update().get_or_create(prefix=prefix)
    CaseSequence.objects.filter(pk=sequence.pk).update(last=sequence.last + 1)
    return f"{prefix}{sequence.last + 1:07d}"


def _street_of(unit: Unit) -> Unit:
    if unit.kind in STREET_KINDS:
        return unit
    if unit.kind == UnitKind.NEIGHBORHOOD:
        return unit.parent
    raise ValidationError({"unit": _("案件地点必须是一个居民区或街道。")})


# The responsibility list ------------------------------------------------------------------------


def matching_rule(category: Category, unit: Unit, housing_type: str = "") -> ResponsibilityRule | None:
    """The most specific active rule: a housing type beats none, a deeper scope beats a shallower one."""
    candidates = [
        rule
        for rule in ResponsibilityRule.objects.filter(category=category, is_active=True).select_related(
            "scope", "responsible_unit"
        )
        if unit.path.startswith(rule.scope.path) and rule.housing_type in ("", housing_type)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda rule: (bool(rule.housing_type), len(rule.scope.path)))


def responsible_unit(rule: ResponsibilityRule | None, unit: Unit) -> Unit | None:
    if rule is None:
        return None
    if rule.responsible == ResponsibilityRule.Responsible.FIXED:
        return rule.responsible_unit
    if rule.responsible == ResponsibilityRule.Responsible.PLACE_AREA and unit.kind == UnitKind.NEIGHBORHOOD:
        return unit
    return _street_of(unit)


def propose_assignee(case: Case) -> Unit | None:
    """What the responsibility list says for this case (the dispatcher may override with a reason)."""
    return responsible_unit(case.rule, case.unit)


def _handle_deadline(rule: ResponsibilityRule | None, start: datetime.datetime) -> datetime.datetime:
    if rule is None:
        return workdays.add_working_days(start, 3)
    if rule.handle_unit == LimitUnit.WORKING_HOURS:
        return workdays.add_working_hours(start, rule.handle_limit)
    return workdays.add_working_days(start, rule.handle_limit)


def _set_stage_limit(case: Case, deadline: datetime.datetime | None, now: datetime.datetime) -> None:
    case.stage_started_at = now
    case.stage_deadline = deadline
    case.warned = False
    case.overdue = False


# Intake -----------------------------------------------------------------------------------------


def _check_upload(upload) -> None:
    content_type = getattr(upload, "content_type", "")
    if content_type not in ALLOWED_UPLOADS:
        raise ValidationError({"attachments": _("只能上传照片（JPG、PNG、WebP、HEIC）或 PDF 文件。")})
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"attachments": _("单个文件不能超过 10 MB。")})
    head = upload.read(12)
    upload.seek(0)
    signatures = {
        "image/jpeg": (b"\xff\xd8\xff",),
        "image/png": (b"\x89PNG",),
        "application/pdf": (b"%PDF",),
        "image/webp": (b"RIFF",),
    }
    if content_type in signatures and not head.startswith(signatures[content_type]):
        raise ValidationError({"attachments": _("文件内容与类型不符。")})
    if content_type.startswith("image/") and content_type != "image/heic":
        # A photo must open as a whole image (a truncated or disguised file is refused), the same check
        # the public report page applies (cases.attachments).
        from .attachments import check_photo

        try:
            check_photo(upload)
        except ValidationError as error:
            raise ValidationError({"attachments": error.messages}) from None


def _attach(case: Case, event: CaseEvent | None, uploads) -> None:
    from .attachments import without_metadata

    for upload in uploads or ():
        if upload.content_type in PHOTO_TYPES:  # checked by _check_upload or check_photo before
            upload = without_metadata(upload)
        Attachment.objects.create(
            case=case,
            event=event,
            file=upload,
            name=upload.name[:200],
            content_type=upload.content_type,
            size=upload.size,
        )


def _reporter_fields(name: str, phone: str) -> dict[str, str]:
    fields = {}
    name = (name or "").strip()
    if name:
        fields.update(
            reporter_name_cipher=crypto.encrypt(name), reporter_name_masked=name[0] + "*" * (len(name) - 1)
        )
    if phone:
        try:
            phone = validate_phone(phone)
        except ValidationError as error:
            raise ValidationError({"reporter_phone": error.messages}) from None
        fields.update(
            reporter_phone_cipher=crypto.encrypt(phone),
            reporter_phone_index=crypto.blind_index(phone, "phone"),
            reporter_phone_masked=mask_phone(phone),
        )
    return fields


def new_case(
    *,
    source: str,
    category: Category,
    description: str,
    unit: Unit,
    estate=None,
    building_group=None,
    grid=None,
    address: str = "",
    latitude=None,
    longitude=None,
    reporter_name: str = "",
    reporter_phone: str = "",
    urgency: str = "normal",
    open311_client: Open311Client | None = None,
    attributes: dict | None = None,
    external_code: str = "",
    now: datetime.datetime | None = None,
) -> Case:
    """An unsaved case at 受理 with its place, rule and registration limit; its code is given when it is
    saved (`open_case`). Bad input raises ValidationError with the field named."""
    now = now or timezone.now()
    if not (description or "").strip():
        raise ValidationError({"description": _("请描述问题。")})
    if category.parent_id is None or not category.is_active:
        raise ValidationError({"category": _("请选择一个启用的小类。")})
    if building_group is not None:
        estate = building_group.building.estate
        unit = building_group.unit
    elif estate is not None:
        unit = estate.unit
    rule = matching_rule(category, unit, estate.housing_type if estate else "")
    case = Case(
        source=source,
        category=category,
        description=description.strip(),
        urgency=urgency,
        unit=unit,
        estate=estate,
        building_group=building_group,
        grid=grid,
        address=address,
        latitude=latitude,
        longitude=longitude,
        dispatcher=_street_of(unit),
        rule=rule,
        stage=Stage.REPORTED,
        reported_at=now,
        public_token=secrets.token_urlsafe(24),
        open311_client=open311_client,
        attributes=attributes or {},
        external_code=external_code,
        **_reporter_fields(reporter_name, reporter_phone),
    )
    _set_stage_limit(
        case, workdays.add_working_hours(now, rule.register_hours if rule else DEFAULT_REGISTER_HOURS), now
    )
    return case


def open_case(*, actor, case: Case, attachments=()) -> CaseEvent:
    """Save a new case under its code and start its timeline (the caller audits it)."""
    case.code = next_code(f"JA{case.reported_at.year}-")
    case.save()
    event = CaseEvent.objects.create(
        case=case,
        action=Action.REPORT,
        stage_to=Stage.REPORTED,
        actor=actor,
        actor_name=_actor_name(actor, case),
        note=Source(case.source).label,
        created_at=case.reported_at,
    )
    _attach(case, event, attachments)
    return event


@transaction.atomic
def report_case(*, actor, attachments=(), **fields: Any) -> Case:
    """受理: a report becomes a case at its place, owned for registration by the place's street."""
    for upload in attachments or ():
        _check_upload(upload)
    case = new_case(**fields)
    # The related records were given as objects (found through restricted querysets or lookups) and the
    # code comes from a locked sequence: validating them again would cost a query each.
    case.full_clean(
        exclude=[
            "code",
            "unit",
            "category",
            "estate",
            "building_group",
            "grid",
            "dispatcher",
            "rule",
            "open311_client",
            "public_token",
        ],
        validate_unique=False,
        validate_constraints=False,
    )
    open_case(actor=actor, case=case, attachments=attachments)
    if actor is not None and not Case.objects.restrict(actor, "add").filter(pk=case.pk).exists():
        raise PermissionDenied(_("无权在该地点登记案件。"))
    record_audit(
        actor=actor,
        action=AuditAction.CREATE,
        instance=case,
        before=None,
        after=snapshot(case),
        actor_name=_actor_name(actor, case),
    )
    return case


def _actor_name(actor, case: Case | None = None) -> str:
    if actor is not None:
        return str(actor)
    if case is not None and case.open311_client_id:
        return case.open311_client.name
    if case is not None and case.source == Source.RESIDENT:
        return _("反映人（网上反映）")  # the public report page: a resident without an account
    return _("系统")


# Transitions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    action: str
    from_stages: tuple[str, ...]
    to_stage: str
    permission: str  # the action restrict() must allow on the case


TRANSITIONS = {
    t.action: t
    for t in [
        Transition(Action.REGISTER, (Stage.REPORTED,), Stage.REGISTERED, "dispatch"),
        Transition(Action.REJECT, (Stage.REPORTED,), Stage.REJECTED, "dispatch"),
        Transition(Action.DISPATCH, (Stage.REGISTERED,), Stage.DISPATCHED, "dispatch"),
        Transition(Action.RETURN, (Stage.DISPATCHED,), Stage.REGISTERED, "handle"),
        Transition(Action.ACCEPT, (Stage.DISPATCHED,), Stage.HANDLING, "handle"),
        Transition(Action.FEEDBACK, (Stage.HANDLING,), Stage.HANDLED, "handle"),
        Transition(Action.VERIFY_PASS, (Stage.HANDLED,), Stage.CLOSED, "verify"),
        Transition(Action.VERIFY_FAIL, (Stage.HANDLED,), Stage.HANDLING, "verify"),
        Transition(Action.REOPEN, (Stage.CLOSED,), Stage.HANDLING, "rate"),
        Transition(Action.MERGE, (Stage.REPORTED, Stage.REGISTERED), Stage.MERGED, "dispatch"),
    ]
}


# The right each API action needs (the transitions' own, plus rating and supervision).
TRANSITION_PERMISSIONS = {
    "register": "dispatch",
    "register_and_dispatch": "dispatch",  # 立案并派遣 (the API's action; the page's is below)
    "reject": "dispatch",
    "dispatch_to": "dispatch",
    "merge": "dispatch",
    "return_": "handle",
    "accept": "handle",
    "feedback": "handle",
    "verify": "verify",
    "rate": "rate",
    "supervise": "supervise",
    # the page's action names
    "dispatch": "dispatch",
    "register_dispatch": "dispatch",
    "return": "handle",
    "verify_pass": "verify",
    "verify_fail": "verify",
}


def allowed_actions(user, case: Case) -> list[str]:
    """The transitions this user may take on this case now (the case page shows these buttons)."""
    allowed = []
    for action, transition in TRANSITIONS.items():
        if (
            case.stage in transition.from_stages
            and Case.objects.restrict(user, transition.permission).filter(pk=case.pk).exists()
        ):
            allowed.append(action)
    if (
        case.stage == Stage.CLOSED
        and not case.rating
        and Case.objects.restrict(user, "rate").filter(pk=case.pk).exists()
    ):
        allowed.append(Action.RATE)
    return allowed


def _transition(
    *,
    actor,
    case: Case,
    action: str,
    note: str = "",
    unit: Unit | None = None,
    attachments=(),
    now: datetime.datetime | None = None,
    changes: dict[str, Any] | None = None,
    check_permission: bool = True,
    event_action: str | None = None,
) -> Case:
    """`event_action` names the timeline entry when it differs from the transition (改派 is a 派遣)."""
    transition = TRANSITIONS[action]
    now = now or timezone.now()
    locked = Case.objects.select_for_update(of=("self",)).select_related("rule", "unit").get(pk=case.pk)
    if locked.stage not in transition.from_stages:
        raise CaseConflict(
            _("案件 %(code)s 已被他人处理，当前环节为“%(stage)s”，无法执行“%(action)s”。请刷新后查看。")
            % {"code": locked.code, "stage": locked.get_stage_display(), "action": Action(action).label},
            code="conflict",
        )
    if (
        check_permission
        and actor is not None
        and not Case.objects.restrict(actor, transition.permission).filter(pk=locked.pk).exists()
    ):
        raise PermissionDenied(_("您的岗位不能对此案件执行“%(action)s”。") % {"action": Action(action).label})
    for upload in attachments or ():
        _check_upload(upload)
    before = snapshot(locked)
    stage_from = locked.stage
    for name, value in (changes or {}).items():
        setattr(locked, name, value)
    locked.stage = transition.to_stage
    locked.version += 1
    locked.save()
    event = CaseEvent.objects.create(
        case=locked,
        action=event_action or action,
        stage_from=stage_from,
        stage_to=locked.stage,
        actor=actor,
        actor_name=_actor_name(actor, locked),
        unit=unit,
        note=note,
        created_at=now,
    )
    _attach(locked, event, attachments)
    record_audit(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=locked,
        before=before,
        after=snapshot(locked),
        reason=f"{Action(action).label}：{note}" if note else str(Action(action).label),
    )
    return locked


@transaction.atomic
def register_case(*, actor, case: Case, note: str = "", now=None) -> Case:
    now = now or timezone.now()
    rule = case.rule
    deadline = workdays.add_working_hours(now, rule.dispatch_hours if rule else DEFAULT_REGISTER_HOURS)
    changes = {"stage_started_at": now, "stage_deadline": deadline, "warned": False, "overdue": False}
    return _transition(actor=actor, case=case, action=Action.REGISTER, note=note, now=now, changes=changes)


@transaction.atomic
def reject_case(*, actor, case: Case, reason: str, now=None) -> Case:
    if not (reason or "").strip():
        raise ValidationError({"note": _("不予立案须说明理由。")})
    now = now or timezone.now()
    changes = {"stage_deadline": None, "closed_at": now, "overdue": False}
    return _transition(actor=actor, case=case, action=Action.REJECT, note=reason, now=now, changes=changes)


@transaction.atomic
def dispatch_case(*, actor, case: Case, assignee: Unit, reason: str = "", note: str = "", now=None) -> Case:
    """派遣 (or 改派 after a return). Sending it elsewhere than the responsibility list says needs a reason."""
    now = now or timezone.now()
    if (
        assignee.kind not in (*STREET_KINDS, UnitKind.NEIGHBORHOOD, UnitKind.DEPARTMENT)
        or not assignee.is_active
    ):
        raise ValidationError({"assignee": _("只能派给街道、居委会或区职能部门。")})
    proposed = propose_assignee(case)
    if proposed is not None and assignee.pk != proposed.pk and not (reason or "").strip():
        raise ValidationError(
            {"reason": _("派给职责清单以外的单位（清单为：%(unit)s）须说明理由。") % {"unit": proposed.name}}
        )
    deadline = _handle_deadline(case.rule, now)
    changes = {
        "assignee": assignee,
        "handle_deadline": deadline,
        "stage_started_at": now,
        "stage_deadline": deadline,
        "warned": False,
        "overdue": False,
    }
    text = "；".join(part for part in (note, _("改派理由：%(r)s") % {"r": reason} if reason else "") if part)
    case = _transition(
        actor=actor,
        case=case,
        action=Action.DISPATCH,
        note=text,
        unit=assignee,
        now=now,
        changes=changes,
        event_action=Action.REDISPATCH if case.return_count else None,
    )
    _notify(
        assignee,
        case,
        _("新派遣案件 %(code)s：%(category)s") % {"code": case.code, "category": case.category},
    )
    return case


@transaction.atomic
def register_and_dispatch_case(
    *, actor, case: Case, assignee: Unit, reason: str = "", note: str = "", now=None
) -> Case:
    """立案并派遣: the street dispatcher's two steps on a new report in one submit. The same two services
    run one after the other in one transaction, so the timeline and the audit trail read exactly as if
    they had been taken apart (立案, then 派遣, each with its own entry and time limit), and a refused
    dispatch (another unit without a reason, a unit that cannot be sent cases) leaves the case at 受理
    with nothing written."""
    now = now or timezone.now()
    case = register_case(actor=actor, case=case, note=note, now=now)
    return dispatch_case(actor=actor, case=case, assignee=assignee, reason=reason, now=now)


@transaction.atomic
def return_case(*, actor, case: Case, reason: str, now=None) -> Case:
    """退单: the receiving unit says it is not theirs. Counted per unit and category (a wrong rule shows)."""
    if not (reason or "").strip():
        raise ValidationError({"note": _("退单须说明理由。")})
    now = now or timezone.now()
    returned_by = case.assignee
    deadline = workdays.add_working_hours(
        now, case.rule.dispatch_hours if case.rule else DEFAULT_REGISTER_HOURS
    )
    changes = {
        "assignee": None,
        "return_count": case.return_count + 1,
        "stage_started_at": now,
        "stage_deadline": deadline,
        "handle_deadline": None,
        "warned": False,
        "overdue": False,
    }
    case = _transition(
        actor=actor, case=case, action=Action.RETURN, note=reason, unit=returned_by, now=now, changes=changes
    )
    _notify(
        case.dispatcher,
        case,
        _("案件 %(code)s 被 %(unit)s 退单，请改派。") % {"code": case.code, "unit": returned_by},
    )
    return case


@transaction.atomic
def accept_case(*, actor, case: Case, note: str = "", now=None) -> Case:
    return _transition(actor=actor, case=case, action=Action.ACCEPT, note=note, unit=case.assignee, now=now)


@transaction.atomic
def feedback_case(*, actor, case: Case, result: str, attachments=(), now=None) -> Case:
    """反馈: handled, with the result (and photos). Whether it was on time is fixed here."""
    if not (result or "").strip():
        raise ValidationError({"result": _("请填写处置结果。")})
    now = now or timezone.now()
    verify_deadline = workdays.add_working_hours(now, case.rule.verify_hours if case.rule else 8)
    late = bool(case.handle_deadline and now > case.handle_deadline)
    changes = {
        "result": result.strip(),
        "handled_late": late,
        "stage_started_at": now,
        "stage_deadline": verify_deadline,
        "warned": False,
        "overdue": False,
    }
    case = _transition(
        actor=actor,
        case=case,
        action=Action.FEEDBACK,
        note=result,
        unit=case.assignee,
        attachments=attachments,
        now=now,
        changes=changes,
    )
    _notify(case.dispatcher, case, _("案件 %(code)s 已处置，请核查。") % {"code": case.code})
    return case


@transaction.atomic
def verify_case(*, actor, case: Case, passed: bool, note: str = "", attachments=(), now=None) -> Case:
    """核查 by a grid worker or the dispatching street: pass → 结案; fail → back to handling, with a new
    handling limit."""
    now = now or timezone.now()
    if passed:
        changes = {"closed_at": now, "stage_deadline": None, "warned": False, "overdue": False}
        case = _transition(
            actor=actor,
            case=case,
            action=Action.VERIFY_PASS,
            note=note,
            attachments=attachments,
            now=now,
            changes=changes,
        )
        _close_supervisions(case, now)
        return case
    if not (note or "").strip():
        raise ValidationError({"note": _("核查不通过须说明原因。")})
    deadline = _handle_deadline(case.rule, now)
    changes = {
        "stage_started_at": now,
        "stage_deadline": deadline,
        "handle_deadline": deadline,
        "warned": False,
        "overdue": False,
    }
    case = _transition(
        actor=actor,
        case=case,
        action=Action.VERIFY_FAIL,
        note=note,
        unit=case.assignee,
        attachments=attachments,
        now=now,
        changes=changes,
    )
    if case.assignee_id:
        _notify(case.assignee, case, _("案件 %(code)s 核查未通过，请重新处置。") % {"code": case.code})
    return case


@transaction.atomic
def rate_case(
    *, actor, case: Case, rating: str, comment: str = "", channel: str = RatingChannel.PLATFORM, now=None
) -> Case:
    """评价 by the reporter (a link, or a staff member recording a phone follow-up). 不满意 reopens the case
    once (SHEQU_CASE_REOPEN_LIMIT), with a new handling limit."""
    now = now or timezone.now()
    if rating not in Rating.values:
        raise ValidationError({"rating": _("请选择满意、基本满意或不满意。")})
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.stage != Stage.CLOSED or locked.rating:
        raise CaseConflict(_("案件 %(code)s 尚未结案或已评价。") % {"code": locked.code}, code="conflict")
    if actor is not None and not Case.objects.restrict(actor, "rate").filter(pk=locked.pk).exists():
        raise PermissionDenied(_("您的岗位不能为此案件记录评价。"))
    before = snapshot(locked)
    locked.rating, locked.rating_comment, locked.rating_channel = rating, comment[:500], channel
    locked.version += 1
    locked.save()
    CaseEvent.objects.create(
        case=locked,
        action=Action.RATE,
        stage_from=locked.stage,
        stage_to=locked.stage,
        actor=actor,
        actor_name=_actor_name(actor, locked) if actor else _("反映人"),
        note=f"{Rating(rating).label} {comment}".strip(),
        created_at=now,
    )
    record_audit(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=locked,
        before=before,
        after=snapshot(locked),
        reason=_("评价"),
    )
    if rating == Rating.UNSATISFIED and locked.reopen_count < case_setting("SHEQU_CASE_REOPEN_LIMIT", 1):
        deadline = _handle_deadline(locked.rule, now)
        changes = {
            "reopen_count": locked.reopen_count + 1,
            "rating": "",
            "rating_channel": "",
            "closed_at": None,
            "stage_started_at": now,
            "stage_deadline": deadline,
            "handle_deadline": deadline,
            "handled_late": False,
            "warned": False,
            "overdue": False,
        }
        locked = _transition(
            actor=actor,
            case=locked,
            action=Action.REOPEN,
            note=comment or _("反映人不满意"),
            unit=locked.assignee,
            now=now,
            changes=changes,
            check_permission=False,
        )
        if locked.assignee_id:
            _notify(
                locked.assignee,
                locked,
                _("案件 %(code)s 反映人不满意，已重新派回处置。") % {"code": locked.code},
            )
    return locked


# Duplicates and merging -------------------------------------------------------------------------


def duplicate_candidates(case: Case, limit: int = 10) -> list[Case]:
    """Open cases of the same category at the same building group or estate within the window, and
    cases at the same residential area whose description is very similar (difflib ratio ≥ 0.6)."""
    window = datetime.timedelta(days=case_setting("SHEQU_CASE_DUPLICATE_DAYS", 7))
    recent = (
        Case.objects.filter(stage__in=OPEN_STAGES, reported_at__gte=case.reported_at - window)
        .exclude(pk=case.pk)
        .select_related("category")
    )
    place = Q(pk__in=[])
    if case.building_group_id:
        place |= Q(building_group_id=case.building_group_id)
    if case.estate_id:
        place |= Q(estate_id=case.estate_id)
    same_place = list(recent.filter(place, category_id=case.category_id)[:limit]) if case.estate_id else []
    similar = [
        other
        for other in recent.filter(unit_id=case.unit_id).exclude(pk__in=[c.pk for c in same_place])[:200]
        if difflib.SequenceMatcher(None, other.description, case.description).ratio() >= 0.6
    ]
    return (same_place + similar)[:limit]


@transaction.atomic
def merge_case(*, actor, case: Case, parent: Case, now=None) -> Case:
    """The duplicate follows its parent from now on: its reporter sees the parent's progress."""
    if parent.pk == case.pk or parent.parent_id or parent.stage not in OPEN_STAGES:
        raise ValidationError({"parent": _("只能合并到另一件办理中的案件。")})
    return _transition(
        actor=actor,
        case=case,
        action=Action.MERGE,
        note=_("合并至 %(code)s") % {"code": parent.code},
        now=now,
        changes={"parent": parent, "stage_deadline": None, "overdue": False},
    )


def followed_case(case: Case) -> Case:
    """The case whose progress a reporter sees: the parent of a merged duplicate."""
    return case.parent if case.parent_id else case


# Deadlines, warnings, supervision --------------------------------------------------------------


def _notify(unit: Unit | None, case: Case | None, message: str, summons: Summons | None = None) -> None:
    if unit is not None:
        Notification.objects.create(unit=unit, case=case, summons=summons, message=message[:300])


def holder_of(case: Case) -> Unit:
    """The unit that has to act now: the assignee while dispatched or handling, else the dispatcher."""
    if case.stage in (Stage.DISPATCHED, Stage.HANDLING) and case.assignee_id:
        return case.assignee
    return case.dispatcher


@dataclass
class SweepReport:
    warned: int = 0
    overdue: int = 0
    supervised: int = 0


@transaction.atomic
def sweep_deadlines(now: datetime.datetime | None = None) -> SweepReport:
    """The periodic sweep: warn at 80% of a stage's limit, mark overdue past it, open supervision past
    the grace period (SHEQU_SUPERVISION_GRACE_HOURS working hours). Set-based: a few queries whatever
    the number of cases, plus one notification row per case that changed."""
    now = now or timezone.now()
    report = SweepReport()
    open_cases = Case.objects.filter(stage__in=OPEN_STAGES, stage_deadline__isnull=False)

    to_warn = list(
        open_cases.filter(warned=False, overdue=False, stage_deadline__gt=now).values_list(
            "pk", "code", "stage_started_at", "stage_deadline", "stage", "assignee_id", "dispatcher_id"
        )
    )
    warn_ids, notes = [], []
    for pk, code, started, deadline, stage, assignee_id, dispatcher_id in to_warn:
        # 80% of the limit in calendar time between the stage's start and its deadline (both already
        # fall on working time, so this is the warning point the handler sees on the clock).
        if now >= started + (deadline - started) * 0.8:
            warn_ids.append(pk)
            unit_id = (
                assignee_id if stage in (Stage.DISPATCHED, Stage.HANDLING) and assignee_id else dispatcher_id
            )
            notes.append(
                Notification(
                    unit_id=unit_id,
                    case_id=pk,
                    created_at=now,
                    message=_("案件 %(code)s 即将超时（已用时限的80%%）。") % {"code": code},
                )
            )
    Case.objects.filter(pk__in=warn_ids).update(warned=True)
    report.warned = len(warn_ids)

    late = list(
        open_cases.filter(overdue=False, stage_deadline__lte=now).values_list(
            "pk", "code", "stage", "assignee_id", "dispatcher_id"
        )
    )
    for pk, code, stage, assignee_id, dispatcher_id in late:
        unit_id = (
            assignee_id if stage in (Stage.DISPATCHED, Stage.HANDLING) and assignee_id else dispatcher_id
        )
        notes.append(
            Notification(
                unit_id=unit_id,
                case_id=pk,
                created_at=now,
                message=_("案件 %(code)s 已超时。") % {"code": code},
            )
        )
    Case.objects.filter(pk__in=[row[0] for row in late]).update(overdue=True, warned=True)
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=row[0],
                action=Action.OVERDUE,
                stage_from=row[2],
                stage_to=row[2],
                actor_name=_("系统"),
                created_at=now,
            )
            for row in late
        ]
    )
    report.overdue = len(late)

    grace = datetime.timedelta(hours=case_setting("SHEQU_SUPERVISION_GRACE_HOURS", 24))
    supervised = Supervision.objects.filter(status="open").values("case_id")
    due = list(
        open_cases.filter(overdue=True, stage_deadline__lte=now - grace)
        .exclude(pk__in=supervised)
        .values_list("pk", "code", "stage", "assignee_id", "dispatcher_id")
    )
    deadline = workdays.add_working_days(now, case_setting("SHEQU_SUPERVISION_DAYS", 2))
    Supervision.objects.bulk_create(
        [
            Supervision(
                case_id=pk, reason=_("超过时限仍未办结，系统自动督办"), opened_at=now, deadline=deadline
            )
            for pk, *_rest in due
        ]
    )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=row[0],
                action=Action.SUPERVISE,
                stage_from=row[2],
                stage_to=row[2],
                actor_name=_("系统"),
                created_at=now,
            )
            for row in due
        ]
    )
    for pk, code, stage, assignee_id, dispatcher_id in due:
        unit_id = (
            assignee_id if stage in (Stage.DISPATCHED, Stage.HANDLING) and assignee_id else dispatcher_id
        )
        notes.append(
            Notification(
                unit_id=unit_id,
                case_id=pk,
                created_at=now,
                message=_("案件 %(code)s 已被督办。") % {"code": code},
            )
        )
    report.supervised = len(due)
    Notification.objects.bulk_create(notes, batch_size=2000)
    return report


def _close_supervisions(case: Case, now) -> None:
    Supervision.objects.filter(case=case, status="open").update(status="done", closed_at=now)


@transaction.atomic
def open_supervision(*, actor, case: Case, reason: str, days: int = 2, now=None) -> Supervision:
    """督办 opened by the district office by hand."""
    now = now or timezone.now()
    if not Case.objects.restrict(actor, "supervise").filter(pk=case.pk).exists():
        raise PermissionDenied(_("只有区地区办可以督办案件。"))
    if not case.is_open:
        raise ValidationError({"reason": _("已结案的案件无需督办。")})
    supervision = Supervision.objects.create(
        case=case, reason=reason, opened_at=now, deadline=workdays.add_working_days(now, days)
    )
    CaseEvent.objects.create(
        case=case,
        action=Action.SUPERVISE,
        stage_from=case.stage,
        stage_to=case.stage,
        actor=actor,
        actor_name=str(actor),
        note=reason,
        created_at=now,
    )
    record_audit(
        actor=actor,
        action=AuditAction.CREATE,
        instance=supervision,
        before=None,
        after=snapshot(supervision),
        reason=reason,
    )
    _notify(
        holder_of(case),
        case,
        _("案件 %(code)s 已被区地区办督办：%(reason)s") % {"code": case.code, "reason": reason},
    )
    return supervision


# Summons (约请) ----------------------------------------------------------------------------------


@transaction.atomic
def summon_department(
    *,
    actor,
    street: Unit,
    department: Unit,
    reason: str,
    request: str,
    response_days: int = 3,
    meeting_at=None,
    cases=(),
    now=None,
) -> Summons:
    """约请: a street calls a department, on the cases it names (each one the actor may view: a missing
    and a forbidden case get the same answer, which names neither)."""
    now = now or timezone.now()
    if department.kind != UnitKind.DEPARTMENT:
        raise ValidationError({"department": _("只能约请区职能部门。")})
    if response_days < 1 or response_days > 30:
        raise ValidationError({"response_days": _("答复时限应为1至30个工作日。")})
    cases = list(cases)
    if actor is not None and cases:
        wanted = {case.pk for case in cases}
        visible = set(Case.objects.restrict(actor, "view").filter(pk__in=wanted).values_list("pk", flat=True))
        if visible != wanted:
            raise ValidationError({"cases": _("涉及案件中有不存在或您无权查看的案件，请核对案件编号。")})
    summons = create_record(
        actor=actor,
        model=Summons,
        fields={
            "code": next_code(f"YQ{now.year}-"),
            "street": street,
            "department": department,
            "reason": reason,
            "request": request,
            "response_days": response_days,
            "response_deadline": workdays.add_working_days(now, response_days),
            "meeting_at": meeting_at,
            "created_by": actor,
            "created_at": now,
        },
        m2m={"cases": list(cases)},
    )
    for case in cases:
        CaseEvent.objects.create(
            case=case,
            action=Action.SUMMON,
            stage_from=case.stage,
            stage_to=case.stage,
            actor=actor,
            actor_name=str(actor),
            unit=department,
            note=reason,
            created_at=now,
        )
    _notify(
        department,
        None,
        _("%(street)s约请：%(reason)s（%(code)s）")
        % {"street": street, "reason": reason, "code": summons.code},
        summons=summons,
    )
    return summons


@transaction.atomic
def answer_summons(*, actor, summons: Summons, accepted: bool, answer: str, now=None) -> Summons:
    now = now or timezone.now()
    if not (answer or "").strip():
        raise ValidationError({"answer": _("请填写答复内容。")})
    if summons.status != SummonsStatus.SENT:
        raise CaseConflict(_("约请 %(code)s 已答复。") % {"code": summons.code}, code="conflict")
    if not Summons.objects.restrict(actor, "answer").filter(pk=summons.pk).exists():
        raise PermissionDenied(_("只有被约请的部门可以答复。"))
    summons = update_record(
        actor=actor,
        instance=summons,
        changes={
            "status": SummonsStatus.ACCEPTED if accepted else SummonsStatus.EXPLAINED,
            "answer": answer.strip(),
            "answered_at": now,
            "answered_on_time": now <= summons.response_deadline,
        },
    )
    _notify(
        summons.street,
        None,
        _("%(dept)s已答复约请 %(code)s。") % {"dept": summons.department, "code": summons.code},
        summons=summons,
    )
    return summons


@transaction.atomic
def close_summons(
    *, actor, summons: Summons, outcome: str, rating_timeliness: int, rating_result: int, now=None
) -> Summons:
    """The street records the outcome and rates the department (1–5): the evidence for assessment. The
    summoned department may change its summons (to answer it) but never close or rate it itself."""
    now = now or timezone.now()
    if actor is not None and (
        not Summons.objects.restrict(actor, "change").filter(pk=summons.pk).exists()
        or Summons.objects.restrict(actor, "answer").filter(pk=summons.pk).exists()
    ):
        raise PermissionDenied(_("只有发出约请的街道可以办结和评价约请。"))
    if not (outcome or "").strip():
        raise ValidationError({"outcome": _("请填写办理结果。")})
    for name, value in (("rating_timeliness", rating_timeliness), ("rating_result", rating_result)):
        if value not in (1, 2, 3, 4, 5):
            raise ValidationError({name: _("评分为1至5分。")})
    if summons.status == SummonsStatus.CLOSED:
        raise CaseConflict(_("约请 %(code)s 已办结。") % {"code": summons.code}, code="conflict")
    return update_record(
        actor=actor,
        instance=summons,
        changes={
            "status": SummonsStatus.CLOSED,
            "outcome": outcome.strip(),
            "rating_timeliness": rating_timeliness,
            "rating_result": rating_result,
            "closed_at": now,
            # Closed without an answer: late once the deadline had passed; before it, not assessable.
            "answered_on_time": summons.answered_on_time
            if summons.answered_at
            else (False if now > summons.response_deadline else None),
        },
    )


# Open311 client keys -------------------------------------------------------------------------------


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_open311_client(*, actor, name: str, contact: str = "") -> tuple[Open311Client, str]:
    """A new client application and its key, shown once (stored as SHA-256)."""
    key = secrets.token_urlsafe(32)
    district = Unit.objects.get(kind=UnitKind.DISTRICT)
    client = create_record(
        actor=actor,
        model=Open311Client,
        fields={
            "unit": district,
            "name": name,
            "contact": contact,
            "key_prefix": key[:8],
            "key_hash": hash_api_key(key),
        },
    )
    return client, key


def client_for_key(key: str) -> Open311Client | None:
    if not key:
        return None
    return Open311Client.objects.filter(key_hash=hash_api_key(key), is_active=True).first()


# Reads used by the pages and the API -------------------------------------------------------------


def assigned_to_user_q(user) -> Q:
    """Cases dispatched to one of the units where the user holds a role (the 派给本单位 queue)."""
    units = [membership.unit_id for membership in user.memberships.all()]
    return Q(assignee_id__in=units)


@dataclass
class Remaining:
    """The time left in the current stage, in office time, and how much of the limit is used."""

    left: datetime.timedelta
    used_share: float

    @property
    def overdue(self) -> bool:
        return self.left.total_seconds() < 0

    @property
    def warning(self) -> bool:
        return not self.overdue and self.used_share >= 0.8

    @property
    def hours(self) -> float:
        return round(self.left.total_seconds() / 3600, 1)


def remaining_time(case: Case, now: datetime.datetime | None = None) -> Remaining | None:
    if not case.is_open or case.stage_deadline is None:
        return None
    now = now or timezone.now()
    total = workdays.working_time_between(case.stage_started_at, case.stage_deadline)
    left = workdays.working_time_between(now, case.stage_deadline)
    used = 1.0 if total.total_seconds() <= 0 else 1 - left / total
    return Remaining(left=left, used_share=used)


# The district office's reference lists ------------------------------------------------------------


def _district() -> Unit:
    return Unit.objects.get(kind=UnitKind.DISTRICT)


def create_category(*, actor, reason: str = "", **fields: Any) -> Category:
    return create_record(actor=actor, model=Category, fields={**fields, "unit": _district()}, reason=reason)


def update_category(
    *,
    actor,
    category: Category,
    changes: dict[str, Any],
    expected_version: int | None = None,
    reason: str = "",
) -> Category:
    return update_record(
        actor=actor, instance=category, changes=changes, expected_version=expected_version, reason=reason
    )


def create_rule(*, actor, reason: str = "", **fields: Any) -> ResponsibilityRule:
    return create_record(
        actor=actor, model=ResponsibilityRule, fields={**fields, "unit": _district()}, reason=reason
    )


def update_rule(
    *,
    actor,
    rule: ResponsibilityRule,
    changes: dict[str, Any],
    expected_version: int | None = None,
    reason: str = "",
) -> ResponsibilityRule:
    return update_record(
        actor=actor, instance=rule, changes=changes, expected_version=expected_version, reason=reason
    )


# Notifications ----------------------------------------------------------------------------------


@transaction.atomic
def mark_notifications_read(*, actor, now: datetime.datetime | None = None) -> int:
    """Marks as read every unread notification of the units where the actor holds a role (the rows of the
    actor's notification list and the menu bar's count), audited one entry per notification. Returns how
    many were marked."""
    now = now or timezone.now()
    units = [membership.unit_id for membership in actor.memberships.all()]
    unread = list(
        Notification.objects.restrict(actor, "view")
        .filter(unit__in=units, read_at__isnull=True)
        .select_related("unit")
        .select_for_update(of=("self",))
    )
    if not unread:
        return 0
    Notification.objects.filter(pk__in=[note.pk for note in unread]).update(read_at=now)
    AuditEntry.objects.bulk_create(
        audit_entry(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=note,
            before={"read_at": None},
            after={"read_at": now.isoformat()},
            unit_path=note.unit.path,
        )
        for note in unread
    )
    return len(unread)
