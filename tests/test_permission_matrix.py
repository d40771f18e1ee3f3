"""The permission matrix: every URL pattern of the URL conf × every demo role × a record inside and one
outside the role's scope. The routes are read from the URL conf, so a new URL fails
`test_every_url_is_classified` until it is added to ROUTES below; no one has to remember it.

The expectations are written out by hand here (who reaches which street, who may change what), as an
oracle independent of shequ.org.roles: if a grant in code changes, this table must change with it."""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .world import World

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
# What each user may change (and add) besides viewing. Units are residential areas here.
CHANGES = {
    "admin": REGISTRY | {"unit", "department"},
    "district": REGISTRY | {"unit", "department"},
    "jiangning": REGISTRY,
    "jiangning_admin": REGISTRY | {"unit"},
    "shimen": REGISTRY,
    "xinan": {"estate", "building", "buildinggroup"},
    "fangguan": set(),
    "auditor": set(),
}
ADDS = {**CHANGES, "xinan": {"building", "buildinggroup"}, "jiangning_admin": REGISTRY}
ADDS["district"] = REGISTRY
ADDS["admin"] = REGISTRY | {"unit", "department"}
VIEWS_AUDIT = {"admin", "auditor"}


@dataclass(frozen=True)
class Route:
    kind: str  # public | auth | list | add | view | change | api-list | api-view | audit
    subject: str = ""  # estate, building, ... unit, department
    methods: tuple[str, ...] = ("GET",)
    signed_in_status: int = 200  # what a signed-in user gets from a public page


def place(world: World, side: str, subject: str):
    """The record of `subject` on one side, and the URL kwargs that name it."""
    places = getattr(world, side)
    if subject == "unit":
        return {"code": places.area.code}
    if subject == "department":
        return {"code": world.department.code}
    obj = {
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
    "home": Route("auth"),
    "unit-tree": Route("auth"),
    "place-search": Route("auth"),
    "audit-list": Route("audit"),
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
for _model in sorted(REGISTRY):
    ROUTES[f"{_model}-list"] = Route("list", _model)
    ROUTES[f"{_model}-add"] = Route("add", _model)
    ROUTES[f"{_model}-detail"] = Route("view", _model)
    ROUTES[f"{_model}-edit"] = Route("change", _model)
    ROUTES[f"api:{_model}-list"] = Route("api-list", _model)
    ROUTES[f"api:{_model}-detail"] = Route("api-view", _model, methods=("GET", "PATCH"))


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
    sees = SEES[username]
    subject = route.subject
    if route.kind in ("public", "auth"):
        return route.signed_in_status
    if route.kind == "audit":
        return 200 if username in VIEWS_AUDIT else 403
    if subject == "department":
        sees = {"jn", "sm"}  # every staff role reads the department list
    if route.kind in ("list", "api-list"):
        return 200
    if route.kind == "add":
        return 200 if subject in ADDS[username] else 403
    if route.kind in ("view", "api-view"):
        return 200 if side in sees else 404
    if route.kind == "change":
        if subject not in CHANGES[username]:
            return 403
        return 200 if side in sees else 404
    raise AssertionError(route)


def expected_write_status(username: str, route: Route, side: str) -> int:
    if route.subject not in CHANGES[username]:
        return 403
    sees = {"jn", "sm"} if route.subject == "department" else SEES[username]
    return 200 if side in sees else 404


def cases():
    for name, route in sorted(ROUTES.items()):
        sides = ("jn", "sm") if route.kind in ("view", "change", "api-view") else (None,)
        for side in sides:
            yield name, side


@pytest.mark.parametrize("username", USERS)
def test_matrix(world, client, username):
    """One test per role runs every route for that role, inside and outside its scope."""
    user = world.user(username)
    client.force_login(user)
    failures = []
    for name, side in cases():
        route = ROUTES[name]
        url = reverse(name, kwargs=place(world, side, route.subject) if side else None)
        for method in route.methods:
            if method == "GET":
                response = client.get(url)
                expected = expected_status(username, route, side)
            elif method == "PATCH":
                response = client.patch(url, data={}, content_type="application/json")
                expected = expected_write_status(username, route, side)
            else:  # POST endpoints: logout and the token exchange answer, never with a server error
                response = client.post(url, data={"username": "nobody", "password": "x"})
                expected = {"logout": 302, "api:token": 400}[name]
                client.force_login(user)  # logout ended the session
            if response.status_code != expected:
                failures.append(f"{method} {name} [{side}] → {response.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_anonymous_users_are_sent_to_login_or_refused(world, client):
    for name, side in cases():
        route = ROUTES[name]
        if route.kind == "public" or "POST" in route.methods:
            continue
        url = reverse(name, kwargs=place(world, side, route.subject) if side else None)
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
