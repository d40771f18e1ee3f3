"""Pages for residents without an account: report a problem from a phone, follow it by its link, rate it.

Nothing here needs a login. A report becomes a case through the same service as staff intake
(services.report_case, with no actor: the case's timeline and audit entry name no person), so the
responsibility list, time limits and audit apply as to any case. The tracking link carries the case's
public token (24 random bytes); the page shows what a reporter may know — the description they wrote, the
stage, the time limit, the public steps of the timeline — and never staff names, notes or personal data.

Abuse control without outside services (settings.PUBLIC_REPORT_*): reports are counted per client address
in the cache; after a few the form asks for a captcha drawn offline (django-simple-captcha, Pillow), and
past the limit it refuses with 429 until the window has passed.

Places. Estates in the registry have no coordinates yet, so "use my location" keeps the phone's position
with the case (shown to the reporter as numbers) and the reporter still picks the estate or residential
area by searching the registry; no map tiles are fetched from anywhere."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from shequ.org.choices import UnitKind
from shequ.org.models import Unit
from shequ.registry import tree
from shequ.registry.models import Estate

from . import services
from .attachments import reporter_photos
from .choices import Action, Rating, Source, Stage
from .district_map import district_map, pin
from .forms import PublicRateForm, PublicReportForm
from .models import Case

# The steps of a case a reporter sees, in the words of the timeline; internal steps (warnings, summons,
# supervision, returns between units, notes) are left out, and no event's actor or note is shown.
PUBLIC_ACTIONS = {
    Action.REPORT: gettext_lazy("已受理"),
    Action.REGISTER: gettext_lazy("已立案"),
    Action.REJECT: gettext_lazy("不予立案"),
    Action.DISPATCH: gettext_lazy("已派给承办单位"),
    Action.ACCEPT: gettext_lazy("承办单位开始处置"),
    Action.FEEDBACK: gettext_lazy("处置完毕，待核查"),
    Action.VERIFY_PASS: gettext_lazy("核查通过"),
    Action.VERIFY_FAIL: gettext_lazy("核查未通过，重新处置"),
    Action.CLOSE: gettext_lazy("已结案"),
    Action.RATE: gettext_lazy("您已评价"),
    Action.REOPEN: gettext_lazy("根据您的评价重新处置"),
    Action.MERGE: gettext_lazy("与同一问题的其他反映合并办理"),
}
PLACE_RESULTS = 20


# Abuse control -------------------------------------------------------------------------------------


def client_address(request) -> str:
    """The same address rule as the login lockout (settings.PROXY_COUNT)."""
    return settings.AXES_CLIENT_IP_CALLABLE(request) or "unknown"


def _count_key(kind: str, request) -> str:
    return f"shequ:public:{kind}:{client_address(request)}"


def reports_from(request) -> int:
    return cache.get(_count_key("report", request), 0)


def count_report(request) -> None:
    key = _count_key("report", request)
    # add() starts the window with the first report; incr() keeps its expiry.
    if not cache.add(key, 1, settings.PUBLIC_REPORT_WINDOW):
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, settings.PUBLIC_REPORT_WINDOW)


def lookups_exceeded(request) -> bool:
    key = _count_key("lookup", request)
    if cache.add(key, 1, 60):
        return False
    try:
        return cache.incr(key) > settings.PUBLIC_LOOKUP_LIMIT
    except ValueError:
        return False


def too_many(request, message: str):
    response = render(
        request, "cases/public_limit.html", {"title": _("请稍后再试"), "message": message}, status=429
    )
    response["Retry-After"] = str(settings.PUBLIC_REPORT_WINDOW)
    return response


# The home page: staff see their own, everyone else the report page ----------------------------------


def home(request, *args, **kwargs):
    if request.user.is_authenticated:
        return tree.HomeView.as_view()(request, *args, **kwargs)
    return redirect("public-report")


# Reporting --------------------------------------------------------------------------------------------


def place_label(value: str) -> str | None:
    """The words for a place choice (`e<id>` / `u<id>`), to show it again after an error."""
    kind, pk = value[:1], value[1:]
    if not pk.isdigit():
        return None
    if kind == "e":
        estate = Estate.objects.filter(pk=pk).select_related("unit").first()
        return f"{estate.name} · {estate.unit.name}" if estate else None
    if kind == "u":
        unit = Unit.objects.filter(pk=pk, kind=UnitKind.NEIGHBORHOOD).first()
        return _("%(name)s（整个居民区）") % {"name": unit.name} if unit else None
    return None


class PublicReport(View):
    template_name = "cases/public_report.html"

    def needs_captcha(self, request) -> bool:
        return reports_from(request) >= settings.PUBLIC_REPORT_CAPTCHA_AFTER

    def page(self, request, form, status: int = 200):
        chosen = form.data.get("place", "") if form.is_bound else ""
        label = place_label(chosen) if chosen else None
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "title": _("反映问题"),
                "chosen": (chosen, label) if label else None,
                "map": district_map(),
                "pin": pin(form["latitude"].value(), form["longitude"].value()),
            },
            status=status,
        )

    def get(self, request):
        return self.page(request, PublicReportForm(captcha=self.needs_captcha(request)))

    def post(self, request):
        if reports_from(request) >= settings.PUBLIC_REPORT_LIMIT:
            return too_many(request, _("这个网络地址近期提交的反映较多，请一小时后再试，或拨打 12345 热线。"))
        form = PublicReportForm(request.POST, request.FILES, captcha=self.needs_captcha(request))
        if not form.is_valid():
            return self.page(request, form)
        data = form.cleaned_data
        try:
            case = services.report_case(
                actor=None,
                source=Source.RESIDENT,
                category=data["category"],
                description=data["description"],
                address=data["address"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                reporter_name=data["reporter_name"],
                reporter_phone=data["reporter_phone"].strip(),
                attachments=data["photos"],
                **data["place"],
            )
        except ValidationError as error:
            fields = {"attachments": "photos", "unit": "place", "estate": "place", "longitude": "latitude"}
            if hasattr(error, "error_dict"):
                for field, errors in error.message_dict.items():
                    field = fields.get(field, field)
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error.messages)
            return self.page(request, form)
        count_report(request)
        return redirect("public-report-sent", token=case.public_token)


class PublicPlaces(View):
    """htmx: estates and residential areas whose name (or an estate's address) contains the words typed.
    Place names are public; nothing else of the registry is shown."""

    def get(self, request):
        if lookups_exceeded(request):
            return too_many(request, _("查询过于频繁，请稍后再试。"))
        words = request.GET.get("q", "").strip()[:40]
        places = []
        if words:
            estates = (
                Estate.objects.filter(Q(name__icontains=words) | Q(address__icontains=words))
                .select_related("unit")
                .order_by("name")[:PLACE_RESULTS]
            )
            places += [
                (f"e{e.pk}", e.name, f"{e.unit.name}{' · ' + e.address if e.address else ''}")
                for e in estates
            ]
            areas = Unit.objects.filter(kind=UnitKind.NEIGHBORHOOD, is_active=True, name__icontains=words)
            places += [
                (f"u{unit.pk}", unit.name, _("整个居民区"))
                for unit in areas.order_by("name")[: PLACE_RESULTS // 2]
            ]
        return render(request, "cases/_public_places.html", {"places": places, "words": words})


def _case_for_token(token: str) -> Case:
    return get_object_or_404(Case.objects.select_related("category__parent", "parent"), public_token=token)


def tracking_url(request, case: Case) -> str:
    return request.build_absolute_uri(reverse("case-track", args=[case.public_token]))


class PublicReportSent(View):
    def get(self, request, token):
        case = _case_for_token(token)
        return render(
            request,
            "cases/public_report_sent.html",
            {"case": case, "link": tracking_url(request, case), "title": _("反映已提交")},
        )


# Following and rating -----------------------------------------------------------------------------------


def public_timeline(case: Case) -> list[tuple[object, str]]:
    events = case.events.filter(action__in=list(PUBLIC_ACTIONS)).only("action", "created_at")
    return [(event.created_at, PUBLIC_ACTIONS[event.action]) for event in events]


def time_limit(case: Case):
    """The deadline a reporter can hold the platform to: handling once dispatched, else the stage's."""
    if not case.is_open:
        return None
    if case.stage in (Stage.DISPATCHED, Stage.HANDLING) and case.handle_deadline:
        return case.handle_deadline
    return case.stage_deadline


class PublicTracking(View):
    template_name = "cases/public_tracking.html"

    def page(self, request, case: Case, form=None, status: int = 200):
        followed = services.followed_case(case)
        can_rate = followed.stage == Stage.CLOSED and not followed.rating
        return render(
            request,
            self.template_name,
            {
                "case": case,
                "followed": followed,
                "merged": followed.pk != case.pk,
                "time_limit": time_limit(followed),
                "timeline": public_timeline(followed),
                "photos": reporter_photos(case),
                "token": case.public_token,
                "form": (form or PublicRateForm()) if can_rate else None,
                "ratings": Rating.choices,
                "title": _("办理进度"),
            },
            status=status,
        )

    def get(self, request, token):
        return self.page(request, _case_for_token(token))

    def post(self, request, token):
        case = _case_for_token(token)
        followed = services.followed_case(case)
        form = PublicRateForm(request.POST)
        if not form.is_valid():
            return self.page(request, case, form)
        try:
            rated = services.rate_case(
                actor=None,
                case=followed,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                channel="platform",
            )
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
            return redirect("case-track", token=token)
        if rated.stage == Stage.CLOSED:
            messages.success(request, _("感谢您的评价。"))
        else:
            messages.success(request, _("感谢您的评价。您的问题已重新交承办单位处理，处理后会再请您评价。"))
        return redirect("case-track", token=token)
