"""Property-based tests of the GB 11643 validator and of masking (hypothesis)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import ric

from shequ.core.personal_data import (
    identity_facts,
    mask_document,
    mask_phone,
    validate_document,
    validate_phone,
)

dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2025, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


def build(region: str, birth: datetime.date, sequence: int) -> str:
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


@given(birth=dates, sequence=sequences)
def test_every_well_formed_number_is_accepted_and_tells_birth_date_and_sex(birth, sequence):
    number = build("310106", birth, sequence)
    assert validate_document("resident_id", number) == number
    facts = identity_facts(number)
    assert facts.birth_date == birth
    assert facts.gender == ("M" if sequence % 2 else "F")


@given(birth=dates, sequence=sequences, wrong=st.sampled_from("0123456789X"))
def test_any_other_check_digit_is_refused(birth, sequence, wrong):
    number = build("310106", birth, sequence)
    assume(wrong != number[-1])
    with pytest.raises(ValidationError) as error:
        validate_document("resident_id", number[:-1] + wrong)
    assert error.value.code == "checksum"


@given(sequence=sequences, month=st.integers(13, 99), day=st.integers(1, 28))
def test_an_impossible_birth_date_is_refused(sequence, month, day):
    body = f"3101061980{month:02d}{day:02d}{sequence:03d}"
    number = body + ric.calc_check_digit(body + "0")
    with pytest.raises(ValidationError):
        validate_document("resident_id", number)


@given(text=st.text(max_size=30))
def test_arbitrary_text_is_refused_with_a_message_that_never_repeats_it(text):
    assume(not ric.is_valid(text.replace(" ", "").upper()))
    with pytest.raises(ValidationError) as error:
        validate_document("resident_id", text)
    if len(text.strip()) >= 4:
        assert text.strip() not in " ".join(error.value.messages)


@given(birth=dates, sequence=sequences)
def test_masking_keeps_region_and_last_four_and_hides_the_birth_date(birth, sequence):
    number = build("310106", birth, sequence)
    masked = mask_document(number)
    assert len(masked) == len(number)
    assert masked.startswith("310106") and masked.endswith(number[-4:])
    assert masked[6:14] == "********"


@given(number=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=20))
def test_masking_any_document_hides_at_least_its_middle(number):
    masked = mask_document(number)
    assert len(masked) == len(number)
    assert "*" in masked
    assert masked.count("*") >= len(number) // 3


@given(rest=st.text(alphabet="0123456789", min_size=9, max_size=9), second=st.sampled_from("3456789"))
def test_mobile_numbers_mask_as_138_stars_5678(rest, second):
    phone = f"1{second}{rest}"
    assert validate_phone(phone) == phone
    masked = mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]


def test_phone_formats():
    assert validate_phone("+86 139-1234-5678") == "13912345678"
    assert validate_phone("021-62581234") == "02162581234"
    with pytest.raises(ValidationError):
        validate_phone("12345")
