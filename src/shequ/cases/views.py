"""一网统管 pages: intake, work queues, the case page with its timeline and next actions, summons, and
the district's reference lists. Declarations on the scoped base views; every write is a service call."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from shequ.core.views import (
    ScopedCreateView,
    ScopedDetailView,
    ScopedListView,
    ScopedUpdateView,
    ServiceFormView,
)
from shequ.org.choices import STREET_KINDS, UnitKind
from shequ.org.models import Unit

from . import services
from .choices import Action, Stage, SummonsStatus
from .district_map import district_map, pin
from .filters import (
    CaseFilter,
    CategoryFilter,
    NotificationFilter,
    Open311ClientFilter,
    RuleFilter,
    SummonsFilter,
)
from .forms import (
    CategoryForm,
    DispatchForm,
    FeedbackForm,
    IntakeForm,
    MergeForm,
    NoteForm,
    Open311ClientForm,
    RateForm,
    ReasonForm,
    RegisterDispatchForm,
    ReturnForm,
    RuleForm,
    SummonsAnswerForm,
    SummonsCloseForm,
    SummonsForm,
    SupervisionForm,
    VerifyForm,
    area_estates,
    area_grids,
    estate_groups,
    group_label,
)
from .models import Case, Category, Notification, Open311Client, ResponsibilityRule, Summons
from .queues import QUEUES, queue_cases, user_queues
from .tables import CaseTable, CategoryTable, NotificationTable, Open311ClientTable, RuleTable, SummonsTable


class CaseList(ScopedListView):
    model = Case
    filterset_class = CaseFilter
    table_class = CaseTable
    template_name = "cases/case_list.html"
    select_related = ("category__parent", "unit", "assignee")
    add_url_name = "case-add"
    title = gettext_lazy("案件")
    queue = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["queues"] = queue_links(self.request.user)
        context["current_queue"] = self.queue.name if self.queue else ""
        return context


class CaseQueue(CaseList):
    """One work queue (cases.queues). The grant checked is the queue's own action: a department has no
    待立案 queue."""

    @property
    def hidden_filters(self):
        # A queue is a state already: its filter form offers no 情形 (the dashboard's figures), and no
        # 环节 when the queue is one stage (待立案, 待派遣, 待核查), where any other would only empty
        # the list. 已超时, 督办中 and 派给本单位 span stages, so there 环节 still narrows.
        return ("status", "stage") if "stage" in self.queue.filter else ("status",)

    def dispatch(self, request, *args, **kwargs):
        self.queue = QUEUES.get(kwargs["queue"])
        if self.queue is None:
            raise Http404
        self.title, self.grant = self.queue.title, self.queue.action
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        queryset = queue_cases(self.request.user, self.queue)
        return queryset.select_related(*self.select_related)


def queue_links(user) -> list[tuple[str, str, str]]:
    """(address, title, name) of each queue the user works: no counts here (a query each on every list
    page); the home pages show them."""
    return [(queue.url, queue.title, queue.name) for queue in user_queues(user)]


class CaseDetail(ScopedDetailView):
    model = Case
    template_name = "cases/case_detail.html"
    select_related = (
        "category__parent",
        "unit__parent",
        "estate",
        "building_group__building",
        "grid",
        "assignee",
        "dispatcher",
        "parent",
        "rule",
    )
    fields = (
        "category",
        "description",
        "source",
        "urgency",
        "unit",
        "estate",
        "building_group",
        "grid",
        "address",
        "reporter_name_masked",
        "reporter_phone_masked",
        "stage",
        "dispatcher",
        "assignee",
        "reported_at",
        "stage_deadline",
        "handle_deadline",
        "result",
        "rating",
        "rating_comment",
        "parent",
    )

    def get_template_names(self):
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case, user = self.object, self.request.user
        allowed = services.allowed_actions(user, case)
        # A form sent back with its errors (CaseActionView) replaces the blank one of its action.
        bound = getattr(self, "bound_forms", {})
        context.update(
            events=case.events.select_related("unit").prefetch_related("attachments"),
            attachments=case.attachments.filter(event__isnull=True),
            actions=[
                (action, bound.get(action) or action_form(action, user=user, case=case), action_label(action))
                for action in page_actions(allowed)
            ],
            proposed=services.propose_assignee(case) if case.stage == Stage.REGISTERED else None,
            duplicates=services.duplicate_candidates(case)
            if case.stage in (Stage.REPORTED, Stage.REGISTERED)
            else [],
            supervisions=case.supervisions.all(),
            can_supervise=case.is_open
            and Case.objects.restrict(user, "supervise").filter(pk=case.pk).exists(),
            supervision_form=SupervisionForm(),
            remaining=services.remaining_time(case),
            extra_attributes=extra_attributes(case),
            summon_url=summon_url(user, case),
            summonses=Summons.objects.restrict(user, "view").filter(cases=case).select_related("department"),
            map=district_map(),
            pin=pin(case.latitude, case.longitude),
        )
        return context


def summon_url(user, case: Case) -> str | None:
    """约请部门 from a case page (which the user may view): the summons form with this case, and its
    department when it was sent to one. Only for those who send summonses (streets)."""
    if not user.can("cases.summons", "add"):
        return None
    query = QueryDict(mutable=True)
    query["case"] = case.code
    if case.assignee_id and case.assignee.kind == UnitKind.DEPARTMENT:
        query["department"] = case.assignee.code
    return f"{reverse('summons-add')}?{query.urlencode()}"


class CasePrint(ScopedDetailView):
    """派遣单: the case as the slip a dispatcher prints (or saves as PDF) for the unit it was sent to. Anyone
    who may see the case may print it; the reporter stays masked as on the case page."""

    model = Case
    template_name = "cases/case_print.html"
    select_related = (
        "category__parent",
        "unit",
        "estate",
        "building_group__building",
        "grid",
        "assignee",
        "dispatcher",
        "rule",
    )

    def get_template_names(self):
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case = self.object
        context.update(
            title=_("派遣单 %(code)s") % {"code": case.code},
            dispatch_event=case.events.filter(action__in=(Action.DISPATCH, Action.REDISPATCH))
            .select_related("actor")
            .last(),
            printed_at=timezone.now(),
        )
        return context


def extra_attributes(case: Case) -> list[tuple[str, object]]:
    """The answers to a category's extra questions (Open311 attributes), labelled as the category asks
    them, and a photo link sent by an outside app (shown as a link, never fetched)."""
    labels = {
        item.get("code"): item.get("description", item.get("code")) for item in case.category.attributes or []
    }
    rows = []
    for key, value in (case.attributes or {}).items():
        if key == "_open311":
            if value.get("media_url"):
                rows.append((_("照片链接"), {"url": value["media_url"]}))
        else:
            if isinstance(value, bool):  # an answer sent as JSON true/false reads 是/否, never True/False
                value = _("是") if value else _("否")
            elif isinstance(value, list):
                value = "、".join(str(item) for item in value)
            rows.append((labels.get(key, key), value))
    return rows


# 立案并派遣: one submit for the dispatcher's 立案 and 派遣 (services.register_and_dispatch_case). Not a
# stage transition of its own, so not a member of Action (whose values are the timeline's).
REGISTER_DISPATCH = "register_dispatch"

ACTION_FORMS = {
    REGISTER_DISPATCH: RegisterDispatchForm,
    Action.REGISTER: NoteForm,
    Action.REJECT: ReasonForm,
    Action.DISPATCH: DispatchForm,
    Action.RETURN: ReturnForm,
    Action.ACCEPT: NoteForm,
    Action.FEEDBACK: FeedbackForm,
    Action.VERIFY_PASS: VerifyForm,
    Action.RATE: RateForm,
    Action.MERGE: MergeForm,
}


def action_form(action: str, *args, user, case: Case):
    # Several action forms share a page: ids carry the action so that each label names its own field.
    return ACTION_FORMS[action](*args, user=user, case=case, auto_id=f"{action}-%s")


def action_label(action: str) -> str:
    return _("立案并派遣") if action == REGISTER_DISPATCH else Action(action).label


def page_actions(allowed: list[str]) -> list[str]:
    """The forms the case page shows, in the order of the allowed transitions; whoever may 立案 a new
    report may also 派遣 it (the same grant), so 立案并派遣 comes first for them."""
    actions = [action for action in allowed if action in ACTION_FORMS]
    if Action.REGISTER in actions:
        actions.insert(0, REGISTER_DISPATCH)
    return actions


def _perform(action: str, *, user, case: Case, data: dict) -> Case:
    """One transition from a validated form: the same service the API calls."""
    note = data.get("note", "")
    if action == REGISTER_DISPATCH:
        return services.register_and_dispatch_case(
            actor=user, case=case, assignee=data["assignee"], reason=data.get("reason", ""), note=note
        )
    if action == Action.REGISTER:
        return services.register_case(actor=user, case=case, note=note)
    if action == Action.REJECT:
        return services.reject_case(actor=user, case=case, reason=note)
    if action == Action.DISPATCH:
        return services.dispatch_case(
            actor=user, case=case, assignee=data["assignee"], reason=data.get("reason", ""), note=note
        )
    if action == Action.RETURN:
        return services.return_case(actor=user, case=case, reason=note)
    if action == Action.ACCEPT:
        return services.accept_case(actor=user, case=case, note=note)
    if action == Action.FEEDBACK:
        return services.feedback_case(
            actor=user, case=case, result=data["result"], attachments=data.get("attachments", [])
        )
    if action in (Action.VERIFY_PASS, Action.VERIFY_FAIL):
        return services.verify_case(
            actor=user, case=case, passed=data["passed"], note=note, attachments=data.get("attachments", [])
        )
    if action == Action.RATE:
        return services.rate_case(
            actor=user,
            case=case,
            rating=data["rating"],
            comment=data.get("comment", ""),
            channel=data.get("channel", "phone"),
        )
    if action == Action.MERGE:
        return services.merge_case(actor=user, case=case, parent=data["parent"])
    raise Http404


class CaseActionView(LoginRequiredMixin, View):
    """POST /cases/<pk>/<action>/: one transition. Bad input comes back as the case page with the form as
    it was sent and the message on its field (so a changed unit or a typed note is not lost); "someone
    else was first" comes back as a message on the reloaded case page. Nothing is written either way."""

    def post(self, request, pk, action):
        if action not in ACTION_FORMS:
            raise Http404
        case = get_object_or_404(Case.objects.restrict(request.user, "view"), pk=pk)
        permission = services.TRANSITION_PERMISSIONS.get(action)
        if permission and not Case.objects.restrict(request.user, permission).filter(pk=case.pk).exists():
            raise PermissionDenied(
                _("您的岗位不能对此案件执行“%(action)s”。") % {"action": action_label(action)}
            )
        form = action_form(action, request.POST, request.FILES, user=request.user, case=case)
        if not form.is_valid():
            return self.invalid(request, case, action, form)
        try:
            _perform(action, user=request.user, case=case, data=form.cleaned_data)
        except PermissionDenied as error:
            raise PermissionDenied(str(error)) from error
        except services.CaseConflict as error:
            for message in error.messages:
                messages.error(request, message)
            return HttpResponseRedirect(case.get_absolute_url())
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, field_errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, field_errors)
            else:
                form.add_error(None, error.messages)
            return self.invalid(request, case, action, form)
        if not Case.objects.restrict(request.user, "view").filter(pk=case.pk).exists():
            # The case has left the user's hands (退单 to the street): its page would now be 页面不存在.
            messages.success(request, left_hands_message(action, case))
            return HttpResponseRedirect(landing_after_leaving(request.user))
        done = action_label(action)
        if action == Action.VERIFY_PASS and not form.cleaned_data.get("passed", True):
            done = Action.VERIFY_FAIL.label  # the one 核查 form passes or sends back
        messages.success(
            request, _("案件 %(code)s：已完成“%(action)s”。") % {"code": case.code, "action": done}
        )
        return HttpResponseRedirect(case.get_absolute_url())

    def invalid(self, request, case: Case, action: str, form):
        messages.error(request, _("“%(action)s”未完成，请按提示修改。") % {"action": action_label(action)})
        view = CaseDetail()
        view.setup(request, pk=case.pk)
        view.bound_forms = {action: form}
        view.object = view.get_object()
        return view.render_to_response(view.get_context_data(object=view.object))


