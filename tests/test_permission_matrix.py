"""The permission matrix: every URL pattern of the URL conf × every demo role × a record inside and one
outside the role's scope. The routes are read from the URL conf, so a new URL fails
`test_every_url_is_classified` until it is added to ROUTES below; no one has to remember it.

The expectations are written out by hand here (who reaches which street, who may change what), as an
oracle independent of shequ.org.roles: if a grant in code changes, this table must change with it."""

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from shequ.core.models import ImportJob

from .world import World, make_case_world

USERS = ["admin", "district", "jiangning", "jiangning_admin", "shimen", "xinan", "fangguan", "auditor"]

# Which side's records each user sees: "jn" = 江宁路街道 (新安居委会), "sm" = 石门二路街道.
SEES = {
    "admin": {"jn", "sm"},
    "district": {"jn", "sm"},
    "auditor": {"jn", "sm"},
    "jiangning": {"jn"},
    "jiangning_admin": {"jn"},
    "xinan": {"jn"},
    "shimen": {"sm"},
    "fangguan": {"jn", "sm"},  # departments read every place of the district
}
REGISTRY = {"estate", "building", "buildinggroup", "grid", "block"}
STAFF = set(USERS)
# What each kind of record each user may open at all (otherwise 403). Departments read no residents.
VIEWS = {
    **{subject: STAFF for subject in REGISTRY | {"unit", "department"}},
    "resident": STAFF - {"fangguan"},
    "residenttag": STAFF - {"fangguan"},
    "personaldataaccess": {"admin", "district", "auditor"},
    "audit": {"admin", "auditor"},
    "calendarday": STAFF,  # every time limit depends on the holiday table
}
# What each user may change besides viewing. Units are residential areas here.
CHANGES = {
    "admin": REGISTRY | {"unit", "department", "residenttag", "calendarday"},
    "district": REGISTRY | {"unit", "department", "residenttag", "calendarday"},
    "jiangning": REGISTRY | {"resident"},
    "jiangning_admin": REGISTRY | {"unit", "resident"},
    "shimen": REGISTRY | {"resident"},
    "xinan": {"estate", "building", "buildinggroup", "resident"},
    "fangguan": set(),
    "auditor": set(),
}
ADDS = {
    **CHANGES,
    "xinan": {"building", "buildinggroup", "resident"},
    "jiangning_admin": REGISTRY | {"resident"},
    "district": REGISTRY | {"residenttag", "calendarday"},
}
# Who may see a resident's full ID and phone number, with a reason (PIPL): not the technical admin,
# not the auditor, not departments.
REVEALS = {"district", "jiangning", "jiangning_admin", "shimen", "xinan"}
DISTRICT_WIDE = {"department", "residenttag", "calendarday"}  # the same records for every street


@dataclass(frozen=True)
class Route:
    kind: str  # public | auth | list | add | view | change | reveal | api-list | api-view | api-reveal
    subject: str = ""  # estate, building, ... unit, department
    methods: tuple[str, ...] = ("GET",)
    signed_in_status: int = 200  # what a signed-in user gets from a public page
    kwargs: dict = field(default_factory=dict)  # URL kwargs of a route that names no record of the world


def place(world: World, side: str, subject: str):
    """The record of `subject` on one side, and the URL kwargs that name it."""
    if side in EXCEL_REGISTERS:
        return {"register": side}
    if side in ("own", "other"):
        return {"pk": world.import_jobs[side].pk}
    if side in QUEUE_SIDES:
        return {"queue": side}
    if subject in ("case", "case-accept", "summons", "api-case-action"):
        record = world.case_sides[side].summons if subject == "summons" else world.case_sides[side].case
        return {"pk": record.pk, "action": "accept"} if subject == "case-accept" else {"pk": record.pk}
    if subject == "public-case":
        return {"token": world.case_sides["jn"].case.public_token}
    if subject == "category-code":
        return {"code": world.category.code}
    if subject in ("category", "rule"):
        return {"pk": world.category.pk if subject == "category" else world.rule.pk}
    places = getattr(world, side)
    if subject == "unit":
        return {"code": places.area.code}
    if subject == "department":
        return {"code": world.department.code}
    if subject == "residenttag":
        return {"pk": world.tag.pk}
    if subject == "calendarday":
        return {"pk": world.calendar_day.pk}
    obj = {
        "resident": places.resident,
        "estate": places.estate,
        "building": places.building,
        "buildinggroup": places.group,
        "grid": places.grid,
        "block": places.block,
    }[subject]
    return {"pk": obj.pk}


