"""Key rotation covers every ciphertext column, the cases' reporter name and phone among them."""

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


def test_no_ciphertext_column_is_left_out_of_rotation():
    from django.apps import apps

    declared = encrypted_columns()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.name.endswith("_cipher"):
                assert field.name in declared.get(model._meta.label, ()), f"{model._meta.label}.{field.name}"
