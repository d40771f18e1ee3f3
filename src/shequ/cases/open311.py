"""Open311 GeoReport v2 (X6): outside reporting apps list the 一网统管 categories as services, file cases
and follow them, in JSON or XML, exactly as http://wiki.open311.org/GeoReport_v2 describes.

No login: reads are public, and a POST authenticates with its `api_key` (an Open311Client, stored hashed).
The same views serve the production base (/open311/v2/) and the sandbox (/open311/sandbox/v2/); the
sandbox validates and answers identically but keeps nothing (see RequestsView.post).

Privacy (PIPL). A public interface shows only what concerns public space: cases of categories of kind
部件 or 事件. Community matters (邻里纠纷, 群租, 物业服务 …) concern private households and are never
listed or readable here, whoever asks; their reporter follows progress through the case's link
(/r/<token>/). Reporter name, phone, email, device and account ids never appear in any answer; staff
notes are not published either (status_notes says where the case stands, in fixed words).

Places. Estates have no coordinates yet, so lat/long alone cannot tell which residential area a report
belongs to: a POST must also say where in words (address_string) or name an estate (address_id), and the
coordinates are stored as given. docs/open311.md explains this to client developers."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.fields import CharField
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from shequ.org.choices import UnitKind
from shequ.org.models import Unit
from shequ.registry.models import Estate

from . import services
from .choices import CategoryKind, Source, Stage
from .models import Case, Category, Open311Client, ResponsibilityRule

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this interface (its endpoints and their shapes) last changed: the discovery `changeset`.
CHANGESET = datetime.datetime(2026, 11, 29, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
# Exactly as the spec's examples give them (outside validators compare the header as a string). No
# charset parameter is needed: JSON is UTF-8 by definition (RFC 8259 §8.1) and the XML declaration says so.
CONTENT_TYPES = {"json": "application/json", "xml": "text/xml"}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# The spec's default for GET requests: "a span of 90 days or first 1000 requests, whichever is smallest".
WINDOW = datetime.timedelta(days=90)
MAX_RESULTS = 1000
# Only public-space matters are published (see the module docstring).
PUBLIC_KINDS = (CategoryKind.COMPONENT, CategoryKind.EVENT)
CLOSED_STAGES = (Stage.CLOSED, Stage.REJECTED)
# A merged case follows its parent; a parent may itself have been merged later, hence more than one hop.
MERGE_DEPTH = 2
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
DATATYPE_HINTS = {
    "string": gettext_lazy("单行文字"),
    "number": gettext_lazy("数字"),
    "datetime": gettext_lazy("日期时间（ISO 8601），如 2026-03-01T09:30:00+08:00"),
    "text": gettext_lazy("文字，可换行"),
    "singlevaluelist": gettext_lazy("从列表中选择一项"),
    "multivaluelist": gettext_lazy("从列表中选择一项或多项"),
}
STATUS_NOTES = {
    Stage.REPORTED: gettext_lazy("已受理，待立案"),
    Stage.REGISTERED: gettext_lazy("已立案，待派遣"),
    Stage.DISPATCHED: gettext_lazy("已派遣，待承办单位签收"),
    Stage.HANDLING: gettext_lazy("处置中"),
    Stage.HANDLED: gettext_lazy("已处置，待核查"),
    Stage.CLOSED: gettext_lazy("已核查结案"),
    Stage.REJECTED: gettext_lazy("不予立案"),
    Stage.MERGED: gettext_lazy("已合并"),
}
MAX_DESCRIPTION = 4000  # the spec's limit
MAX_ATTRIBUTE = 2000
AREA_SUFFIXES = ("居委会", "居民区", "村委会")
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# Fields of report_case that a client knows under another name.
PARAMETERS = {
    "reporter_phone": "phone",
    "reporter_name": "first_name/last_name",
    "category": "service_code",
    "address": "address_string",
    "latitude": "lat",
    "longitude": "long",
}
# Submission details that are not service attributes are kept under this key of Case.attributes.
EXTRA_KEY = "_open311"


class Open311Error(Exception):
    """Answered in the spec's error format: HTTP 400 (bad input), 403 (api_key) or 404 (not found)."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = [str(text) for text in descriptions]


# Rendering ------------------------------------------------------------------------------------------

# XML element name of one item of each list (the JSON side is the Spark convention: a bare array).
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
# Characters XML 1.0 cannot carry, even escaped: a description typed with one must not break the document.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            _fill(ElementTree.SubElement(element, ITEM_TAGS[element.tag]), item)
    else:
        element.text = _xml_text(value)