ROUTES: dict[str, Route] = {
    "login": Route("public", signed_in_status=302),  # a signed-in user goes on to the home page
    "logout": Route("auth", methods=("POST",)),
    "password-change": Route("auth"),
    "password-change-done": Route("auth"),
    "home": Route("public"),  # an anonymous visitor lands on the public report page (cases.public)
    "unit-tree": Route("auth"),
    "place-search": Route("auth"),
    "audit-list": Route("list", "audit"),
    "personaldataaccess-list": Route("list", "personaldataaccess"),
    "resident-end": Route("change", "resident"),
    "resident-reveal": Route("reveal", "resident"),
    "api:resident-reveal": Route("api-reveal", "resident", methods=("POST",)),
    "residenttag-list": Route("list", "residenttag"),
    "residenttag-add": Route("add", "residenttag"),
    "residenttag-edit": Route("change", "residenttag"),
    "calendarday-list": Route("list", "calendarday"),
    "calendarday-add": Route("add", "calendarday"),
    "calendarday-edit": Route("change", "calendarday"),
    "unit-detail": Route("view", "unit"),
    "unit-add": Route("add", "unit"),
    "unit-edit": Route("change", "unit"),
    "department-list": Route("list", "department"),
    "department-add": Route("add", "department"),
    "department-detail": Route("view", "department"),
    "department-edit": Route("change", "department"),
    "block-member-add": Route("change", "block"),
    "api-schema": Route("public"),
    "api-docs": Route("public"),
    "api:api-root": Route("auth"),
    "api:token": Route("public", methods=("POST",)),
    "api:unit-list": Route("api-list", "unit"),
    "api:unit-detail": Route("api-view", "unit", methods=("GET", "PATCH")),
    "api:department-list": Route("api-list", "department"),
    "api:department-detail": Route("api-view", "department", methods=("GET", "PATCH")),
}
# Open311 (no login; a POST without api_key is refused with 403). The request and token named here do
# not exist: they answer 404 to everyone, never a login page (src/shequ/cases/tests/test_open311.py
# covers the found ones).
for _namespace in ("open311", "open311-sandbox"):
    ROUTES[f"{_namespace}:discovery"] = Route("public", kwargs={"fmt": "json"})
    ROUTES[f"{_namespace}:services"] = Route("public", kwargs={"fmt": "xml"})
    ROUTES[f"{_namespace}:service-definition"] = Route(
        "public", kwargs={"fmt": "json", "service_code": "E0402"}
    )
    ROUTES[f"{_namespace}:requests"] = Route("public", methods=("GET", "POST"), kwargs={"fmt": "json"})
    ROUTES[f"{_namespace}:request-detail"] = Route(
        "public", signed_in_status=404, kwargs={"fmt": "xml", "service_request_id": "JA1999-0000000"}
    )
    ROUTES[f"{_namespace}:token"] = Route(
        "public", signed_in_status=404, kwargs={"fmt": "json", "token": "x"}
    )
for _model in sorted(REGISTRY | {"resident"}):
    ROUTES[f"{_model}-list"] = Route("list", _model)
    ROUTES[f"{_model}-add"] = Route("add", _model)
    ROUTES[f"{_model}-detail"] = Route("view", _model)
    ROUTES[f"{_model}-edit"] = Route("change", _model)
    ROUTES[f"api:{_model}-list"] = Route("api-list", _model)
    ROUTES[f"api:{_model}-detail"] = Route("api-view", _model, methods=("GET", "PATCH"))

