"""Case attachments: checked at upload, served only through views that check who asks, with thumbnails.

Files live under MEDIA_ROOT (inside DATA_DIR, never under the web root; MEDIA_URL is not served). Two ways
in, and everything else is the same 404 whether the file is missing or not the viewer's:
- staff: the attachment's case must be in Case.objects.restrict(user, "view");
- a reporter with the case's tracking link: only the photos they sent themselves (those of the 受理
  event of a report made without an account: the public page or an Open311 app).

A photo is kept as drawn afresh from its pixels (without_metadata): turned upright, without the EXIF a
phone writes into it — the GPS position of where it was taken (often the reporter's home), the time, the
phone's make and serial number. A resident sharing a photo of a broken streetlight has not agreed to share
those (《个人信息保护法》第六条: no more personal information than the purpose needs); the position the
case needs is the one given on the form. HEIC photos (accepted from staff) and PDFs are kept as sent.

Thumbnails are JPEGs made with Pillow on first request and kept on disk beside the file (a `.thumbs`
folder in the case's folder)."""

from __future__ import annotations

import io
import os
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from PIL import Image, ImageOps, UnidentifiedImageError

from .choices import Action
from .models import Attachment, Case

# What Pillow finds in the file → the content type it is served with. Only these are photos.
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Served inline (a browser shows them in place); anything else is offered as a download.
INLINE_TYPES = set(PHOTO_FORMATS.values())
THUMB_SIZE = (480, 480)
THUMB_DIR = ".thumbs"


# How a photo is saved again: JPEG and WebP at a quality where the re-encoding cannot be seen on a phone.
RESAVE = {"JPEG": {"quality": 92}, "PNG": {}, "WEBP": {"quality": 92}}


def without_metadata(upload):
    """The photo (checked by check_photo) saved again from its pixels: upright (the EXIF orientation
    applied), keeping its colour profile and nothing else of its metadata. Anything that is not a JPEG,
    PNG or WebP photo is returned as it is."""
    upload.seek(0)
    with Image.open(upload) as image:
        found = image.format
        if found not in PHOTO_FORMATS:
            upload.seek(0)
            return upload
        upright = ImageOps.exif_transpose(image)
        options = dict(RESAVE[found])
        if image.info.get("icc_profile"):
            options["icc_profile"] = image.info["icc_profile"]
        if found == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        buffer = io.BytesIO()
        upright.save(buffer, found, **options)
    return SimpleUploadedFile(upload.name, buffer.getvalue(), content_type=PHOTO_FORMATS[found])


def photo_limits() -> tuple[int, int]:
    return settings.PHOTO_MAX_BYTES, settings.PHOTO_MAX_PIXELS