def render(fmt: str, root: str, payload: Any, status: int = 200) -> HttpResponse:
    """JSON as the spec shows it (bare arrays; objects for discovery and a service definition), or XML
    without a namespace, under `root`, with the declaration the spec asks for."""
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False)
    else:
        element = ElementTree.Element(root)
        _fill(element, payload)
        body = XML_DECLARATION + ElementTree.tostring(element, encoding="unicode")
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def w3(moment: datetime.datetime | None) -> str | None:
    """ISO 8601 with the offset of Asia/Shanghai: 2026-03-01T09:30:00+08:00."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


# Services -------------------------------------------------------------------------------------------


def service_categories() -> QuerySet[Category]:
    """The small classes a report can be filed under: the same list as the intake form."""
    return (
        Category.objects.filter(parent__isnull=False, is_active=True)
        .select_related("parent")
        .order_by("code")
    )


def service_data(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ", ".join([category.parent.name, str(category.get_kind_display())]),
        "group": category.parent.name,
    }


def attribute_definitions(category: Category) -> list[dict[str, Any]]:
    """Category.attributes completed to the spec's full attribute shape, in presentation order."""
    definitions = []
    for index, item in enumerate(category.attributes or [], start=1):
        if not isinstance(item, dict) or not item.get("code"):
            continue  # not an attribute: nothing a client could answer
        datatype = item.get("datatype", "string")
        definitions.append(
            {
                "variable": bool(item.get("variable", True)),
                "code": str(item["code"]),
                "datatype": datatype,
                "required": bool(item.get("required", False)),
                "datatype_description": item.get("datatype_description")
                or str(DATATYPE_HINTS.get(datatype, "")),
                "order": int(item.get("order", index)),
                "description": item.get("description", ""),
                "values": [
                    {"key": str(value["key"]), "name": value.get("name", str(value["key"]))}
                    for value in item.get("values", [])
                ],
            }
        )
    return sorted(definitions, key=lambda definition: definition["order"])


def service_notice(category: Category, rule: ResponsibilityRule | None, unit: Unit) -> str:
    """What will happen to a report of this category at this place, from the responsibility list."""
    if category.kind == CategoryKind.COMMUNITY:
        return _("社区事项涉及居民个人信息，不在公开接口中显示；反映人可通过办理进度链接查看。")
    responsible = services.responsible_unit(rule, unit) if rule else None
    if responsible is None:
        return _("由所在街道城运中心立案后派遣处置。")
    return _("按职责清单由%(unit)s处置，处置时限为派遣后%(limit)s%(unit_of_time)s。") % {
        "unit": responsible.name,
        "limit": rule.handle_limit,
        "unit_of_time": rule.get_handle_unit_display(),
    }


def get_service(code: str) -> Category:
    category = service_categories().filter(code=code).first()
    if category is None:
        raise Open311Error(404, _("service_code“%(code)s”不存在。") % {"code": code})
    return category


# Requests -------------------------------------------------------------------------------------------


def public_cases() -> QuerySet[Case]:
    """Every case the public interface may show: public-space matters only (PIPL; see the module
    docstring). With what rendering one needs, in one query."""
    return Case.objects.filter(category__kind__in=PUBLIC_KINDS).select_related(
        "category",
        "unit__parent",
        "estate",
        "assignee",
        "rule__responsible_unit",
        "parent__assignee",
        "parent__parent__assignee",
    )


def closed_q(prefix: str = "", depth: int = MERGE_DEPTH) -> Q:
    """Closed: 结案 or 不予立案, or merged into a case that is closed (followed up to `depth` hops)."""
    query = Q(**{f"{prefix}stage__in": CLOSED_STAGES})
    if depth:
        query |= Q(**{f"{prefix}stage": Stage.MERGED}) & closed_q(f"{prefix}parent__", depth - 1)
    return query


def followed(case: Case) -> Case:
    """The case whose progress this one reports: itself, or the case it was merged into (as closed_q)."""
    current = case
    for _hop in range(MERGE_DEPTH):
        if current.stage != Stage.MERGED or not current.parent_id:
            break
        current = current.parent
    return current


def _address(case: Case) -> str:
    """From the most specific to the most general unit, as the spec asks."""
    parts = [case.address.strip()] if case.address.strip() else []
    if case.estate_id and case.estate.name not in case.address:
        parts.append(case.estate.name)
    for unit in (case.unit, case.unit.parent):
        if unit is not None and unit.kind != UnitKind.DISTRICT:
            parts.append(unit.name)
    return ", ".join(parts)