# Excel import and export (core.excel), every register × every role: the import page, its template and
# the import API need 'add' on the register, exports 'view'. An import job is its owner's: another
# user's job is a 404, except for readers of the audit trail, who may look at it but not confirm it.
EXCEL_REGISTERS = {
    "units": "unit",
    "departments": "department",
    "estates": "estate",
    "buildings": "building",
    "building-groups": "buildinggroup",
    "grids": "grid",
    "residents": "resident",
    "cases": "case",
}
EXCEL_SIDES = {
    "import": tuple(EXCEL_REGISTERS),
    "export": tuple(EXCEL_REGISTERS),
    "job": ("own", "other"),
    "job-commit": ("own", "other"),
}
ROUTES.update(
    {
        "excel-index": Route("auth"),
        "excel-import": Route("import"),
        "excel-template": Route("import"),
        "excel-export": Route("export"),
        "excel-job": Route("job"),
        "excel-job-errors": Route("job"),
        "excel-job-commit": Route("job-commit", methods=("POST",)),
        "api:import-list": Route("auth"),
        "api:import-detail": Route("job"),
        "api:import-commit": Route("job-commit", methods=("POST",)),
        "api:excel-export": Route("export"),
        "api:excel-template": Route("import"),
    }
)


def import_jobs(world: World, username: str) -> dict[str, ImportJob]:
    """An estates import of the user whose check failed, and one of another user."""
    other = "jiangning" if username == "shimen" else "shimen"

    def job(owner: str) -> ImportJob:
        return ImportJob.objects.create(
            register="estates",
            original_name="小区.xlsx",
            user=world.users[owner],
            status="invalid",
            error_count=1,
            errors=[{"row": 2, "column": "小区名称", "message": "必填。"}],
            unit_path="/310106/",
        )

    return {"own": job(username), "other": job(other)}


def expected_excel_status(username: str, route: Route, side: str, *, api: bool = False) -> int:
    if side == "cases":  # the case oracle: who may report cases, and every demo role sees some
        if route.kind == "import":
            return 200 if username in CASE_ADDERS else 403
        return 200
    if route.kind == "import":
        return 200 if EXCEL_REGISTERS[side] in ADDS[username] else 403
    if route.kind == "export":
        return 200 if username in VIEWS[EXCEL_REGISTERS[side]] else 403
    if side == "other":
        return 200 if route.kind == "job" and username in VIEWS["audit"] else 404
    if route.kind == "job":
        return 200
    # Confirming one's own job whose check failed: refused (the page says so, the API answers 409);
    # a role that may not import estates at all gets 403.
    if "estate" not in ADDS[username]:
        return 403
    return 409 if api else 302


