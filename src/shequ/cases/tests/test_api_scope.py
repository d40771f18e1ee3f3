"""The API names related records as strictly as the pages: a case another street owns and a case that does
not exist get the same answer, which names neither."""

import json

from django.urls import reverse

from shequ.cases import services
from shequ.cases.models import Summons


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_a_summons_through_the_api_may_not_name_another_streets_case(world, client, new_case):
    own = new_case()
    elsewhere = new_case(actor="shimen", unit=world.sm.area, building_group=world.sm.group)
    client.force_login(world.user("jiangning"))
    data = {
        "street": world.jn.area.parent.code,
        "department": world.department.code,
        "reason": "群租整治",
        "request": "请到场说明整治安排",
        "response_days": 3,
    }
    answers = {}
    for code in (elsewhere.code, "JA1999-0000001"):
        response = post(client, reverse("api:summons-list"), {**data, "cases": [own.code, code]})
        assert response.status_code == 400, response.content
        answers[code] = response.json()["cases"]
    hidden, missing = answers[elsewhere.code], answers["JA1999-0000001"]
    assert hidden == [message.replace("JA1999-0000001", elsewhere.code) for message in missing]
    assert elsewhere.description not in json.dumps(hidden, ensure_ascii=False)
    assert not Summons.objects.exists()

    response = post(client, reverse("api:summons-list"), {**data, "cases": [own.code]})
    assert response.status_code == 201, response.content
    assert response.json()["cases"] == [own.code]


def test_a_merge_through_the_api_may_not_name_another_streets_case(world, client, new_case):
    case = services.register_case(actor=world.user("jiangning"), case=new_case())
    elsewhere = new_case(actor="shimen", unit=world.sm.area, building_group=world.sm.group)
    client.force_login(world.user("jiangning"))
    url = reverse("api:case-merge", args=[case.pk])
    hidden = post(client, url, {"parent": elsewhere.code})
    missing = post(client, url, {"parent": "JA1999-0000001"})
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["parent"] == [
        m.replace("JA1999-0000001", elsewhere.code) for m in missing.json()["parent"]
    ]
    case.refresh_from_db()
    assert case.parent_id is None