def request_data(case: Case) -> dict[str, Any]:
    """One service request as the spec shows it. Nothing of the reporter, nothing staff wrote."""
    current = followed(case)
    closed = current.stage in CLOSED_STAGES
    if current.pk != case.pk:
        notes = _("已合并至 %(code)s：%(stage)s") % {
            "code": current.code,
            "stage": STATUS_NOTES[current.stage],
        }
    else:
        notes = str(STATUS_NOTES[case.stage])
    extra = (case.attributes or {}).get(EXTRA_KEY) or {}
    return {
        "service_request_id": case.code,
        "status": "closed" if closed else "open",
        "status_notes": notes,
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": current.assignee.name if current.assignee_id else None,
        "service_notice": service_notice(case.category, case.rule, case.unit),
        "requested_datetime": w3(case.reported_at),
        # "For requests with status=closed, this will be the date the request was closed."
        "updated_datetime": w3(
            current.closed_at if closed and current.closed_at else max(case.updated_at, current.updated_at)
        ),
        "expected_datetime": w3(current.handle_deadline),
        "address": _address(case),
        "address_id": str(case.estate_id) if case.estate_id else None,
        "zipcode": None,
        "lat": float(case.latitude) if case.latitude is not None else None,
        "long": float(case.longitude) if case.longitude is not None else None,
        "media_url": extra.get("media_url"),
    }