def left_hands_message(action: str, case: Case) -> str:
    if action == Action.RETURN:
        text = _("案件 %(code)s 已退单，已退回%(unit)s重新派遣。")
        return text % {"code": case.code, "unit": case.dispatcher}
    return _("案件 %(code)s：已完成“%(action)s”。") % {"code": case.code, "action": action_label(action)}


def landing_after_leaving(user) -> str:
    """Where a user lands when the case they acted on left their scope: their 派给本单位 queue (or the
    first queue they work, or the home page)."""
    queues = user_queues(user)
    queue = next((queue for queue in queues if queue.name == "assigned"), queues[0] if queues else None)
    return queue.url if queue else reverse("home")


class CaseSuperviseView(LoginRequiredMixin, View):
    def post(self, request, pk):
        case = get_object_or_404(Case.objects.restrict(request.user, "view"), pk=pk)
        if not Case.objects.restrict(request.user, "supervise").filter(pk=case.pk).exists():
            raise PermissionDenied(_("只有区地区办可以督办案件。"))
        form = SupervisionForm(request.POST)
        if form.is_valid():
            try:
                services.open_supervision(
                    actor=request.user,
                    case=case,
                    reason=form.cleaned_data["reason"],
                    days=form.cleaned_data["days"],
                )
                messages.success(request, _("已督办。"))
            except ValidationError as error:
                messages.error(request, "；".join(error.messages))
        else:
            messages.error(request, _("请填写督办原因和时限。"))
        return HttpResponseRedirect(case.get_absolute_url())


