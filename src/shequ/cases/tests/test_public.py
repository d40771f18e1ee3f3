"""Residents without an account (cases.public): the report page, the tracking link, rating, abuse control."""

import io
import re

import pytest
from captcha.models import CaptchaStore
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from shequ.cases import services
from shequ.cases.choices import Action, Rating, Source, Stage
from shequ.cases.models import Case
from shequ.core import crypto
from shequ.core.models import AuditEntry


@pytest.fixture(autouse=True)
def fresh_counts(settings, tmp_path):
    """Report counts live in the cache, which outlives a test's database."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


def png(name: str = "photo.png", size=(64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def report_data(world, categories, **overrides) -> dict:
    data = {
        "category": categories["E0101"].pk,
        "description": "小区门口垃圾堆了三天没人清运",
        "place": f"e{world.jn.estate.pk}",
        "address": "1号楼东侧",
        "latitude": "31.230400",
        "longitude": "121.447300",
        "reporter_name": "李阿姨",
        "reporter_phone": "13912345678",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def send(client, world, categories, address: str = "127.0.0.1", **overrides):
    return client.post(
        reverse("public-report"), report_data(world, categories, **overrides), REMOTE_ADDR=address
    )


def close(case: Case) -> Case:
    case = services.register_case(actor=None, case=case)
    case = services.dispatch_case(actor=None, case=case, assignee=services.propose_assignee(case))
    case = services.accept_case(actor=None, case=case)
    case = services.feedback_case(actor=None, case=case, result="已清运")
    return services.verify_case(actor=None, case=case, passed=True)


def test_an_anonymous_visitor_of_the_home_page_lands_on_the_report_page(world, client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("public-report")
    client.force_login(world.user("xinan"))
    assert client.get("/").status_code == 200


def test_the_report_page_needs_no_login_and_groups_small_classes_under_big_ones(world, categories, client):
    page = client.get(reverse("public-report")).content.decode()
    assert "<optgroup" in page and categories["E0101"].name in page
    assert 'name="photos"' in page and "使用我的位置" in page
    assert "验证码" not in page  # no captcha for a first report


def test_a_report_becomes_a_case_through_the_intake_service(world, categories, client):
    response = client.post(
        reverse("public-report"), {**report_data(world, categories), "photos": [png()]}, format="multipart"
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("public-report-sent", args=[case.public_token])
    assert case.source == Source.RESIDENT and case.stage == Stage.REPORTED
    assert (case.unit, case.estate) == (world.jn.area, world.jn.estate)
    assert str(case.latitude) == "31.230400" and case.address == "1号楼东侧"
    assert case.rule is not None and case.stage_deadline is not None  # the responsibility list applied
    # The reporter is personal data: encrypted, masked for lists, never in clear in the row.
    assert crypto.decrypt(case.reporter_phone_cipher) == "13912345678"
    assert case.reporter_phone_masked == "139****5678" and "李阿姨" not in case.reporter_name_masked
    event = case.events.get()
    assert event.action == Action.REPORT and event.actor is None
    assert case.attachments.get().content_type == "image/png"
    audit = AuditEntry.objects.get(object_id=str(case.pk), content_type__model="case")
    assert audit.actor is None and "13912345678" not in str(audit.after)
    sent = client.get(response["Location"]).content.decode()
    assert case.code in sent and f"http://testserver/r/{case.public_token}/" in sent


def test_name_and_phone_may_be_left_out(world, categories, client):
    response = send(client, world, categories, reporter_name="", reporter_phone="")
    assert response.status_code == 302
    assert Case.objects.get().reporter_phone_cipher == ""


def test_what_is_missing_is_named_in_chinese(world, categories, client):
    response = client.post(reverse("public-report"), {"reporter_phone": "123"})
    page = response.content.decode()
    assert response.status_code == 200 and not Case.objects.exists()
    for message in (
        "问题类别：请选择一类。",
        "问题描述：请说明发生了什么。",
        "地点：请搜索并选择小区或居民区。",
    ):
        assert message in page


def test_a_wrong_phone_number_is_refused_on_its_field(world, categories, client):
    response = send(client, world, categories, reporter_phone="12345")
    assert response.status_code == 200 and not Case.objects.exists()
    assert "invalid-feedback" in response.content.decode()


def test_a_place_that_does_not_exist_is_refused(world, categories, client):
    response = send(client, world, categories, place="e999999")
    assert "地点：请搜索并选择小区或居民区。" in response.content.decode()
    assert not Case.objects.exists()


def test_the_report_page_draws_the_district_with_the_pin_where_the_position_is(world, categories, client):
    page = client.get(reverse("public-report")).content.decode()
    assert 'class="district-outline"' in page and 'id="map-pin" class="map-pin" visibility="hidden"' in page
    # Sent back with an error elsewhere, the page keeps the position and shows the pin there.
    page = send(client, world, categories, description="").content.decode()
    assert re.search(r'id="map-pin" class="map-pin" transform="translate\([\d.]+ [\d.]+\)"', page)
    assert "已记录位置：北纬 31.230400，东经 121.447300" in page


@pytest.mark.parametrize(
    "latitude, longitude",
    [
        ("39.908700", "116.397500"),  # 天安门: a real place, not in the district
        ("31.230400", "-121.447300"),
        ("0", "0"),
        ("north", "121.447300"),
        ("31.2304001", "121.447300"),  # more digits than kept
        ("1e308", "121.447300"),
        ("31.230400", ""),  # one without the other: dropped, not refused
    ],
)
def test_a_position_outside_the_district_or_not_a_position_is_refused_and_nothing_written(
    world, categories, client, latitude, longitude
):
    response = send(client, world, categories, latitude=latitude, longitude=longitude)
    if not longitude:
        assert response.status_code == 302 and Case.objects.get().latitude is None
        return
    page = response.content.decode()
    assert response.status_code == 200 and not Case.objects.exists()
    assert "位置：" in page and "请重新定位或在地图上点选" in page


def test_the_intake_service_keeps_only_positions_in_or_near_the_district(world, new_case):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        new_case(latitude="31.230400", longitude="116.397500")
    assert "latitude" in refused.value.message_dict and not Case.objects.exists()
    for latitude in ("north", "NaN", "Infinity"):
        with pytest.raises(ValidationError) as refused:
            new_case(latitude=latitude, longitude="121.447300")
        assert "latitude" in refused.value.message_dict and not Case.objects.exists()
    assert new_case(latitude="31.230400", longitude="121.447300").latitude is not None


def test_the_case_page_shows_the_reported_position_on_the_district(world, new_case, client):
    client.force_login(world.user("jiangning"))
    without = new_case()
    assert 'id="position"' not in client.get(without.get_absolute_url()).content.decode()
    case = new_case(latitude="31.230400", longitude="121.447300")
    page = client.get(case.get_absolute_url()).content.decode()
    assert "反映的位置：北纬 31.230400，东经 121.447300" in page and 'id="map-pin"' in page


def test_a_whole_residential_area_can_be_the_place(world, categories, client):
    assert send(client, world, categories, place=f"u{world.jn.area.pk}").status_code == 302
    case = Case.objects.get()
    assert case.unit == world.jn.area and case.estate is None


def test_the_place_search_finds_estates_and_residential_areas_by_name(world, categories, client):
    url = reverse("public-report-places")
    page = client.get(url, {"q": world.jn.estate.name[:2]}).content.decode()
    assert f'value="e{world.jn.estate.pk}"' in page and world.jn.area.name in page
    page = client.get(url, {"q": world.jn.area.name}).content.decode()
    assert f'value="u{world.jn.area.pk}"' in page
    assert "没有找到" in client.get(url, {"q": "不存在的地方"}).content.decode()


def answer_of(page: str) -> dict:
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', page).group(1)
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


def test_after_a_few_reports_from_one_address_a_captcha_is_asked(world, categories, client, settings):
    settings.PUBLIC_REPORT_CAPTCHA_AFTER = 2
    assert send(client, world, categories).status_code == 302
    assert send(client, world, categories).status_code == 302
    page = client.get(reverse("public-report")).content.decode()
    assert "验证码" in page and 'alt="验证码图片"' in page
    image = client.get(re.search(r'src="(/report/captcha/[0-9a-f]+/)"', page).group(1))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"  # drawn here, offline

    missing = send(client, world, categories)
    assert "验证码：请填写图中算式的结果。" in missing.content.decode()
    wrong = send(client, world, categories, captcha_0=answer_of(page)["captcha_0"], captcha_1="999")
    assert "验证码：答案不对" in wrong.content.decode()
    assert Case.objects.count() == 2

    right = send(client, world, categories, **answer_of(missing.content.decode()))
    assert right.status_code == 302 and Case.objects.count() == 3
    # Another address is not asked.
    other = client.get(reverse("public-report"), REMOTE_ADDR="10.1.2.3").content.decode()
    assert "验证码" not in other


def test_past_the_limit_an_address_is_refused_for_a_while(world, categories, client, settings):
    settings.PUBLIC_REPORT_CAPTCHA_AFTER = 100
    settings.PUBLIC_REPORT_LIMIT = 2
    assert send(client, world, categories).status_code == 302
    assert send(client, world, categories).status_code == 302
    refused = send(client, world, categories)
    assert refused.status_code == 429 and "请一小时后再试" in refused.content.decode()
    assert refused["Retry-After"] == "3600"
    assert Case.objects.count() == 2
    assert send(client, world, categories, address="10.9.9.9").status_code == 302


def test_place_searches_are_limited_per_address(world, categories, client, settings):
    settings.PUBLIC_LOOKUP_LIMIT = 3
    url = reverse("public-report-places")
    assert [client.get(url, {"q": "新安"}).status_code for _ in range(4)] == [200, 200, 200, 429]


# Following the case -------------------------------------------------------------------------------------


@pytest.fixture
def reported(world, categories, client):
    send(client, world, categories)
    return Case.objects.get()


def test_the_tracking_page_shows_description_stage_and_time_limit(world, reported, client):
    reported = services.register_case(actor=world.user("jiangning"), case=reported, note="王科长说先登记")
    page = client.get(reverse("case-track", args=[reported.public_token])).content.decode()
    assert "小区门口垃圾堆了三天没人清运" in page
    assert "立案" in page and 'id="time-limit"' in page
    assert "已受理" in page and "已立案" in page
    # No staff names, notes or personal data on a public page.
    for secret in ("jiangning", "王科长", "李阿姨", "13912345678", "139****5678", "李**"):
        assert secret not in page


def test_a_token_that_does_not_exist_is_404(client, world):
    assert client.get(reverse("case-track", args=["nope"])).status_code == 404


def test_the_rating_has_real_radio_buttons_and_a_chinese_message_when_none_is_chosen(world, reported, client):
    close(reported)
    url = reverse("case-track", args=[reported.public_token])
    page = client.get(url).content.decode()
    assert page.count('type="radio" name="rating"') == 3
    assert "form-control" not in re.search(r"<input[^>]*type=\"radio\"[^>]*>", page).group(0)
    response = client.post(url, {"comment": ""})
    assert response.status_code == 200
    assert "满意度：请选择满意、基本满意或不满意。" in response.content.decode()
    assert Case.objects.get().rating == ""


def test_unsatisfied_reopens_the_case_once(world, reported, client):
    url = reverse("case-track", args=[reported.public_token])
    close(reported)
    response = client.post(url, {"rating": Rating.UNSATISFIED, "comment": "垃圾又堆起来了"}, follow=True)
    case = Case.objects.get()
    assert case.stage == Stage.HANDLING and case.reopen_count == 1
    assert "已重新交承办单位处理" in response.content.decode()
    assert "根据您的评价重新处置" in response.content.decode()

    case = services.feedback_case(actor=None, case=case, result="再次清运")
    services.verify_case(actor=None, case=case, passed=True)
    response = client.post(url, {"rating": Rating.UNSATISFIED}, follow=True)
    case = Case.objects.get()
    assert case.stage == Stage.CLOSED and case.rating == Rating.UNSATISFIED  # only once
    assert "感谢您的评价。" in response.content.decode()
    assert "提交评价" not in response.content.decode()


def test_staff_see_the_tracking_link_to_give_the_reporter(world, categories, new_case, client):
    case = new_case()
    client.force_login(world.user("jiangning"))
    page = client.get(case.get_absolute_url()).content.decode()
    assert f"http://testserver/r/{case.public_token}/" in page
