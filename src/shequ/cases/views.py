"""一网统管 pages: intake, work queues, the case page with its timeline and next actions, summons, and
the district's reference lists. Declarations on the scoped base views; every write is a service call."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
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
from shequ.org.choices import UnitKind
from shequ.registry.models import BuildingGroup, Estate

from . import services
from .choices import Action, Stage, SummonsStatus
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
    PublicRateForm,
    RateForm,
    ReasonForm,
    RuleForm,
    SummonsAnswerForm,
    SummonsCloseForm,
    SummonsForm,
    SupervisionForm,
    VerifyForm,
)
from .models import Case, Category, Notification, Open311Client, ResponsibilityRule, Summons
from .queues import QUEUES, queue_cases, user_queues
from .tables import CaseTable, CategoryTable, NotificationTable, Open311ClientTable, RuleTable, SummonsTable


class CaseList(ScopedListView):
    model = Case
    filterset_class = CaseFilter
    table_class = CaseTable
    select_related = ("category__parent", "unit", "assignee")
    add_url_name = "case-add"
    title = gettext_lazy("案件")


class CaseQueue(CaseList):
    """One work queue (cases.queues). The grant checked is the queue's own action: a department has no
    待立案 queue."""

    def dispatch(self, request, *args, **kwargs):
        self.queue = QUEUES.get(kwargs["queue"])
        if self.queue is None:
            raise Http404
        self.title, self.grant = self.queue.title, self.queue.action
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        queryset = queue_cases(self.request.user, self.queue)
        return queryset.select_related(*self.select_related)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["queues"] = queue_links(self.request.user)
        return context


def queue_links(user) -> list[tuple[str, str]]:
    return [(queue.url, queue.title) for queue in user_queues(user)]


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
        context.update(
            events=case.events.select_related("unit").prefetch_related("attachments"),
            attachments=case.attachments.filter(event__isnull=True),
            actions=[
                (action, ACTION_FORMS[action](user=user, case=case), Action(action).label)
                for action in allowed
                if action in ACTION_FORMS
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
            rows.append((labels.get(key, key), value))
    return rows


ACTION_FORMS = {
    Action.REGISTER: NoteForm,
    Action.REJECT: ReasonForm,
    Action.DISPATCH: DispatchForm,
    Action.RETURN: ReasonForm,
    Action.ACCEPT: NoteForm,
    Action.FEEDBACK: FeedbackForm,
    Action.VERIFY_PASS: VerifyForm,
    Action.RATE: RateForm,
    Action.MERGE: MergeForm,
}


def _perform(action: str, *, user, case: Case, data: dict) -> Case:
    """One transition from a validated form: the same service the API calls."""
    note = data.get("note", "")
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
    """POST /cases/<pk>/<action>/: one transition. Errors (including "someone else was first") come back
    as a message on the case page; nothing is written."""

    def post(self, request, pk, action):
        if action not in ACTION_FORMS:
            raise Http404
        case = get_object_or_404(Case.objects.restrict(request.user, "view"), pk=pk)
        permission = services.TRANSITION_PERMISSIONS.get(action)
        if permission and not Case.objects.restrict(request.user, permission).filter(pk=case.pk).exists():
            raise PermissionDenied(
                _("您的岗位不能对此案件执行“%(action)s”。") % {"action": Action(action).label}
            )
        form = ACTION_FORMS[action](request.POST, request.FILES, user=request.user, case=case)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return HttpResponseRedirect(case.get_absolute_url())
        try:
            _perform(action, user=request.user, case=case, data=form.cleaned_data)
        except PermissionDenied as error:
            raise PermissionDenied(str(error)) from error
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return HttpResponseRedirect(case.get_absolute_url())
        messages.success(request, _("已完成：%(action)s。") % {"action": Action(action).label})
        return HttpResponseRedirect(case.get_absolute_url())


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
    """htmx: the estates of an area, or the building groups of an estate, as <option>s."""

    template_name = "cases/_place_options.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, params = self.request.user, self.request.GET
        if params.get("estate", "").isdigit():
            options = BuildingGroup.objects.restrict(user, "view").filter(
                building__estate_id=params["estate"]
            )
            options = [
                (group.pk, f"{group.building.number} {group.name}")
                for group in options.select_related("building")
            ]
        elif params.get("unit", "").isdigit():
            options = [
                (estate.pk, estate.name)
                for estate in Estate.objects.restrict(user, "view")
                .filter(unit_id=params["unit"])
                .order_by("name")
            ]
        else:
            options = []
        context["options"] = options
        return context


class NotificationList(ScopedListView):
    model = Notification
    table_class = NotificationTable
    filterset_class = NotificationFilter
    select_related = ("case", "unit")
    title = gettext_lazy("通知")

    def get_queryset(self):
        # A user's notifications are those of the units they hold a role at (not the whole subtree).
        return (
            super().get_queryset().filter(unit__in=[m.unit_id for m in self.request.user.memberships.all()])
        )


# 约请 -------------------------------------------------------------------------------------------


class SummonsList(ScopedListView):
    model = Summons
    filterset_class = SummonsFilter
    table_class = SummonsTable
    select_related = ("street", "department")
    add_url_name = "summons-add"
    title = gettext_lazy("约请")


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
        context["cases"] = Case.objects.restrict(user, "view").filter(summonses=summons)
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
        return {"cases": self.request.GET.getlist("case")}

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
    template_name = "cases/open311client_created.html"

    def form_valid(self, form):
        client, key = services.create_open311_client(actor=self.request.user, **form.cleaned_data)
        response = render(
            self.request, self.template_name, {"client": client, "key": key, "title": _("已创建接入应用")}
        )
        response["Cache-Control"] = "no-store"
        return response


# The reporter's rating page: a link with the case's public token, no login -----------------------


class PublicRating(View):
    template_name = "cases/public_rating.html"

    def get_case(self, token):
        return get_object_or_404(Case.objects.select_related("category", "parent"), public_token=token)

    def get(self, request, token):
        case = self.get_case(token)
        return render(
            request,
            self.template_name,
            {"case": services.followed_case(case), "form": PublicRateForm(), "title": _("案件办理情况")},
        )

    def post(self, request, token):
        case = services.followed_case(self.get_case(token))
        form = PublicRateForm(request.POST)
        if form.is_valid():
            try:
                services.rate_case(
                    actor=None,
                    case=case,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                    channel="platform",
                )
                return render(
                    request, self.template_name, {"case": case, "thanks": True, "title": _("感谢评价")}
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
        return render(
            request, self.template_name, {"case": case, "form": form, "title": _("案件办理情况")}, status=400
        )