# 一网统管 (cases). Who sees which side's case: by place, plus the department it was dispatched to
# (新安's case went to 区房管局, 石门's to 区城管执法局). Who may take which step there.
BOTH = {"jn", "sm"}
CASE_SEES = {
    "admin": BOTH,
    "district": BOTH,
    "auditor": BOTH,
    "jiangning": {"jn"},
    "jiangning_admin": {"jn"},
    "xinan": {"jn"},
    "shimen": {"sm"},
    "fangguan": {"jn"},
}
DISPATCHERS = {"district": BOTH, "jiangning": {"jn"}, "jiangning_admin": {"jn"}, "shimen": {"sm"}}
CASE_STEPS = {
    "dispatch": DISPATCHERS,
    "verify": DISPATCHERS,
    "handle": {"fangguan": {"jn"}},
    "rate": {**DISPATCHERS, "xinan": {"jn"}},
    "supervise": {"district": BOTH},
}
HANDLING_UNITS = {"jiangning", "jiangning_admin", "shimen", "xinan", "fangguan"}
CASE_ADDERS = {"district", "jiangning", "jiangning_admin", "shimen", "xinan"}
SUMMONS_SEES = {
    "admin": BOTH,
    "district": BOTH,
    "auditor": BOTH,
    "jiangning": {"jn"},
    "jiangning_admin": {"jn"},
    "shimen": {"sm"},
    "fangguan": {"jn"},
}
SUMMONS_SENDERS = {"jiangning": {"jn"}, "jiangning_admin": {"jn"}, "shimen": {"sm"}}
REFERENCE_EDITORS = {"admin", "district"}
# Work queues and the step each needs; "overdue" and "supervised" only need to see cases.
QUEUE_SIDES = {
    "to-register": "dispatch",
    "to-dispatch": "dispatch",
    "assigned": "handle",
    "to-verify": "verify",
    "overdue": None,
    "supervised": None,
}
API_CASE_STEPS = {
    "register": "dispatch",
    "reject": "dispatch",
    "dispatch": "dispatch",
    "merge": "dispatch",
    "return": "handle",
    "accept": "handle",
    "feedback": "handle",
    "verify": "verify",
    "rate": "rate",
    "supervise": "supervise",
    "register-and-dispatch": "dispatch",
}

ROUTES.update(
    {
        "case-list": Route("case-list"),
        "case-add": Route("case-add"),
        "case-place-options": Route("auth"),
        "case-queue": Route("case-queue"),
        "case-detail": Route("case-view", "case"),
        "case-action": Route("case-accept", "case-accept", methods=("POST",)),
        "case-supervise": Route("case-supervise", "case", methods=("POST",)),
        "case-track": Route("public", "public-case"),
        "case-print": Route("case-view", "case"),
        "summons-print": Route("summons-view", "summons"),
        "public-report": Route("public"),
        "public-report-places": Route("public"),
        "public-report-sent": Route("public", "public-case"),
        "captcha-image": Route("public", signed_in_status=410, kwargs={"key": "0"}),
        "public-attachment": Route("public", signed_in_status=404, kwargs={"token": "x", "pk": 999999}),
        "public-attachment-thumb": Route("public", signed_in_status=404, kwargs={"token": "x", "pk": 999999}),
        "attachment": Route("auth", signed_in_status=404, kwargs={"pk": 999999}),
        "attachment-thumb": Route("auth", signed_in_status=404, kwargs={"pk": 999999}),
        "notification-list": Route("auth"),
        "notifications-read": Route("auth", methods=("POST",)),
        "summons-list": Route("summons-list"),
        "summons-add": Route("summons-add"),
        "summons-detail": Route("summons-view", "summons"),
        "summons-answer": Route("summons-answer", "summons"),
        "summons-close": Route("summons-close", "summons"),
        "category-list": Route("auth"),
        "category-add": Route("reference-edit"),
        "category-edit": Route("reference-edit", "category"),
        "rule-list": Route("auth"),
        "rule-add": Route("reference-edit"),
        "rule-edit": Route("reference-edit", "rule"),
        "open311client-list": Route("open311-admin"),
        "open311client-add": Route("open311-admin"),
        "api:case-list": Route("case-list"),
        "api:case-detail": Route("case-view", "case"),
        "api:case-duplicates": Route("case-view", "case"),
        "api:category-list": Route("auth"),
        "api:category-detail": Route("reference-api", "category-code", methods=("GET", "PATCH")),
        "api:rule-list": Route("auth"),
        "api:rule-detail": Route("reference-api", "rule", methods=("GET", "PATCH")),
        "api:summons-list": Route("summons-list"),
        "api:summons-detail": Route("summons-view", "summons"),
        "api:summons-answer": Route("api-summons-step", "summons", methods=("POST",)),
        "api:summons-close": Route("api-summons-step", "summons", methods=("POST",)),
        **{
            f"api:case-{step}": Route("api-case-step", "api-case-action", methods=("POST",))
            for step in API_CASE_STEPS
        },
    }
)
CASE_KINDS = {
    "case-list",
    "case-add",
    "case-queue",
    "case-view",
    "case-accept",
    "case-supervise",
    "api-case-step",
    "summons-list",
    "summons-add",
    "summons-view",
    "summons-answer",
    "summons-close",
    "api-summons-step",
    "reference-edit",
    "reference-api",
    "open311-admin",
}
ON_BOTH_SIDES = {
    "case-view",
    "case-accept",
    "case-supervise",
    "summons-view",
    "summons-answer",
    "summons-close",
    "api-case-step",
    "api-summons-step",
}


