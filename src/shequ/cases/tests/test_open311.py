"""Open311 GeoReport v2 (X6): every endpoint in both formats, its errors, the privacy rule and the sandbox."""

import datetime
import json
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shequ.cases import open311, services
from shequ.cases.choices import Source, Stage
from shequ.cases.models import Case, CaseSequence, Category, Open311Client
from shequ.cases.seed import load_categories, load_rules
from shequ.core.models import AuditEntry

FORMATS = ["json", "xml"]
PRODUCTION, SANDBOX = "open311", "open311-sandbox"


@pytest.fixture
def setup(world):
    categories = load_categories()
    load_rules(categories)
    app, key = services.create_open311_client(actor=None, name="随申办市民云", contact="测试")
    return {"world": world, "categories": categories, "app": app, "key": key}


def url(name: str, fmt: str, namespace: str = PRODUCTION, **kwargs) -> str:
    return reverse(f"{namespace}:{name}", kwargs={"fmt": fmt, **kwargs})


def parse(response, fmt: str):
    """The body as data, after checking the spec's content type; XML must be namespace-free and declared."""
    assert response["Content-Type"] == {"json": "application/json", "xml": "text/xml"}[fmt]
    body = response.content.decode("utf-8")
    if fmt == "json":
        return json.loads(body)
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ElementTree.fromstring(response.content)
    assert "xmlns" not in body
    assert all("{" not in element.tag for element in root.iter())
    return root


def error_of(response, fmt: str) -> tuple[int, str]:
    data = parse(response, fmt)
    if fmt == "json":
        assert isinstance(data, list)
        return data[0]["code"], data[0]["description"]
    assert data.tag == "errors" and data[0].tag == "error"
    return int(data.find("error/code").text), data.find("error/description").text


def report(
    setup, code: str = "E0101", *, side: str = "jn", now=None, source=Source.HOTLINE, **fields
) -> Case:
    world = setup["world"]
    places = getattr(world, side)
    return services.report_case(
        actor=None,
        source=source,
        category=setup["categories"][code],
        description=fields.pop("description", "路边暴露垃圾"),
        unit=places.area,
        estate=places.estate,
        reporter_name="张三",
        reporter_phone="13800138000",
        now=now,
        **fields,
    )


def close(case: Case) -> Case:
    case = services.register_case(actor=None, case=case)
    case = services.dispatch_case(actor=None, case=case, assignee=services.propose_assignee(case))
    case = services.accept_case(actor=None, case=case)
    case = services.feedback_case(actor=None, case=case, result="已清运")
    return services.verify_case(actor=None, case=case, passed=True)