class CaseCreate(ScopedCreateView):
    """The intake form (grid workers on the phone, committee and street staff at a desk)."""

    model = Case
    form_class = IntakeForm
    template_name = "cases/case_form.html"
    title = gettext_lazy("登记案件")

    def get_initial(self):
        # Start the place picker from the user's own residential area when it has one.
        home = next(
            (
                m.unit
                for m in self.request.user.memberships.select_related("unit")
                if m.unit.kind == UnitKind.NEIGHBORHOOD
            ),
            None,
        )
        return {"unit": self.request.GET.get("unit") or (home.pk if home else None)}

    def save(self, form):
        data = dict(form.cleaned_data)
        return services.report_case(actor=self.request.user, **data)


class PlaceOptions(LoginRequiredMixin, TemplateView):
    """htmx: the <option>s of one intake picker from the one before it: `for=estate` (the estates of
    `unit`), `for=building_group` (the groups of `estate`, none when the estate is not in `unit`: the
    area changed and the estate picker is being refilled), `for=grid` (the grids covering `unit`; the
    only one comes selected). Without `for`: the groups of `estate`, else the estates of `unit`."""

    template_name = "cases/_place_options.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, params = self.request.user, self.request.GET
        unit = params.get("unit", "") if params.get("unit", "").isdigit() else None
        estate = params.get("estate", "") if params.get("estate", "").isdigit() else None
        wanted = params.get("for") or ("building_group" if estate else "estate")
        options, preselect = [], False
        if wanted == "building_group" and estate:
            groups = estate_groups(user, estate)
            if unit:
                groups = groups.filter(building__estate__unit_id=unit)
            options = [(group.pk, group_label(group)) for group in groups]
        elif wanted == "estate" and unit:
            options = [(pk, name) for pk, name in area_estates(user, unit).values_list("pk", "name")]
        elif wanted == "grid" and unit:
            options = list(area_grids(user, unit).values_list("pk", "name"))
            preselect = len(options) == 1
        context.update(options=options, preselect=preselect)
        return context


