"""Key rotation covers the cases' personal data too (the reporter's name and phone)."""

from shequ.cases.models import Case
from shequ.core import crypto
from shequ.core.management.commands.keys import encrypted_columns, rotate


def test_every_model_with_ciphertexts_is_rotated():
    columns = encrypted_columns()
    assert columns["cases.Case"] == ("reporter_name_cipher", "reporter_phone_cipher")
    assert columns["registry.Resident"] == ("id_cipher", "phone_cipher")


def test_a_reporters_name_and_phone_still_decrypt_after_a_rotation(new_case):
    case = new_case()
    before = Case.objects.values_list("reporter_name_cipher", "reporter_phone_cipher").get(pk=case.pk)

    assert rotate(batch_size=1, echo=lambda _line: None) is True

    after = Case.objects.values_list("reporter_name_cipher", "reporter_phone_cipher").get(pk=case.pk)
    assert after[0] != before[0] and after[1] != before[1]
    assert crypto.decrypt(after[0]) == "王先生"
    assert crypto.decrypt(after[1]) == "13800138000"
