"""Case attachments (cases.attachments): hostile uploads are refused with a Chinese message; files are served
only through the case's scope or the reporter's tracking link, with thumbnails and safe headers."""

import io
import os
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from shequ.cases import services
from shequ.cases.attachments import check_photo
from shequ.cases.models import Attachment, Case


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    return settings.MEDIA_ROOT


def image_bytes(fmt: str = "PNG", size=(800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, fmt)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# Refused at upload ---------------------------------------------------------------------------------------


def test_a_real_photo_passes_and_its_type_comes_from_its_content():
    photo = upload("IMG_0001.jpg", image_bytes("PNG"), content_type="image/jpeg")
    assert check_photo(photo) == "image/png" and photo.content_type == "image/png"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.jpg", "这不是照片，只是一段文字".encode() * 50, "不是照片"),
        ("photo.png", image_bytes("PNG")[:400], "已损坏或不完整"),
        ("photo.gif", image_bytes("GIF"), "不是照片"),
        ("huge.jpg", b"\xff\xd8\xff\xe0" + b"\0" * (30 * 1024 * 1024), "超过 10 MB"),
    ],
    ids=["text-named-jpg", "truncated-png", "gif", "30-mb"],
)
def test_hostile_files_are_refused_with_a_chinese_message(name, content, message):
    with pytest.raises(ValidationError) as error:
        check_photo(upload(name, content, "image/jpeg"), "照片")
    assert message in error.value.messages[0] and error.value.messages[0].startswith("照片：")


def test_a_picture_with_too_many_pixels_is_refused(settings):
    settings.PHOTO_MAX_PIXELS = 100 * 100
    with pytest.raises(ValidationError, match="像素过多"):
        check_photo(upload("big.png", image_bytes("PNG", (200, 200))))


def test_the_public_form_refuses_hostile_files_and_writes_nothing(world, categories, client):
    data = {
        "category": categories["E0101"].pk,
        "description": "路灯不亮",
        "place": f"e{world.jn.estate.pk}",
    }
    hostile = [
        upload("fake.jpg", b"<script>alert(1)</script>" * 10, "image/jpeg"),
        upload("cut.png", image_bytes("PNG")[:300]),
        upload("big.jpg", b"\xff\xd8\xff\xe0" + b"\0" * (30 * 1024 * 1024), "image/jpeg"),
    ]
    for photo in hostile:
        response = client.post(reverse("public-report"), {**data, "photos": [photo]})
        assert response.status_code == 200, photo.name
        assert f"照片：“{photo.name}”" in response.content.decode()
    assert not Case.objects.exists() and not Attachment.objects.exists()


def phone_photo() -> bytes:
    """A JPEG as a phone writes it: taken sideways (EXIF orientation 6: turn 90° clockwise to show), with
    the place it was taken, the time, and the phone's make and serial number."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:12:02 21:40:00"  # DateTime
    exif[0xA431] = "SERIAL-0042"  # BodySerialNumber
    exif[0x8825] = {1: "N", 2: (31.0, 13.0, 46.0), 3: "E", 4: (121.0, 26.0, 51.0)}  # GPSInfo
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (30, 120, 60)).save(buffer, "JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def resident_report(world, categories, photo):
    """A case a resident reported without an account, with one photo."""
    return services.report_case(
        actor=None,
        source="resident",
        category=categories["E0101"],
        description="垃圾堆放",
        unit=world.jn.area,
        estate=world.jn.estate,
        attachments=[photo],
    )


def test_a_photo_is_kept_upright_without_its_position_time_or_phone(world, categories):
    sent = phone_photo()
    assert b"SERIAL-0042" in sent and Image.open(io.BytesIO(sent)).getexif()[0x0112] == 6
    case = resident_report(world, categories, upload("路灯.jpg", sent, "image/jpeg"))
    attachment = case.attachments.get()
    kept = attachment.file.read()
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == "JPEG" and image.size == (300, 400)  # turned upright
        assert not image.getexif() and "exif" not in image.info
    assert b"SERIAL-0042" not in kept and b"PhoneMaker" not in kept
    assert attachment.size == len(kept) and attachment.content_type == "image/jpeg"


# Served through the case's scope or the tracking link ----------------------------------------------------


@pytest.fixture
def photos(world, categories):
    """A case a resident reported with a photo (no account), then handled with a handler's photo."""
    case = resident_report(world, categories, upload("mine.png", image_bytes()))
    case = services.register_case(actor=None, case=case)
    case = services.dispatch_case(actor=None, case=case, assignee=services.propose_assignee(case))
    case = services.accept_case(actor=None, case=case)
    services.feedback_case(
        actor=None, case=case, result="已清运", attachments=[upload("after.png", image_bytes())]
    )
    own = case.attachments.get(name="mine.png")
    handler = case.attachments.get(name="after.png")
    return case, own, handler