class NotificationList(ScopedListView):
    model = Notification
    table_class = NotificationTable
    filterset_class = NotificationFilter
    select_related = ("case", "unit")
    title = gettext_lazy("通知")
    template_name = "cases/notification_list.html"

    def get_queryset(self):
        # A user's notifications are those of the units they hold a role at (not the whole subtree).
        return (
            super().get_queryset().filter(unit__in=[m.unit_id for m in self.request.user.memberships.all()])
        )


class NotificationsRead(LoginRequiredMixin, View):
    """全部标为已读: the user's own notifications (those of the units where they hold a role)."""

    http_method_names = ["post"]

    def post(self, request):
        count = services.mark_notifications_read(actor=request.user)
        messages.success(request, _("已将 %(count)d 条通知标为已读。") % {"count": count})
        return HttpResponseRedirect(reverse("notification-list"))


# 约请 -------------------------------------------------------------------------------------------


class SummonsList(ScopedListView):
    model = Summons
    filterset_class = SummonsFilter
    table_class = SummonsTable
    select_related = ("street", "department")
    add_url_name = "summons-add"
    title = gettext_lazy("约请")
    template_name = "cases/summons_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The summoned department's to-do: the summonses waiting for its answer, one click away.
        user = self.request.user
        if user.can("cases.summons.received", "answer"):
            waiting = Summons.objects.restrict(user, "answer").filter(status=SummonsStatus.SENT)
            context["to_answer"] = {"count": waiting.count(), "status": SummonsStatus.SENT}
        return context


