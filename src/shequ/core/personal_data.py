"""Identity documents and phone numbers: validation, normalisation and masking (X2).

Masked forms are what every list, export, API response, audit entry and log line shows:
`310106********123X` for an 18-digit ID number (the region code and the last four kept, as is common
practice for displays of GB 11643 numbers), `138****5678` for a mobile number."""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", gettext_lazy("居民身份证")
    PASSPORT = "passport", gettext_lazy("护照")
    HK_MACAO_PERMIT = "hk_macao_permit", gettext_lazy("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan_permit", gettext_lazy("台湾居民来往大陆通行证")
    FOREIGN_PERMANENT = "foreign_permanent", gettext_lazy("外国人永久居留身份证")


# Formats of the documents other than the resident ID card, as issued today:
# 港澳居民来往内地通行证 (回乡证): H or M and 8 digits (10 on older cards);
# 台湾居民来往大陆通行证 (台胞证): 8 digits (10 characters on older ones);
# 外国人永久居留身份证: 15 characters (2004 edition) or 18 digits starting with 9 (2023 edition);
# passports: 5 to 17 letters and digits (ICAO 9303 allows up to 9 on the data page of most states).
DOCUMENT_PATTERNS = {
    DocumentType.PASSPORT: re.compile(r"^[A-Z0-9]{5,17}$"),
    DocumentType.HK_MACAO_PERMIT: re.compile(r"^[HM]\d{8}(\d{2})?$"),
    DocumentType.TAIWAN_PERMIT: re.compile(r"^\d{8}(\d{2})?$|^[A-Z0-9]{10}$"),
    DocumentType.FOREIGN_PERMANENT: re.compile(r"^[A-Z]{3}\d{12}$|^9\d{16}[\dX]$"),
}


@dataclass(frozen=True)
class IdentityFacts:
    """What a resident ID number says about its holder (GB 11643: digits 7–14 the birth date,
    digit 17 odd for men and even for women)."""

    birth_date: datetime.date
    gender: str  # "M" or "F"


def normalise_document(number: str) -> str:
    return "".join(str(number or "").split()).upper()


def validate_document(document_type: str, number: str) -> str:
    """The normalised number, or ValidationError with a Chinese message that never repeats it."""
    number = normalise_document(number)
    if not number:
        raise ValidationError(_("证件号码不能为空。"), code="required")
    if document_type == DocumentType.RESIDENT_ID:
        try:
            return _validate_resident_id(number)
        except InvalidChecksum as error:
            raise ValidationError(_("身份证号码校验码错误（GB 11643）。"), code="checksum") from error
        except InvalidComponent as error:
            raise ValidationError(_("身份证号码中的出生日期无效。"), code="birth_date") from error
        except (InvalidLength, InvalidFormat) as error:
            raise ValidationError(_("身份证号码应为18位（最后一位可为X）。"), code="format") from error
        except StdnumError as error:
            raise ValidationError(_("身份证号码无效。"), code="invalid") from error
    pattern = DOCUMENT_PATTERNS.get(document_type)
    if pattern is None:
        raise ValidationError(_("未知的证件类型。"), code="document_type")
    if not pattern.match(number):
        raise ValidationError(
            _("%(type)s号码格式不正确。") % {"type": DocumentType(document_type).label}, code="format"
        )
    return number


def _validate_resident_id(number: str) -> str:
    """GB 11643 as python-stdnum checks it (`cn.ric.validate`: length, format, birth date, check digit,
    region code), with the region lookup cached per code: imports check hundreds of thousands of numbers
    from the same few districts, and the region table lookup is most of stdnum's time."""
    number = ric.compact(number)
    if len(number) != 18:
        raise InvalidLength()
    if not number[:-1].isdigit():
        raise InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    _birth_date(number)  # raises InvalidComponent for an impossible date
    if not _region_known(number[:6], number[6:10]):
        raise InvalidComponent()
    return number


@functools.lru_cache(maxsize=65536)
def _region_known(region: str, year: str) -> bool:
    """Whether the region code was a county of that year (stdnum's table knows renamed counties)."""
    try:
        ric.get_birth_place(f"{region}{year}0101000")
    except InvalidComponent:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _birth_date(number: str) -> datetime.date:
    """The birth date of a compact 18-character number (GB 11643: digits 7–14, YYYYMMDD), read as stdnum's
    `get_birth_date` reads it but without compacting the number again, the slowest part of a validation.
    The one-entry cache serves `identity_facts` right after the validation of the same number."""
    try:
        return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidComponent() from None


def identity_facts(number: str) -> IdentityFacts:
    number = normalise_document(number)
    return IdentityFacts(birth_date=_birth_date(number), gender="M" if int(number[16]) % 2 else "F")


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"[\s\-()]", "", str(phone or ""))
    return digits.removeprefix("+86").removeprefix("0086") if len(digits) > 11 else digits


def validate_phone(phone: str) -> str:
    """Mainland mobile numbers (11 digits starting with 1) or fixed lines with area code (021-xxxxxxxx)."""
    phone = normalise_phone(phone)
    if (
        re.fullmatch(r"1[3-9]\d{9}", phone)
        or re.fullmatch(r"0\d{2,3}\d{7,8}", phone)
        or re.fullmatch(r"\d{8}", phone)
    ):
        return phone
    raise ValidationError(_("电话号码格式不正确（手机11位，或区号加座机号码）。"), code="phone")


def mask_document(number: str) -> str:
    """Keep the first six and the last four characters of an 18-character number (region code and
    the end); for shorter documents the first two and the last two."""
    number = normalise_document(number)
    if len(number) >= 15:
        head, tail = 6, 4
    elif len(number) >= 6:
        head, tail = 2, 2
    else:
        return "*" * len(number)
    return number[:head] + "*" * (len(number) - head - tail) + number[-tail:]


def mask_phone(phone: str) -> str:
    """`138****5678`: the carrier prefix and the last four digits of a mobile number; for other
    numbers the last four only."""
    phone = normalise_phone(phone)
    if len(phone) == 11 and phone.startswith("1"):
        return phone[:3] + "****" + phone[-4:]
    if len(phone) <= 4:
        return "*" * len(phone)
    return "*" * (len(phone) - 4) + phone[-4:]