def test_staff_in_scope_get_the_file_with_safe_headers(world, photos, client):
    case, own, _handler = photos
    client.force_login(world.user("jiangning"))
    response = client.get(reverse("attachment", args=[own.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        response["Content-Disposition"].startswith("inline;")
        and "mine.png" in response["Content-Disposition"]
    )
    assert b"".join(response.streaming_content) == own.file.open("rb").read()


def test_a_thumbnail_is_made_on_first_request_and_kept_beside_the_file(world, photos, client, media):
    _case, own, _handler = photos
    client.force_login(world.user("xinan"))
    response = client.get(reverse("attachment-thumb", args=[own.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert thumb.format == "JPEG" and max(thumb.size) <= 480
    folder = os.path.join(os.path.dirname(own.file.path), ".thumbs")
    assert os.listdir(folder) == [f"{own.pk}-480.jpg"]
    again = client.get(reverse("attachment-thumb", args=[own.pk]))
    assert again.status_code == 200 and again["X-Content-Type-Options"] == "nosniff"


def test_out_of_scope_and_missing_give_the_same_404(world, photos, client):
    _case, own, _handler = photos
    client.force_login(world.user("shimen"))
    outside = client.get(reverse("attachment", args=[own.pk]))
    missing = client.get(reverse("attachment", args=[own.pk + 1000]))
    assert outside.status_code == missing.status_code == 404
    without_token = re.compile(rb'"[A-Za-z0-9]{64}"')  # the page's CSRF tokens differ per response
    assert without_token.sub(b"", outside.content) == without_token.sub(b"", missing.content)
    assert client.get(reverse("attachment-thumb", args=[own.pk])).status_code == 404


def test_a_file_gone_from_disk_is_404(world, photos, client):
    _case, own, _handler = photos
    os.remove(own.file.path)
    client.force_login(world.user("jiangning"))
    assert client.get(reverse("attachment", args=[own.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_login_for_staff_files(photos, client):
    _case, own, _handler = photos
    response = client.get(reverse("attachment", args=[own.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_tracking_link_opens_only_the_reporters_own_photos(photos, client):
    case, own, handler = photos
    token = case.public_token
    response = client.get(reverse("public-attachment", args=[token, own.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(reverse("public-attachment-thumb", args=[token, own.pk])).status_code == 200
    assert client.get(reverse("public-attachment", args=[token, handler.pk])).status_code == 404
    assert client.get(reverse("public-attachment", args=["wrong-token", own.pk])).status_code == 404
    page = client.get(reverse("case-track", args=[token])).content.decode()
    assert reverse("public-attachment-thumb", args=[token, own.pk]) in page
    assert f"/photos/{handler.pk}/" not in page


def test_media_url_is_not_served(photos, client):
    _case, own, _handler = photos
    assert client.get(f"/media/{own.file.name}").status_code == 404


def test_the_case_page_shows_thumbnails_linking_to_the_full_image(world, photos, client):
    case, own, handler = photos
    client.force_login(world.user("jiangning"))
    page = client.get(case.get_absolute_url()).content.decode()
    for attachment in (own, handler):
        assert f'href="{reverse("attachment", args=[attachment.pk])}"' in page
        assert f'src="{reverse("attachment-thumb", args=[attachment.pk])}"' in page
    assert "/media/" not in page