class SummonsDetail(ScopedDetailView):
    model = Summons
    template_name = "cases/summons_detail.html"
    select_related = ("street", "department", "created_by")
    fields = (
        "code",
        "street",
        "department",
        "reason",
        "request",
        "response_days",
        "response_deadline",
        "meeting_at",
        "status",
        "answer",
        "answered_at",
        "answered_on_time",
        "outcome",
        "rating_timeliness",
        "rating_result",
        "closed_at",
    )

    def get_template_names(self):
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        summons, user = self.object, self.request.user
        context["cases"] = (
            Case.objects.restrict(user, "view")
            .filter(summonses=summons)
            .select_related("category__parent", "unit")
            .order_by("code")
        )
        # The summons names its cases to whoever may read it; those the reader may not open (a case the
        # department returned, say) are counted, never shown.
        context["unseen_cases"] = summons.cases.count() - len(context["cases"])
        context["can_answer"] = (
            summons.status == SummonsStatus.SENT
            and Summons.objects.restrict(user, "answer").filter(pk=summons.pk).exists()
        )
        context["can_close"] = (
            summons.status != SummonsStatus.CLOSED
            and Summons.objects.restrict(user, "change")
            .filter(pk=summons.pk)
            .exclude(pk__in=Summons.objects.restrict(user, "answer").values("pk"))
            .exists()
        )
        context["answer_form"] = SummonsAnswerForm()
        context["close_form"] = SummonsCloseForm()
        return context


class SummonsCreate(ScopedCreateView):
    model = Summons
    form_class = SummonsForm
    title = gettext_lazy("约请职能部门")

    def get_initial(self):
        """From a case page (约请部门): the case, its department and the user's only street filled in."""
        initial = super().get_initial()
        user, params = self.request.user, self.request.GET
        initial["cases"] = " ".join(code for code in params.getlist("case") if code)
        department = Unit.objects.filter(
            kind=UnitKind.DEPARTMENT, is_active=True, code=params.get("department", "")
        ).first()
        if department is not None:
            initial["department"] = department.pk
        streets = list(Unit.objects.restrict(user, "view").filter(kind__in=STREET_KINDS)[:2])
        if len(streets) == 1:
            initial["street"] = streets[0].pk
        return initial

    def save(self, form):
        data = form.cleaned_data
        return services.summon_department(
            actor=self.request.user,
            street=data["street"],
            department=data["department"],
            reason=data["reason"],
            request=data["request"],
            response_days=data["response_days"],
            meeting_at=data["meeting_at"],
            cases=list(data["cases"]),
        )