def post_data(setup, **overrides) -> dict:
    data = {
        "api_key": setup["key"],
        "service_code": "E0402",
        "address_string": "新安花园3号楼门口",
        "description": "水管破裂，水往外冒",
        "attribute[still_flowing]": "yes",
        "first_name": "三",
        "last_name": "张",
        "phone": "13800138000",
        "email": "zhang@example.com",
        "account_id": "u-42",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# Content types -------------------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", [PRODUCTION, SANDBOX])
def test_every_answer_has_the_spec_content_type_exactly(setup, client, namespace):
    """GeoReport v2's examples give `application/json` and `text/xml` with no parameter, and outside
    validators compare the header as a string: answers and errors alike, for every method."""
    case = close(report(setup, "E0101"))
    expected = {"json": "application/json", "xml": "text/xml"}
    for fmt in FORMATS:
        answers = [
            client.get(url("discovery", fmt, namespace)),
            client.get(url("services", fmt, namespace)),
            client.get(url("service-definition", fmt, namespace, service_code="E0402")),
            client.get(url("service-definition", fmt, namespace, service_code="NOPE")),
            client.get(url("requests", fmt, namespace)),
            client.get(url("requests", fmt, namespace) + "?status=maybe"),
            client.get(url("request-detail", fmt, namespace, service_request_id=case.code)),
            client.get(url("token", fmt, namespace, token=case.public_token)),
            client.post(url("requests", fmt, namespace), post_data(setup)),
            client.post(url("requests", fmt, namespace), post_data(setup, api_key="wrong")),
            client.delete(url("requests", fmt, namespace)),
        ]
        assert [answer.status_code for answer in answers] == [
            200,
            200,
            200,
            404,
            200,
            400,
            200,
            200,
            200,
            403,
            405,
        ]
        assert {answer["Content-Type"] for answer in answers} == {expected[fmt]}


# Discovery ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_lists_production_and_sandbox(setup, client, fmt):
    data = parse(client.get(url("discovery", fmt)), fmt)
    if fmt == "xml":
        assert data.tag == "discovery"
        endpoints = [
            {
                "url": e.findtext("url"),
                "type": e.findtext("type"),
                "spec": e.findtext("specification"),
                "changeset": e.findtext("changeset"),
                "formats": [f.text for f in e.findall("formats/format")],
            }
            for e in data.findall("endpoints/endpoint")
        ]
        changeset, key_service = data.findtext("changeset"), data.findtext("key_service")
        assert data.findtext("contact")
    else:
        endpoints = [
            {
                "url": e["url"],
                "type": e["type"],
                "spec": e["specification"],
                "changeset": e["changeset"],
                "formats": e["formats"],
            }
            for e in data["endpoints"]
        ]
        changeset, key_service = data["changeset"], data["key_service"]
        assert data["contact"]
    assert changeset.endswith("+08:00") and datetime.datetime.fromisoformat(changeset).tzinfo
    assert "/open311-clients/" in key_service
    assert [(e["url"], e["type"]) for e in endpoints] == [
        ("http://testserver/open311/v2", "production"),
        ("http://testserver/open311/sandbox/v2", "test"),
    ]
    for endpoint in endpoints:
        assert endpoint["spec"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["formats"] == ["text/xml", "application/json"]
        assert endpoint["changeset"] == changeset


# Services -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_active_small_classes(setup, client, fmt):
    services.update_category(actor=None, category=setup["categories"]["E0503"], changes={"is_active": False})
    data = parse(client.get(url("services", fmt)), fmt)
    if fmt == "xml":
        assert data.tag == "services"
        rows = [{child.tag: child.text for child in service} for service in data.findall("service")]
    else:
        rows = data
    by_code = {row["service_code"]: row for row in rows}
    expected = set(
        Category.objects.filter(parent__isnull=False, is_active=True).values_list("code", flat=True)
    )
    assert set(by_code) == expected
    assert "E05" not in by_code and "E0503" not in by_code  # big classes and inactive ones are not services
    pipe = by_code["E0402"]
    assert list(pipe) == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert pipe["service_name"] == "管道破裂" and pipe["group"] == "突发事件" and pipe["type"] == "realtime"
    assert "突发事件" in pipe["keywords"]
    assert pipe["metadata"] in (True, "true")
    assert by_code["E0101"]["metadata"] in (False, "false")
    assert all(isinstance(row["service_code"], str) for row in rows)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_gives_its_attributes(setup, client, fmt):
    data = parse(client.get(url("service-definition", fmt, service_code="E0402")), fmt)
    if fmt == "json":
        assert data["service_code"] == "E0402"
        [attribute] = data["attributes"]
        assert attribute == {
            "variable": True,
            "code": "still_flowing",
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": "从列表中选择一项",
            "order": 1,
            "description": "是否仍在漏水",
            "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}],
        }
    else:
        assert data.tag == "service_definition" and data.findtext("service_code") == "E0402"
        [attribute] = data.findall("attributes/attribute")
        assert [child.tag for child in attribute] == [
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values",
        ]
        assert attribute.findtext("variable") == "true" and attribute.findtext("required") == "true"
        assert attribute.findtext("datatype") == "singlevaluelist" and attribute.findtext("order") == "1"
        assert [(v.findtext("key"), v.findtext("name")) for v in attribute.findall("values/value")] == [
            ("yes", "是"),
            ("no", "否"),
        ]


def test_a_service_without_attributes_has_an_empty_definition(setup, client):
    data = parse(client.get(url("service-definition", "json", service_code="E0101")), "json")
    assert data == {"service_code": "E0101", "attributes": []}


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_service_code_is_404(setup, client, fmt):
    response = client.get(url("service-definition", fmt, service_code="NOPE"))
    assert response.status_code == 404
    assert error_of(response, fmt) == (404, "service_code“NOPE”不存在。")


# GET requests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_show_the_spec_fields_and_nothing_of_the_reporter(setup, client, fmt):
    case = report(setup, "E0402", address="新安路1弄口", latitude="31.229100", longitude="121.446000")
    response = client.get(url("requests", fmt))
    data = parse(response, fmt)
    fields = [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    if fmt == "xml":
        assert data.tag == "service_requests"
        [element] = data.findall("request")
        assert [child.tag for child in element] == fields
        row = {child.tag: child.text for child in element}
    else:
        [row] = data
        assert list(row) == fields
        assert row["lat"] == 31.2291 and row["long"] == 121.446
    assert row["service_request_id"] == case.code
    assert row["status"] == "open" and row["status_notes"] == "已受理，待立案"
    assert row["service_code"] == "E0402" and row["service_name"] == "管道破裂"
    assert row["description"] == "路边暴露垃圾"
    assert row["requested_datetime"] == timezone.localtime(case.reported_at).isoformat(timespec="seconds")
    assert row["requested_datetime"].endswith("+08:00")
    assert row["address"] == "新安路1弄口, 新安花园, 新安居委会, 江宁路街道"
    assert row["address_id"] == str(setup["world"].jn.estate.pk)
    assert "区建设管理委" in row["service_notice"]
    assert row["agency_responsible"] in (None, "")  # not dispatched yet
    body = response.content.decode()
    assert (
        "张三" not in body and "13800138000" not in body and "138****8000" not in body and "张*" not in body
    )


def test_a_dispatched_request_names_the_agency_and_the_expected_time(setup, client):
    case = report(setup, "E0402")
    case = services.register_case(actor=None, case=case)
    case = services.dispatch_case(actor=None, case=case, assignee=services.propose_assignee(case))
    [row] = parse(client.get(url("requests", "json")), "json")
    assert row["agency_responsible"] == "区建设管理委"
    assert row["status_notes"] == "已派遣，待承办单位签收"
    assert row["expected_datetime"] == timezone.localtime(case.handle_deadline).isoformat(timespec="seconds")


def test_community_matters_are_never_published(setup, client):
    private = report(setup, "S0201", description="楼上邻居半夜吵闹")
    public = report(setup, "E0101")
    codes = [row["service_request_id"] for row in parse(client.get(url("requests", "json")), "json")]
    assert codes == [public.code]
    by_id = client.get(url("requests", "json") + f"?service_request_id={private.code},{public.code}")
    assert [row["service_request_id"] for row in parse(by_id, "json")] == [public.code]
    assert client.get(url("requests", "json") + "?service_code=S0201").json() == []
    assert client.get(url("request-detail", "json", service_request_id=private.code)).status_code == 404
    assert client.get(url("token", "json", token=private.public_token)).status_code == 404
    assert "楼上邻居" not in client.get(url("requests", "xml")).content.decode()


def test_requests_filter_by_id_service_code_status_and_dates(setup, client):
    now = timezone.now()
    rubbish = report(setup, "E0101", now=now - datetime.timedelta(days=10))
    pipe = report(setup, "E0402", now=now - datetime.timedelta(days=5))
    ads = report(setup, "E0201", now=now - datetime.timedelta(days=1))
    rubbish = close(rubbish)

    def codes(query: str) -> list[str]:
        response = client.get(url("requests", "json") + query)
        assert response.status_code == 200, response.content
        return [row["service_request_id"] for row in response.json()]

    assert codes("") == [ads.code, pipe.code, rubbish.code]  # newest first
    assert codes(f"?service_request_id={rubbish.code},{ads.code}") == [ads.code, rubbish.code]
    assert codes(f"?service_request_id={pipe.code}&service_code=E0101&status=closed") == [
        pipe.code
    ]  # overrides
    assert codes("?service_code=E0101,E0402") == [pipe.code, rubbish.code]
    assert codes("?status=closed") == [rubbish.code]
    assert codes("?status=open") == [ads.code, pipe.code]
    assert codes("?status=open,closed") == [ads.code, pipe.code, rubbish.code]
    since = timezone.localtime(now - datetime.timedelta(days=7)).isoformat(timespec="seconds")
    assert codes(f"?start_date={since.replace('+', '%2B')}") == [ads.code, pipe.code]
    assert codes(f"?start_date={since}") == [ads.code, pipe.code]  # an unencoded "+" arrives as a space
    until = (now - datetime.timedelta(days=3)).astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert codes(f"?end_date={until}") == [pipe.code, rubbish.code]
    day = timezone.localtime(now - datetime.timedelta(days=5)).date().isoformat()
    assert codes(f"?start_date={day}&end_date={day}") == [pipe.code]  # a date alone is that whole day


def test_the_default_window_is_the_last_90_days(setup, client):
    now = timezone.now()
    old = report(setup, "E0101", now=now - datetime.timedelta(days=91))
    recent = report(setup, "E0101", now=now - datetime.timedelta(days=89))
    listed = [row["service_request_id"] for row in client.get(url("requests", "json")).json()]
    assert listed == [recent.code]

    def listed_with(name: str, days: float) -> list[str]:
        moment = (now - datetime.timedelta(days=days)).astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return [
            row["service_request_id"]
            for row in client.get(url("requests", "json") + f"?{name}={moment}").json()
        ]

    assert listed_with("start_date", 95) == [recent.code, old.code]  # start_date alone: the 90 days from it
    assert listed_with("start_date", 90) == [recent.code]
    assert listed_with("end_date", 90.5) == [old.code]  # end_date alone: the 90 days up to it
    assert client.get(url("request-detail", "json", service_request_id=old.code)).status_code == 200


def test_at_most_1000_requests_are_returned_newest_first(setup, client, django_assert_max_num_queries):
    template = report(setup, "E0101")
    now = timezone.now()
    Case.objects.bulk_create(
        [
            Case(
                code=f"BULK-{index:05d}",
                source=Source.HOTLINE,
                category=template.category,
                description="暴露垃圾",
                unit=template.unit,
                estate=template.estate,
                dispatcher=template.dispatcher,
                rule=template.rule,
                public_token=f"bulk-token-{index}",
                reported_at=now - datetime.timedelta(minutes=index + 1),
            )
            for index in range(1005)
        ]
    )
    with django_assert_max_num_queries(3):
        rows = client.get(url("requests", "json")).json()
    assert len(rows) == open311.MAX_RESULTS == 1000
    assert rows[0]["service_request_id"] == template.code
    assert rows[-1]["service_request_id"] == "BULK-00998"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "query, message",
    [
        ("?start_date=yesterday", "start_date 格式不正确，应为 ISO 8601，如 2026-03-01T09:30:00+08:00。"),
        ("?end_date=2026-13-45", "end_date 格式不正确，应为 ISO 8601，如 2026-03-01T09:30:00+08:00。"),
        ("?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "查询时间范围不能超过90天。"),
        ("?start_date=2026-06-01&end_date=2026-05-01", "end_date 不能早于 start_date。"),
        ("?start_date=9999-12-31", "start_date 或 end_date 超出范围。"),
        ("?status=pending", "status 只能是 open 或 closed。"),
    ],
)
def test_bad_filters_are_400(setup, client, fmt, query, message):
    response = client.get(url("requests", fmt) + query)
    assert response.status_code == 400
    assert error_of(response, fmt) == (400, message)


def test_a_request_is_closed_once_verified_and_a_merged_one_follows_its_parent(setup, client):
    parent = report(setup, "E0101")
    duplicate = report(setup, "E0101", description="路边又有暴露垃圾")
    services.merge_case(actor=None, case=duplicate, parent=parent)

    def row(case: Case) -> dict:
        return client.get(url("request-detail", "json", service_request_id=case.code)).json()[0]

    assert row(parent)["status"] == row(duplicate)["status"] == "open"
    assert row(duplicate)["status_notes"] == f"已合并至 {parent.code}：已受理，待立案"
    closed = close(parent)
    assert row(parent)["status"] == "closed" and row(parent)["status_notes"] == "已核查结案"
    assert row(parent)["updated_datetime"] == timezone.localtime(closed.closed_at).isoformat(
        timespec="seconds"
    )
    assert row(duplicate)["status"] == "closed"
    assert row(duplicate)["agency_responsible"] == "江宁路街道"
    listed = client.get(url("requests", "json") + "?status=closed").json()
    assert {item["service_request_id"] for item in listed} == {parent.code, duplicate.code}
    assert client.get(url("requests", "json") + "?status=open").json() == []


def test_a_rejected_case_is_closed(setup, client):
    case = services.reject_case(actor=None, case=report(setup, "E0101"), reason="非本区范围")
    [row] = client.get(url("request-detail", "json", service_request_id=case.code)).json()
    assert row["status"] == "closed" and row["status_notes"] == "不予立案"
    assert "非本区范围" not in json.dumps(row, ensure_ascii=False)  # staff notes are not published


# GET one request, tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_by_its_id(setup, client, fmt):
    case = report(setup, "E0101")
    data = parse(client.get(url("request-detail", fmt, service_request_id=case.code)), fmt)
    if fmt == "json":
        assert [row["service_request_id"] for row in data] == [case.code]
    else:
        assert data.tag == "service_requests" and [r.findtext("service_request_id") for r in data] == [
            case.code
        ]
    response = client.get(url("request-detail", fmt, service_request_id="JA2026-9999999"))
    assert response.status_code == 404
    assert error_of(response, fmt) == (404, "service_request_id“JA2026-9999999”不存在。")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_token_gives_the_request_id(setup, client, fmt):
    case = report(setup, "E0101")
    data = parse(client.get(url("token", fmt, token=case.public_token)), fmt)
    if fmt == "json":
        assert data == [{"service_request_id": case.code, "token": case.public_token}]
    else:
        [element] = data.findall("request")
        assert [(child.tag, child.text) for child in element] == [
            ("service_request_id", case.code),
            ("token", case.public_token),
        ]
    response = client.get(url("token", fmt, token="no-such-token"))
    assert response.status_code == 404 and error_of(response, fmt)[0] == 404


# POST requests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_post_files_a_case_at_intake(setup, fmt):
    client = Client(enforce_csrf_checks=True)  # outside apps have no CSRF token
    response = client.post(
        url("requests", fmt),
        post_data(setup, lat="31.2291", long="121.446", media_url="https://example.com/p/1.jpg"),
    )
    assert response.status_code == 200, response.content
    data = parse(response, fmt)
    case = Case.objects.get()
    if fmt == "json":
        assert data == [
            {
                "service_request_id": case.code,
                "token": case.public_token,
                "service_notice": data[0]["service_notice"],
                "account_id": "u-42",
            }
        ]
        notice = data[0]["service_notice"]
    else:
        [element] = data.findall("request")
        assert [child.tag for child in element] == [
            "service_request_id",
            "token",
            "service_notice",
            "account_id",
        ]
        assert (
            element.findtext("service_request_id") == case.code and element.findtext("account_id") == "u-42"
        )
        notice = element.findtext("service_notice")
    assert "区建设管理委" in notice and f"/r/{case.public_token}/" in notice
    world = setup["world"]
    assert case.stage == Stage.REPORTED and case.source == Source.RESIDENT
    assert case.get_source_display() == "居民上报"
    assert case.category.code == "E0402" and case.unit == world.jn.area and case.estate == world.jn.estate
    assert case.address == "新安花园3号楼门口" and str(case.latitude) == "31.229100"
    assert case.open311_client == setup["app"]
    assert case.attributes == {
        "still_flowing": "yes",
        "_open311": {"media_url": "https://example.com/p/1.jpg"},
    }
    assert case.reporter_name_masked == "张*" and case.reporter_phone_masked == "138****8000"
    assert case.events.get().actor_name == "随申办市民云"
    audit = AuditEntry.objects.get(object_id=str(case.pk), content_type__model="case")
    assert audit.action == "create" and "张三" not in json.dumps(audit.after, ensure_ascii=False)
    assert "zhang@example.com" not in json.dumps(case.attributes)  # e-mail is not kept
    [row] = Client().get(url("request-detail", "json", service_request_id=case.code)).json()
    assert row["media_url"] == "https://example.com/p/1.jpg" and row["lat"] == 31.2291


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "key, message", [(None, "缺少 api_key，无法提交。"), ("wrong", "api_key 无效或已停用，无法提交。")]
)
def test_a_post_needs_a_valid_api_key(setup, client, fmt, key, message):
    response = client.post(url("requests", fmt), post_data(setup, api_key=key))
    assert response.status_code == 403
    assert error_of(response, fmt) == (403, message)
    assert not Case.objects.exists()


def test_a_disabled_client_cannot_post(setup, client):
    Open311Client.objects.filter(pk=setup["app"].pk).update(is_active=False)
    response = client.post(url("requests", "json"), post_data(setup))
    assert response.status_code == 403


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_post_for_an_unknown_service_is_404_and_without_one_400(setup, client, fmt):
    response = client.post(url("requests", fmt), post_data(setup, service_code="NOPE"))
    assert response.status_code == 404 and error_of(response, fmt) == (404, "service_code“NOPE”不存在。")
    response = client.post(url("requests", fmt), post_data(setup, service_code=None))
    assert response.status_code == 400 and error_of(response, fmt) == (400, "缺少 service_code。")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "attribute, message",
    [
        (None, "缺少必填附加字段 still_flowing（是否仍在漏水）。"),
        ("", "缺少必填附加字段 still_flowing（是否仍在漏水）。"),
        ("maybe", "附加字段 still_flowing（是否仍在漏水）：取值须为 no、yes 之一。"),
    ],
)
def test_a_post_checks_the_service_attributes(setup, client, fmt, attribute, message):
    response = client.post(url("requests", fmt), post_data(setup, **{"attribute[still_flowing]": attribute}))
    assert response.status_code == 400
    assert error_of(response, fmt) == (400, message)
    assert not Case.objects.exists()


def test_a_number_attribute_must_be_a_number(setup, client):
    data = post_data(setup, service_code="E0401", **{"attribute[still_flowing]": None})
    response = client.post(url("requests", "json"), {**data, "attribute[depth_cm]": "很深"})
    assert response.status_code == 400 and "应为数字" in response.json()[0]["description"]
    response = client.post(url("requests", "json"), {**data, "attribute[depth_cm]": "15"})
    assert response.status_code == 200
    assert Case.objects.get().attributes == {"depth_cm": 15}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "place, status, message",
    [
        (
            {"address_string": "火星基地"},
            400,
            "无法根据 address_string“火星基地”确定所在居民区：请写明小区名称或居委会名称。",
        ),
        (
            {"address_string": None, "lat": "31.2291", "long": "121.446"},
            400,
            "需要 address_string 以确定所在居民区",
        ),
        (
            {"address_string": None},
            400,
            "缺少位置：请提供 address_string、address_id，或 lat/long 加 address_string。",
        ),
        ({"lat": "31.2291"}, 400, "lat 和 long 须同时提供。"),
        ({"lat": "north", "long": "121.446"}, 400, "lat 不是有效的 WGS84 坐标。"),
        ({"address_string": None, "address_id": "999999"}, 400, "address_id“999999”不是本区的小区编号。"),
        (
            {"address_string": None, "address_id": "9" * 30},
            400,
            f"address_id“{'9' * 30}”不是本区的小区编号。",
        ),
    ],
)
def test_a_post_must_name_a_place_in_the_district(setup, client, fmt, place, status, message):
    response = client.post(url("requests", fmt), post_data(setup, **place))
    assert response.status_code == status
    assert error_of(response, fmt) == (status, message)
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "place, side, with_estate",
    [
        ({"address_string": "新安花园"}, "jn", True),
        ({"address_string": "石门路1弄5号"}, "sm", True),  # the estate's address appears in the text
        ({"address_string": "新安花"}, "jn", True),  # a fragment of one estate's name
        ({"address_string": "新安居委会门口"}, "jn", False),  # only the residential area
        ({"address_string": None, "address_id": "sm"}, "sm", True),
    ],
)
def test_the_place_is_resolved_to_a_residential_area(setup, client, place, side, with_estate):
    world = setup["world"]
    if place.get("address_id") == "sm":
        place["address_id"] = str(world.sm.estate.pk)
    response = client.post(url("requests", "json"), post_data(setup, **place))
    assert response.status_code == 200, response.content
    case = Case.objects.get()
    assert case.unit == getattr(world, side).area
    assert case.estate == (getattr(world, side).estate if with_estate else None)