def parse_moment(value: str, name: str) -> datetime.datetime:
    """A w3 date-time; a date alone means that whole day, a time without offset is Shanghai time."""
    # An unencoded "+08:00" in a query string arrives as " 08:00".
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        # A date alone first: parse_datetime would read "2026-03-01" as its midnight.
        day = parse_date(text) if DATE_ONLY.match(text) else None
        moment = None if day else parse_datetime(text)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise Open311Error(
            400, _("%(name)s 格式不正确，应为 ISO 8601，如 2026-03-01T09:30:00+08:00。") % {"name": name}
        )
    if moment is None:
        moment = datetime.datetime.combine(
            day, datetime.time.max if name == "end_date" else datetime.time.min
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def search_requests(params) -> list[Case]:
    """GET requests: the spec's filters and its default volume (the last 90 days, at most 1000)."""
    cases = public_cases()
    if ids := _comma_list(params.get("service_request_id", "")):
        # "This overrides all other arguments."
        return list(cases.filter(code__in=ids[:MAX_RESULTS]))
    if codes := _comma_list(params.get("service_code", "")):
        cases = cases.filter(category__code__in=codes[:MAX_RESULTS])
    start = parse_moment(params["start_date"], "start_date") if params.get("start_date", "").strip() else None
    end = parse_moment(params["end_date"], "end_date") if params.get("end_date", "").strip() else None
    if start is None and end is None:
        end = timezone.now()
    try:
        start = start or end - WINDOW
        end = end or start + WINDOW
    except OverflowError:
        raise Open311Error(400, _("start_date 或 end_date 超出范围。")) from None
    if end < start:
        raise Open311Error(400, _("end_date 不能早于 start_date。"))
    if end - start > WINDOW + datetime.timedelta(days=1):  # a whole end day given as a date is allowed
        raise Open311Error(400, _("查询时间范围不能超过90天。"))
    cases = cases.filter(reported_at__gte=start, reported_at__lte=end)
    statuses = set(_comma_list(params.get("status", "")))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status 只能是 open 或 closed。"))
    if statuses == {"closed"}:
        cases = cases.filter(closed_q())
    elif statuses == {"open"}:
        cases = cases.exclude(closed_q())
    return list(cases.order_by("-reported_at", "-id")[:MAX_RESULTS])


# Places ---------------------------------------------------------------------------------------------


def _area_stem(name: str) -> str:
    for suffix in AREA_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def _areas_named_in(text: str) -> list[Unit]:
    areas = Unit.objects.filter(kind=UnitKind.NEIGHBORHOOD, is_active=True).select_related("parent")
    found = []
    for area in areas:
        stem = _area_stem(area.name)
        if area.name in text or text == stem or any(stem + suffix in text for suffix in AREA_SUFFIXES):
            found.append(area)
    return found


def resolve_place(address_string: str, address_id: str) -> tuple[Unit, Estate | None]:
    """The residential area (and estate, when one is named) of a report.

    address_id is an estate's number. address_string is matched case-insensitively against estates both
    ways: an estate whose name or address appears in it ("新安花园3号楼门口"), else one whose name or
    address contains it ("新安花"). A residential area named in it narrows the estates, or is the place
    itself when no estate matches. Ambiguity is an error, not a guess: a case filed under the wrong
    street is dispatched by the wrong 城运中心."""
    if address_id:
        estate = (
            Estate.objects.select_related("unit").filter(pk=int(address_id)).first()
            if address_id.isascii() and address_id.isdigit() and len(address_id) < 19  # a bigint
            else None
        )
        if estate is None:
            raise Open311Error(400, _("address_id“%(id)s”不是本区的小区编号。") % {"id": address_id})
        return estate.unit, estate
    text = address_string.strip()
    folded = text.casefold()
    areas = _areas_named_in(text)
    haystack = Value(text, output_field=CharField())
    candidates = list(
        Estate.objects.annotate(haystack=haystack)
        .filter(
            Q(haystack__icontains=F("name"))
            | (Q(haystack__icontains=F("address")) & ~Q(address=""))
            | Q(name__icontains=text)
            | Q(address__icontains=text)
        )
        .select_related("unit")[:50]
    )
    if areas:
        candidates = [estate for estate in candidates if estate.unit in areas] or candidates

    def named_length(estate: Estate) -> int:
        keys = [key.casefold() for key in (estate.name, estate.address) if key]
        return max((len(key) for key in keys if key in folded), default=0)

    contained = [estate for estate in candidates if named_length(estate)]
    if contained:
        longest = max(named_length(estate) for estate in contained)
        best = [estate for estate in contained if named_length(estate) == longest]
    else:
        best = candidates
    if len(best) == 1:
        return best[0].unit, best[0]
    places = {estate.unit_id: estate.unit for estate in best} or {area.pk: area for area in areas}
    if len(places) == 1:
        return next(iter(places.values())), None
    if places:
        raise Open311Error(
            400,
            _("address_string“%(text)s”可能指多个居民区（%(names)s），请写明小区或居委会名称。")
            % {"text": text, "names": "、".join(sorted(unit.name for unit in places.values())[:5])},
        )
    raise Open311Error(
        400,
        _("无法根据 address_string“%(text)s”确定所在居民区：请写明小区名称或居委会名称。") % {"text": text},
    )


def _coordinate(value: str, name: str, limit: int) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or abs(number) > limit:
        raise Open311Error(400, _("%(name)s 不是有效的 WGS84 坐标。") % {"name": name})
    return number.quantize(Decimal("0.000001"))


# Attributes -----------------------------------------------------------------------------------------


def _attribute_value(definition: dict[str, Any], values: list[str]) -> Any:
    """One answer, checked against its datatype; None when not answered."""
    values = [value.strip() for value in values if value.strip()]
    if not values:
        return None
    code, datatype = definition["code"], definition["datatype"]
    keys = {value["key"] for value in definition["values"]}

    def invalid(message: str) -> Open311Error:
        return Open311Error(
            400,
            _("附加字段 %(code)s（%(description)s）：%(message)s")
            % {"code": code, "description": definition["description"], "message": message},
        )

    if datatype == "multivaluelist":
        if set(values) - keys:
            raise invalid(_("取值须为 %(keys)s 之一。") % {"keys": "、".join(sorted(keys))})
        return values
    value = values[-1]
    if datatype == "singlevaluelist":
        if value not in keys:
            raise invalid(_("取值须为 %(keys)s 之一。") % {"keys": "、".join(sorted(keys))})
        return value
    if datatype == "number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) >= 10**15:
            raise invalid(_("应为数字。"))
        return int(number) if number == number.to_integral_value() else float(number)
    if datatype == "datetime":
        return w3(parse_moment(value, f"attribute[{code}]"))
    if len(value) > MAX_ATTRIBUTE:
        raise invalid(_("不能超过%(n)s个字。") % {"n": MAX_ATTRIBUTE})
    return value


def parse_attributes(category: Category, data) -> dict[str, Any]:
    """attribute[code]=value and attribute[code][]=value (multivaluelist) for the service's variable
    attributes; codes the service does not define are ignored."""
    given: dict[str, list[str]] = {}
    for field, values in data.lists():
        if match := ATTRIBUTE_FIELD.match(field):
            given.setdefault(match.group(1), []).extend(values)
    answers: dict[str, Any] = {}
    missing = []
    for definition in attribute_definitions(category):
        if not definition["variable"]:
            continue
        value = _attribute_value(definition, given.get(definition["code"], []))
        if value is not None:
            answers[definition["code"]] = value
        elif definition["required"]:
            missing.append(
                _("缺少必填附加字段 %(code)s（%(description)s）。")
                % {"code": definition["code"], "description": definition["description"]}
            )
    if missing:
        raise Open311Error(400, *missing)
    return answers


def reporter_name(first: str, last: str) -> str:
    """Chinese names are written family name first and without a space (张 + 三 = 张三)."""
    first, last = first.strip(), last.strip()
    if re.search(r"[\u3400-\u9fff]", first + last):
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)