class SummonsPrint(SummonsDetail):
    """约请函: the summons as a letter to print (or save as PDF) and send, with its cases listed."""

    template_name = "cases/summons_print.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("约请函 %(code)s") % {"code": self.object.code}
        context["cases"] = context["cases"].select_related("category__parent", "unit", "estate")
        return context


class SummonsStep(ServiceFormView):
    """A form on one summons, found among those the user may take this step on (404 otherwise)."""

    model = Summons

    def summonses(self):
        return self.get_queryset()

    def get(self, request, *args, **kwargs):
        self.summons = get_object_or_404(self.summonses(), pk=kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.summons = get_object_or_404(self.summonses(), pk=kwargs["pk"])
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.summons
        return context


class SummonsAnswer(SummonsStep):
    grant = "answer"
    form_class = SummonsAnswerForm
    title = gettext_lazy("答复约请")

    def save(self, form):
        return services.answer_summons(actor=self.request.user, summons=self.summons, **form.cleaned_data)


class SummonsClose(SummonsStep):
    """The street closes and rates; the summoned department cannot rate itself."""

    grant = "change"
    form_class = SummonsCloseForm
    title = gettext_lazy("约请办结与评价")

    def summonses(self):
        user = self.request.user
        return super().summonses().exclude(pk__in=Summons.objects.restrict(user, "answer").values("pk"))

    def save(self, form):
        return services.close_summons(actor=self.request.user, summons=self.summons, **form.cleaned_data)


# Reference lists kept by the district office ---------------------------------------------------


class CategoryList(ScopedListView):
    model = Category
    filterset_class = CategoryFilter
    table_class = CategoryTable
    select_related = ("parent",)
    add_url_name = "category-add"
    paginate_by = 100


class CategoryCreate(ScopedCreateView):
    model = Category
    form_class = CategoryForm

    def save(self, form):
        return services.create_category(actor=self.request.user, **form.model_fields())


class CategoryUpdate(ScopedUpdateView):
    model = Category
    form_class = CategoryForm

    def save(self, form):
        return services.update_category(
            actor=self.request.user,
            category=self.object,
            changes=form.model_fields(),
            expected_version=form.cleaned_data.get("version"),
        )


class RuleList(ScopedListView):
    model = ResponsibilityRule
    filterset_class = RuleFilter
    table_class = RuleTable
    select_related = ("category__parent", "scope", "responsible_unit")
    add_url_name = "rule-add"
    title = gettext_lazy("职责清单")


class RuleCreate(ScopedCreateView):
    model = ResponsibilityRule
    form_class = RuleForm

    def save(self, form):
        return services.create_rule(actor=self.request.user, **form.model_fields())


class RuleUpdate(ScopedUpdateView):
    model = ResponsibilityRule
    form_class = RuleForm

    def save(self, form):
        return services.update_rule(
            actor=self.request.user,
            rule=self.object,
            changes=form.model_fields(),
            expected_version=form.cleaned_data.get("version"),
        )


class Open311ClientList(ScopedListView):
    model = Open311Client
    filterset_class = Open311ClientFilter
    table_class = Open311ClientTable
    add_url_name = "open311client-add"


class Open311ClientCreate(ScopedCreateView):
    """The key is shown once, on the response to this form."""

    model = Open311Client
    form_class = Open311ClientForm
    title = gettext_lazy("新建接入应用")
    created_template_name = "cases/open311client_created.html"

    def form_valid(self, form):
        client, key = services.create_open311_client(actor=self.request.user, **form.cleaned_data)
        response = render(
            self.request,
            self.created_template_name,
            {"client": client, "key": key, "title": _("已创建接入应用")},
        )
        response["Cache-Control"] = "no-store"
        return response