def test_an_ambiguous_place_is_refused(setup, client):
    response = client.post(url("requests", "json"), post_data(setup, address_string="花园"))
    assert response.status_code == 400
    assert "可能指多个居民区" in response.json()[0]["description"]


def test_service_validation_errors_are_400_with_the_parameter_name(setup, client):
    response = client.post(url("requests", "json"), post_data(setup, phone="12345"))
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("phone：")
    response = client.post(url("requests", "json"), post_data(setup, description=""))
    assert response.status_code == 400 and response.json()[0]["description"].startswith("description：")
    assert not Case.objects.exists()


# The sandbox ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_sandbox_post_answers_like_production_and_keeps_nothing(setup, client, fmt):
    counts = (
        Case.objects.count(),
        AuditEntry.objects.count(),
        list(CaseSequence.objects.values_list("last")),
    )
    response = client.post(url("requests", fmt, SANDBOX), post_data(setup))
    assert response.status_code == 200, response.content
    data = parse(response, fmt)
    row = data[0] if fmt == "json" else {child.tag: child.text for child in data.find("request")}
    assert row["service_request_id"].startswith("SANDBOX-JA")
    assert row["token"].startswith("sandbox-")
    assert row["service_notice"].startswith("沙箱测试：未保存。")
    assert (
        Case.objects.count(),
        AuditEntry.objects.count(),
        list(CaseSequence.objects.values_list("last")),
    ) == counts
    assert (
        client.get(
            url("request-detail", "json", SANDBOX, service_request_id=row["service_request_id"])
        ).status_code
        == 404
    )