def expected_case_status(username: str, name: str, route: Route, side: str | None, method: str) -> int:
    """Statuses for the case routes, from the tables above. A POST with an empty body by someone allowed to
    take the step is a 400 (missing input, or the case is not at that step any more); only fangguan's
    acceptance of 新安's case goes through (the API's comes first in the run, so the page then reports
    a conflict on the case page: 302)."""
    kind = route.kind
    sees = CASE_SEES.get(username, set())
    if kind == "case-list":
        return 200
    if kind == "case-add":
        return 200 if username in CASE_ADDERS else 403
    if kind == "case-queue":
        step = QUEUE_SIDES[side]
        if step == "handle":  # every unit that can be sent cases has the queue, even if empty now
            return 200 if username in HANDLING_UNITS else 403
        return 200 if step is None or CASE_STEPS[step].get(username) else 403
    if kind == "case-view":
        return 200 if side in sees else 404
    if kind == "case-accept":
        if side not in sees:
            return 404
        return 302 if side in CASE_STEPS["handle"].get(username, set()) else 403
    if kind == "case-supervise":
        if side not in sees:
            return 404
        return 302 if side in CASE_STEPS["supervise"].get(username, set()) else 403
    if kind == "api-case-step":
        if side not in sees:
            return 404
        step = API_CASE_STEPS[name.removeprefix("api:case-")]
        if side not in CASE_STEPS[step].get(username, set()):
            return 403
        return 200 if name == "api:case-accept" else 400
    summons_sees = SUMMONS_SEES.get(username, set())
    if kind == "summons-list":
        return 200 if username in SUMMONS_SEES else 403
    if kind == "summons-add":
        return 200 if username in SUMMONS_SENDERS else 403
    if kind == "summons-view":
        return 200 if side in summons_sees else 404 if username in SUMMONS_SEES else 403
    if kind == "summons-answer":
        if username != "fangguan":
            return 403
        return 200 if side == "jn" else 404
    if kind == "summons-close":
        if username not in SUMMONS_SENDERS and username != "fangguan":
            return 403
        return 200 if side in SUMMONS_SENDERS.get(username, set()) else 404
    if kind == "api-summons-step":
        # No grant for the step at all: 403; a summons out of reach: 404; then input (400), except that the
        # summoned department may not close (rate) its own summons: 403.
        if name == "api:summons-answer":
            if username != "fangguan":
                return 403
            return 400 if side == "jn" else 404
        if username not in SUMMONS_SENDERS and username != "fangguan":
            return 403
        if username == "fangguan":
            return 403 if side == "jn" else 404
        return 400 if side in SUMMONS_SENDERS[username] else 404
    if kind == "reference-edit":
        return 200 if username in REFERENCE_EDITORS else 403
    if kind == "reference-api":
        if method == "PATCH":
            return 200 if username in REFERENCE_EDITORS else 403
        return 200
    if kind == "open311-admin":
        return 200 if username == "admin" else 403
    raise AssertionError(route)