# Views ----------------------------------------------------------------------------------------------


@method_decorator(csrf_exempt, name="dispatch")  # outside apps authenticate with api_key, not a session
class Open311View(View):
    """Checks jurisdiction_id, renders the handler's payload in the requested format, and answers every
    failure in the spec's error format. Handlers return (root element, payload)."""

    http_method_names = ["get", "head"]

    def dispatch(self, request, *args, fmt: str, sandbox: bool = False, **kwargs):
        self.fmt, self.sandbox = fmt, sandbox
        try:
            # PostgreSQL refuses NUL in a text parameter: refuse it here, as bad input, not as a 500.
            given = [*kwargs.values(), *request.GET.values(), *request.POST.values()]
            if any("\x00" in str(value) for value in given):
                raise Open311Error(400, _("参数中含有无效字符。"))
            jurisdiction = (
                request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or ""
            ).strip()
            if jurisdiction and jurisdiction != settings.DISTRICT_CODE:
                raise Open311Error(
                    404,
                    _("jurisdiction_id“%(id)s”不存在：本接口的 jurisdiction_id 为 %(code)s。")
                    % {"id": jurisdiction, "code": settings.DISTRICT_CODE},
                )
            root, payload = super().dispatch(request, *args, **kwargs)
        except Open311Error as error:
            response = self.errors(error.status, error.descriptions)
            if error.status == 405:
                response["Allow"] = ", ".join(name.upper() for name in self.http_method_names)
            return response
        except ValidationError as error:
            return self.errors(400, _validation_messages(error))
        return render(fmt, root, payload)

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise Open311Error(405, _("不支持 %(method)s 请求。") % {"method": request.method})

    def errors(self, status: int, descriptions: list[str]) -> HttpResponse:
        return render(
            self.fmt, "errors", [{"code": status, "description": text} for text in descriptions], status
        )

    def base_url(self, namespace: str) -> str:
        """The absolute URL of an endpoint base, without a trailing slash."""
        path = reverse(f"{namespace}:discovery", kwargs={"fmt": "xml"}).removesuffix("/discovery.xml")
        return self.request.build_absolute_uri(path)