def test_the_sandbox_validates_like_production(setup, client):
    assert client.post(url("requests", "json", SANDBOX), post_data(setup, api_key=None)).status_code == 403
    response = client.post(
        url("requests", "json", SANDBOX), post_data(setup, **{"attribute[still_flowing]": None})
    )
    assert response.status_code == 400
    assert (
        client.post(url("requests", "json", SANDBOX), post_data(setup, service_code="NOPE")).status_code
        == 404
    )


def test_the_sandbox_reads_the_public_data(setup, client):
    case = report(setup, "E0101")
    assert [row["service_request_id"] for row in client.get(url("requests", "json", SANDBOX)).json()] == [
        case.code
    ]
    assert client.get(url("services", "json", SANDBOX)).json() == client.get(url("services", "json")).json()


# Every endpoint -------------------------------------------------------------------------------------


def endpoints(case: Case) -> list[tuple[str, str, dict]]:
    return [
        ("get", "discovery", {}),
        ("get", "services", {}),
        ("get", "service-definition", {"service_code": "E0402"}),
        ("get", "requests", {}),
        ("get", "request-detail", {"service_request_id": case.code}),
        ("get", "token", {"token": case.public_token}),
        ("post", "requests", {}),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("namespace", [PRODUCTION, SANDBOX])
def test_jurisdiction_id_is_optional_but_must_be_the_district(setup, client, fmt, namespace):
    case = report(setup, "E0101")
    for method, name, kwargs in endpoints(case):
        target = url(name, fmt, namespace, **kwargs)
        send = getattr(client, method)
        data = post_data(setup) if method == "post" else {}
        wrong = send(target, {**data, "jurisdiction_id": "sfgov.org"})
        assert wrong.status_code == 404, (name, wrong.content)
        assert error_of(wrong, fmt)[0] == 404
        for value in ("310106", ""):
            response = send(target, {**data, "jurisdiction_id": value})
            assert response.status_code == 200, (name, value, response.content)
            parse(response, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unsupported_method_is_answered_in_the_error_format(setup, client, fmt):
    response = client.post(url("services", fmt))
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert error_of(response, fmt)[0] == 405


def test_no_login_is_needed_and_a_signed_in_user_sees_the_same(setup, client):
    report(setup, "E0101")
    anonymous = client.get(url("requests", "json")).json()
    client.force_login(setup["world"].user("jiangning"))
    assert client.get(url("requests", "json")).json() == anonymous


def test_text_xml_cannot_carry_is_left_out(setup, client):
    report(setup, "E0101", description="垃圾\x0b很多 <b>&</b>")
    root = parse(client.get(url("requests", "xml")), "xml")
    assert root.findtext("request/description") == "垃圾很多 <b>&</b>"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_nul_character_is_bad_input(setup, client, fmt):
    for response in (
        client.get(url("service-definition", fmt, service_code="E01\x00")),
        client.get(url("requests", fmt) + "?service_code=E01%00"),
        client.post(url("requests", fmt), post_data(setup, address_string="新安\x00花园")),
    ):
        assert response.status_code == 400
        assert error_of(response, fmt) == (400, "参数中含有无效字符。")


def test_multivaluelist_datetime_and_informational_attributes(setup, client):
    category = setup["categories"]["E0101"]
    attributes = [
        {"code": "note", "variable": False, "description": "请勿填写门牌号", "order": 3},
        {
            "code": "kinds",
            "datatype": "multivaluelist",
            "required": True,
            "description": "垃圾种类",
            "order": 1,
            "values": [{"key": "bulky", "name": "大件"}, {"key": "kitchen", "name": "厨余"}],
        },
        {"code": "seen_at", "datatype": "datetime", "description": "发现时间", "order": 2},
    ]
    services.update_category(actor=None, category=category, changes={"attributes": attributes})
    definition = client.get(url("service-definition", "json", service_code="E0101")).json()
    assert [(a["code"], a["variable"], a["order"]) for a in definition["attributes"]] == [
        ("kinds", True, 1),
        ("seen_at", True, 2),
        ("note", False, 3),
    ]
    data = post_data(setup, service_code="E0101", **{"attribute[still_flowing]": None})
    response = client.post(
        url("requests", "json"),
        {
            **data,
            "attribute[kinds][]": ["bulky", "kitchen"],
            "attribute[seen_at]": "2026-11-28T08:00:00Z",
            "attribute[note]": "ignored",
            "attribute[other]": "x",
        },
    )
    assert response.status_code == 200, response.content
    assert Case.objects.get().attributes == {
        "kinds": ["bulky", "kitchen"],
        "seen_at": "2026-11-28T16:00:00+08:00",
    }
    response = client.post(url("requests", "json"), {**data, "attribute[kinds][]": ["bulky", "glass"]})
    assert response.status_code == 400 and "取值须为 bulky、kitchen 之一" in response.json()[0]["description"]
    response = client.post(
        url("requests", "json"), {**data, "attribute[kinds][]": "bulky", "attribute[seen_at]": "yesterday"}
    )
    assert response.status_code == 400 and response.json()[0]["description"].startswith(
        "attribute[seen_at] 格式不正确"
    )