def url_names(patterns=None, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"URL pattern {pattern.pattern} has no name: the matrix cannot cover it"
            names.add(namespace + pattern.name)
    return names


def test_every_url_is_classified():
    missing = url_names() - set(ROUTES)
    assert not missing, f"URLs not in the permission matrix: {sorted(missing)}"


def test_the_matrix_has_no_stale_routes():
    assert set(ROUTES) - url_names() == set()


def expected_status(username: str, route: Route, side: str | None) -> int:
    """The status a GET (a POST for the reveal endpoint) should get, from the tables above."""
    subject = route.subject
    if route.kind in ("public", "auth"):
        return route.signed_in_status
    if route.kind in EXCEL_SIDES:
        return expected_excel_status(username, route, side)
    if route.kind in ("list", "api-list"):
        return 200 if username in VIEWS[subject] else 403
    sees = {"jn", "sm"} if subject in DISTRICT_WIDE else SEES[username]
    if route.kind == "add":
        return 200 if subject in ADDS[username] else 403
    if route.kind in ("view", "api-view"):
        if username not in VIEWS[subject]:
            return 403
        return 200 if side in sees else 404
    if route.kind == "change":
        if subject not in CHANGES[username]:
            return 403
        return 200 if side in sees else 404
    if route.kind in ("reveal", "api-reveal"):
        if username not in REVEALS:
            return 403
        return 200 if side in sees else 404
    raise AssertionError(route)


def expected_write_status(username: str, route: Route, side: str) -> int:
    if route.subject not in CHANGES[username]:
        return 403
    sees = {"jn", "sm"} if route.subject in DISTRICT_WIDE else SEES[username]
    return 200 if side in sees else 404


def cases():
    for name, route in sorted(ROUTES.items()):
        sides = (
            ("jn", "sm") if route.kind in ("view", "change", "reveal", "api-view", "api-reveal") else (None,)
        )
        sides = EXCEL_SIDES.get(route.kind, sides)
        if route.kind in ON_BOTH_SIDES or route.subject in ("category", "category-code", "rule"):
            sides = ("jn", "sm") if route.kind in ON_BOTH_SIDES else ("jn",)
        if route.kind == "case-queue":
            sides = tuple(QUEUE_SIDES)
        if route.subject == "public-case":
            sides = ("jn",)
        for side in sides:
            yield name, side


@pytest.mark.parametrize("username", USERS)
def test_matrix(world, client, username):
    """One test per role runs every route for that role, inside and outside its scope."""
    user = world.user(username)
    client.force_login(user)
    world.import_jobs = import_jobs(world, username)
    make_case_world(world)
    failures = []
    for name, side in cases():
        route = ROUTES[name]
        url = reverse(name, kwargs=place(world, side, route.subject) if side else route.kwargs or None)
        for method in route.methods:
            if route.kind in CASE_KINDS:
                if method == "GET":
                    response = client.get(url)
                elif method == "PATCH":
                    response = client.patch(url, data={}, content_type="application/json")
                elif name.startswith("api:"):
                    response = client.post(url, data={}, content_type="application/json")
                else:
                    response = client.post(url, data={"note": "矩阵", "reason": ""})
                expected = expected_case_status(username, name, route, side, method)
            elif method == "GET":
                response = client.get(url)
                expected = expected_status(username, route, side)
            elif method == "PATCH":
                response = client.patch(url, data={}, content_type="application/json")
                expected = expected_write_status(username, route, side)
            elif route.kind == "job-commit":
                response = client.post(url)
                expected = expected_excel_status(username, route, side, api=name.startswith("api:"))
            elif route.kind == "api-reveal":
                response = client.post(url, data={"reason": "权限矩阵测试"}, content_type="application/json")
                expected = expected_status(username, route, side)
            else:  # POST endpoints: logout, the token exchange and Open311 answer, never with a server error
                response = client.post(url, data={"username": "nobody", "password": "x"})
                expected = {
                    "logout": 302,
                    "notifications-read": 302,
                    "api:token": 400,
                    "open311:requests": 403,
                    "open311-sandbox:requests": 403,
                }[name]
                client.force_login(user)  # logout ended the session
            if response.status_code != expected:
                failures.append(f"{method} {name} [{side}] → {response.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_anonymous_users_are_sent_to_login_or_refused(world, client):
    world.import_jobs = import_jobs(world, "jiangning")
    make_case_world(world)
    for name, side in cases():
        route = ROUTES[name]
        if route.kind == "public" or "POST" in route.methods:
            continue
        url = reverse(name, kwargs=place(world, side, route.subject) if side else route.kwargs or None)
        response = client.get(url)
        if name.startswith("api:"):
            assert response.status_code in (401, 403), name
        else:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], name


def test_list_pages_show_only_records_in_scope(world, client):
    client.force_login(world.user("jiangning"))
    page = client.get(reverse("estate-list")).content.decode()
    assert world.jn.estate.name in page
    assert world.sm.estate.name not in page
    api = client.get(reverse("api:estate-list")).json()
    names = {row["name"] for row in api["results"]}
    assert world.jn.estate.name in names and world.sm.estate.name not in names


def test_a_committee_sees_the_grids_and_blocks_that_cover_its_area(world, client):
    client.force_login(world.user("xinan"))
    grids = {row["code"] for row in client.get(reverse("api:grid-list")).json()["results"]}
    assert grids == {world.jn.grid.code}
    blocks = {row["name"] for row in client.get(reverse("api:block-list")).json()["results"]}
    assert blocks == {world.jn.block.name}


# 数据看板 and 部门考评 (shequ.cases.dashboard). Every staff role has a dashboard of the cases it sees; the
# assessment is for district roles and streets (every department, on the cases they see) and for a
# department (its own row), not for committees.
VIEWS["case-dashboard"] = STAFF
VIEWS["case-assessment"] = STAFF - {"xinan"}
ROUTES.update(
    {
        "case-dashboard": Route("list", "case-dashboard"),
        "case-assessment": Route("list", "case-assessment"),
    }
)
# Which units each role may pick on the dashboard (`?unit=`): a side's street or its residential area, or a
# department. Anything else is a 404, like a record out of scope.
DISTRICT_PICKS = {"jn-street", "jn-area", "sm-street", "sm-area", "department", "other-department"}
DASHBOARD_PICKS = {
    "admin": DISTRICT_PICKS,
    "district": DISTRICT_PICKS,
    "auditor": DISTRICT_PICKS,
    "jiangning": {"jn-street", "jn-area"},
    "jiangning_admin": {"jn-street", "jn-area"},
    "shimen": {"sm-street", "sm-area"},
    "xinan": {"jn-area"},
    "fangguan": {"department"},
}
# Whose rows the assessment shows: every department, or only the user's own.
ASSESSED = {username: "all" for username in VIEWS["case-assessment"]} | {"fangguan": {"区房管局"}}


def dashboard_unit(world: World, pick: str) -> str:
    from shequ.org.models import Unit

    if pick == "department":
        return world.department.code
    if pick == "other-department":
        return Unit.objects.filter(kind="department").exclude(pk=world.department.pk).order_by("code")[0].code
    side, level = pick.split("-")
    area = getattr(world, side).area
    return area.code if level == "area" else area.parent.code


@pytest.mark.parametrize("username", USERS)
def test_the_dashboard_offers_each_role_only_its_own_units(world, client, username):
    client.force_login(world.user(username))
    failures = []
    for pick in sorted(DISTRICT_PICKS):
        response = client.get(reverse("case-dashboard"), {"unit": dashboard_unit(world, pick)})
        expected = 200 if pick in DASHBOARD_PICKS[username] else 404
        if response.status_code != expected:
            failures.append(f"{pick} → {response.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("username", sorted(ASSESSED))
def test_the_assessment_shows_each_role_its_departments(world, client, username):
    from shequ.org.models import Unit

    client.force_login(world.user(username))
    rows = {row.name for row in client.get(reverse("case-assessment")).context["result"].rows}
    expected = ASSESSED[username]
    if expected == "all":
        expected = set(Unit.objects.filter(kind="department").values_list("name", flat=True))
    assert rows == expected