def _validation_messages(error: ValidationError) -> list[str]:
    """A service's field errors, named by the parameter the client sent."""
    if hasattr(error, "error_dict"):
        return [
            message if field == "__all__" else f"{PARAMETERS.get(field, field)}：{message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


class DiscoveryView(Open311View):
    def get(self, request):
        endpoints = [
            {
                "specification": SPECIFICATION,
                "url": self.base_url(namespace),
                "changeset": w3(CHANGESET),
                "type": kind,
                "formats": ["text/xml", "application/json"],
            }
            for namespace, kind in (("open311", "production"), ("open311-sandbox", "test"))
        ]
        return "discovery", {
            "changeset": w3(CHANGESET),
            "contact": _("静安区社区治理平台 · 区地区办（一网统管）。接入和故障请联系区系统管理员。"),
            "key_service": _(
                "api_key 由区系统管理员在平台“Open311 接入应用”页面（%(url)s）创建，只显示一次。"
            )
            % {"url": request.build_absolute_uri(reverse("open311client-list"))},
            "endpoints": endpoints,
        }


class ServiceListView(Open311View):
    def get(self, request):
        return "services", [service_data(category) for category in service_categories()]


class ServiceDefinitionView(Open311View):
    def get(self, request, service_code: str):
        category = get_service(service_code)
        return "service_definition", {
            "service_code": category.code,
            "attributes": attribute_definitions(category),
        }


class RequestsView(Open311View):
    http_method_names = ["get", "head", "post"]

    def get(self, request):
        return "service_requests", [request_data(case) for case in search_requests(request.GET)]

    def post(self, request):
        data = request.POST
        client = self.client(data.get("api_key") or request.GET.get("api_key") or "")
        service_code = data.get("service_code", "").strip()
        if not service_code:
            raise Open311Error(400, _("缺少 service_code。"))
        category = get_service(service_code)
        description = data.get("description", "").strip()
        if len(description) > MAX_DESCRIPTION:
            raise Open311Error(400, _("description 不能超过4000个字。"))
        fields = self.place(data)
        attributes = parse_attributes(category, data)
        if media_url := data.get("media_url", "").strip():
            try:
                URLValidator(schemes=["http", "https"])(media_url)
            except ValidationError:
                raise Open311Error(400, _("media_url 不是有效的网址。")) from None
            # Kept as a link only: fetching outside URLs from the server is not something to do on request.
            attributes[EXTRA_KEY] = {"media_url": media_url[:500]}
        # email, device_id and account_id are not kept (PIPL: collect no more than the case needs; the
        # phone number is the contact channel, stored encrypted). account_id is echoed back, as the spec shows.
        report = {
            "actor": None,
            "source": Source.RESIDENT,
            "category": category,
            "description": description,
            "open311_client": client,
            "attributes": attributes,
            "reporter_name": reporter_name(data.get("first_name", ""), data.get("last_name", "")),
            "reporter_phone": data.get("phone", "").strip(),
            **fields,
        }
        account_id = data.get("account_id", "").strip() or None
        if self.sandbox:
            # The same code as production, in a transaction that is always rolled back.
            with transaction.atomic():
                case = services.report_case(**report)
                notice = service_notice(category, case.rule, case.unit)
                transaction.set_rollback(True)
            answer = {
                "service_request_id": f"SANDBOX-{case.code}",
                "token": f"sandbox-{case.public_token}",
                "service_notice": _("沙箱测试：未保存。") + notice,
                "account_id": account_id,
            }
            return "service_requests", [answer]
        case = services.report_case(**report)
        progress = request.build_absolute_uri(reverse("case-track", args=[case.public_token]))
        notice = service_notice(category, case.rule, case.unit) + _("办理进度：%(url)s") % {"url": progress}
        return "service_requests", [
            {
                "service_request_id": case.code,
                "token": case.public_token,
                "service_notice": notice,
                "account_id": account_id,
            }
        ]

    @staticmethod
    def client(key: str) -> Open311Client:
        if not key.strip():
            raise Open311Error(403, _("缺少 api_key，无法提交。"))
        client = services.client_for_key(key.strip())
        if client is None:
            raise Open311Error(403, _("api_key 无效或已停用，无法提交。"))
        return client

    @staticmethod
    def place(data) -> dict[str, Any]:
        """report_case's place fields from the spec's location parameters."""
        lat, long = data.get("lat", "").strip(), data.get("long", "").strip()
        address_string = data.get("address_string", "").strip()
        address_id = data.get("address_id", "").strip()
        if bool(lat) != bool(long):
            raise Open311Error(400, _("lat 和 long 须同时提供。"))
        if not (lat or address_string or address_id):
            raise Open311Error(
                400, _("缺少位置：请提供 address_string、address_id，或 lat/long 加 address_string。")
            )
        if lat and not (address_string or address_id):
            # Estates have no coordinates yet: a point alone cannot be placed in a residential area.
            raise Open311Error(400, _("需要 address_string 以确定所在居民区"))
        if len(address_string) > 200:
            raise Open311Error(400, _("address_string 不能超过200个字。"))
        unit, estate = resolve_place(address_string, address_id)
        return {
            "unit": unit,
            "estate": estate,
            "address": address_string,
            "latitude": _coordinate(lat, "lat", 90) if lat else None,
            "longitude": _coordinate(long, "long", 180) if long else None,
        }


class RequestDetailView(Open311View):
    def get(self, request, service_request_id: str):
        case = public_cases().filter(code=service_request_id).first()
        if case is None:
            raise Open311Error(404, _("service_request_id“%(id)s”不存在。") % {"id": service_request_id})
        return "service_requests", [request_data(case)]


class TokenView(Open311View):
    def get(self, request, token: str):
        # The same public rule as requests/{id}: a token of a community matter leads nowhere here.
        code = public_cases().filter(public_token=token).values_list("code", flat=True).first()
        if code is None:
            raise Open311Error(404, _("token 不存在。"))
        return "service_requests", [{"service_request_id": code, "token": token}]