def check_photo(upload, field_label: str = "") -> str:
    """Refuses what is not a whole JPEG, PNG or WebP photo within the limits, with a Chinese message that
    names the field and the file; returns the content type Pillow found (the browser's claim is not
    trusted: a text file named .jpg says image/jpeg too)."""
    max_bytes, max_pixels = photo_limits()
    label = field_label or _("照片")
    name = os.path.basename(getattr(upload, "name", "") or "")
    if upload.size > max_bytes:
        raise ValidationError(
            _("%(field)s：“%(name)s”超过 %(mb)d MB，请压缩后再传。")
            % {"field": label, "name": name, "mb": max_bytes // (1024 * 1024)}
        )
    not_photo = _("%(field)s：“%(name)s”不是照片（只收 JPG、PNG、WebP 格式）。") % {
        "field": label,
        "name": name,
    }
    broken = _("%(field)s：“%(name)s”已损坏或不完整，请重新拍摄或选择。") % {"field": label, "name": name}
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            found = image.format
            if found not in PHOTO_FORMATS:
                raise ValidationError(not_photo)
            width, height = image.size
            if width * height > max_pixels:
                raise ValidationError(
                    _("%(field)s：“%(name)s”像素过多（%(w)d×%(h)d），请缩小后再传。")
                    % {"field": label, "name": name, "w": width, "h": height}
                )
            # verify() checks the structure and checksums; load() (on a second open, as Pillow requires)
            # decodes every pixel, which catches a file cut short that verify() lets through.
            image.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
    except ValidationError:
        raise
    except UnidentifiedImageError:
        raise ValidationError(not_photo) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(broken) from None
    finally:
        upload.seek(0)
    content_type = PHOTO_FORMATS[found]
    upload.content_type = content_type
    return content_type


def is_reporters_own(attachment: Attachment) -> bool:
    """A photo the reporter sent with a report made without an account."""
    event = attachment.event
    return event is not None and event.action == Action.REPORT and event.actor_id is None


def reporter_photos(case: Case) -> list[Attachment]:
    """The photos a tracking link shows: the reporter's own (see the module docstring)."""
    return list(
        case.attachments.filter(event__action=Action.REPORT, event__actor__isnull=True)
        .select_related("event")
        .order_by("id")
    )


def is_image(attachment: Attachment) -> bool:
    return attachment.content_type in INLINE_TYPES


def _thumbnail_name(attachment: Attachment) -> str:
    path = PurePosixPath(attachment.file.name)
    return str(path.parent / THUMB_DIR / f"{attachment.pk}-{THUMB_SIZE[0]}.jpg")


def thumbnail(attachment: Attachment):
    """The thumbnail's file, made on first request and kept beside the original."""
    name = _thumbnail_name(attachment)
    if default_storage.exists(name):
        return default_storage.open(name, "rb")
    with attachment.file.open("rb") as original, Image.open(original) as image:
        image = ImageOps.exif_transpose(image)  # phones store the turn in EXIF; the thumbnail is upright
        image.thumbnail(THUMB_SIZE)
        if image.mode not in ("RGB", "L"):
            background = Image.new("RGB", image.size, "white")
            background.paste(image, mask=image.convert("RGBA").getchannel("A"))
            image = background
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80, optimize=True)
    buffer.seek(0)
    path = default_storage.path(name)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(buffer.getvalue())
    except OSError:
        pass  # a cache that cannot be written is made again next time
    return buffer


def file_response(attachment: Attachment, *, thumb: bool = False) -> FileResponse:
    """The file with its own content type, `nosniff`, and a disposition that keeps anything but a photo
    from being shown in place."""
    try:
        if thumb:
            if not is_image(attachment):
                raise Http404
            handle, content_type = thumbnail(attachment), "image/jpeg"
        else:
            handle, content_type = attachment.file.open("rb"), attachment.content_type
    except (FileNotFoundError, OSError, UnidentifiedImageError, ValueError):
        raise Http404 from None
    inline = content_type in INLINE_TYPES or thumb
    if not inline and content_type != "application/pdf":
        content_type = "application/octet-stream"
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not inline,
        filename=os.path.basename(attachment.name) or f"{attachment.pk}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    # A file is not a page: no script in it may run, even if a browser were to render it as one.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def staff_attachment(user, pk: int) -> Attachment:
    """The attachment if its case is one the user may view; 404 alike for missing and out of scope."""
    if not user.is_authenticated:
        raise Http404
    cases = Case.objects.restrict(user, "view")
    return get_object_or_404(Attachment.objects.select_related("event").filter(case__in=cases), pk=pk)


def token_attachment(token: str, pk: int) -> Attachment:
    attachment = get_object_or_404(
        Attachment.objects.select_related("event"), pk=pk, case__public_token=token
    )
    if not is_reporters_own(attachment):
        raise Http404
    return attachment


@login_required
@require_GET
def attachment_file(request, pk: int):
    return file_response(staff_attachment(request.user, pk))


@login_required
@require_GET
def attachment_thumbnail(request, pk: int):
    return file_response(staff_attachment(request.user, pk), thumb=True)


@require_GET
def public_attachment_file(request, token: str, pk: int):
    return file_response(token_attachment(token, pk))


@require_GET
def public_attachment_thumbnail(request, token: str, pk: int):
    return file_response(token_attachment(token, pk), thumb=True)
