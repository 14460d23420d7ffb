"""What a fuzzer sent that once made the API answer 500 (issue 14, defect 6), and the rest of
that class, on every route: bodies nested too deep, of the wrong JSON type, empty, numbers
beyond 64 bits, paging cursors beyond any position, a multipart upload without its file. Each
is answered with a 4xx problem+json and records nothing."""

from __future__ import annotations

import re
import typing
import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar.routes import HTTPRoute

from domain.identity import Role
from services.web.auth import Principal
from tests.integration.support import (
    PROBLEM,
    headers_for,
    make_backbone,
    refused,
    serving,
)

DEEP = b"[" * 5000 + b"]" * 5000
NESTED = b'{"a":' * 2000 + b"1" + b"}" * 2000
BEYOND_64_BITS = 2**64
CURSORS = [2**63, 2**64, -(2**63), -1, 10**30]
PAGED = [
    "/api/v1/accounts/community/statement",
    "/api/v1/listings",
    "/api/v1/exchanges",
    "/api/v1/pool/movements",
    "/api/v1/volunteers",
    "/api/v1/hours",
    "/api/v1/motions",
]


@pytest.fixture
def served(broker, stores, tmp_path) -> Iterator[Any]:
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    with serving(bone) as running:
        yield running


def everyone(bone) -> dict[str, str]:
    """A caller every guard lets through, so that each route reaches its body."""
    principal = Principal(subject="staff:fuzz", roles=frozenset(Role), channel="console")
    return headers_for(bone, principal)


def concrete(path: str) -> str:
    """A route's path with a value for each path parameter."""
    path = re.sub(r"\{[^}:]+:uuid\}", str(uuid.uuid4()), path)
    return re.sub(r"\{[^}:]+:(str|path)\}", "community", path)


def routes_with_bodies(app) -> list[tuple[str, str, Any]]:
    """(method, path, the body's type) for every API route that takes a body."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            for method in sorted(handler.http_methods):
                found.append((method, route.path, data.annotation))
    assert len(found) > 40, found
    return found


def answered_as_a_problem(answer: Any, what: str) -> None:
    assert 400 <= answer.status_code < 500, f"{what}: {answer.status_code} {answer.text[:300]}"
    assert answer.headers["content-type"].startswith(PROBLEM), what


def test_a_json_body_nested_too_deep_is_refused_on_every_route(served):
    client, bone = served.client, served.bone
    caller = everyone(bone)
    before = bone.timebank.last_position()
    for method, path, _ in routes_with_bodies(client.app):
        for body in (DEEP, NESTED):
            answer = client.request(
                method,
                concrete(path),
                content=body,
                headers={**caller, "Content-Type": "application/json"},
            )
            answered_as_a_problem(answer, f"{method} {path}")
    for path in ("/api/v1/auth/staff", "/api/v1/auth/kiosk"):  # anonymous
        answer = client.post(path, content=DEEP, headers={"Content-Type": "application/json"})
        refused(answer, 400, "invalid-request")
    assert bone.timebank.last_position() == before


WRONG_BODIES = [b"", b"null", b"[]", b"{}", b'"text"', b"1", b"1e999", b"18446744073709551616"]


def test_a_body_of_the_wrong_json_type_is_refused_on_every_route(served):
    client, bone = served.client, served.bone
    caller = everyone(bone)
    before = bone.timebank.last_position()
    for method, path, _ in routes_with_bodies(client.app):
        for body in [*WRONG_BODIES, b"{", b"\xff"]:
            answer = client.request(
                method,
                concrete(path),
                content=body,
                headers={**caller, "Content-Type": "application/json"},
            )
            if answer.status_code < 300:  # a body every field of which may be left out
                continue
            answered_as_a_problem(answer, f"{method} {path} {body!r}")
    assert bone.timebank.last_position() == before


def _unbounded_integers(info: Any, where: str) -> Iterator[str]:
    """Where in a body's type (msgspec's description of it) an integer lacks bounds."""
    inspect = msgspec.inspect
    if isinstance(info, inspect.Metadata):  # a description or an example around the type
        yield from _unbounded_integers(info.type, where)
    elif isinstance(info, inspect.IntType):
        low, high = (info.ge, info.gt), (info.le, info.lt)
        if low == (None, None) or high == (None, None):
            yield where
    elif isinstance(info, inspect.UnionType):
        for arm in info.types:
            yield from _unbounded_integers(arm, where)
    elif isinstance(info, inspect.StructType):
        for field in info.fields:
            yield from _unbounded_integers(field.type, f"{where}.{field.name}")
    elif isinstance(info, inspect.ListType | inspect.SetType | inspect.VarTupleType):
        yield from _unbounded_integers(info.item_type, f"{where}[]")
    elif isinstance(info, inspect.DictType):
        yield from _unbounded_integers(info.value_type, f"{where}{{}}")


def test_every_integer_a_body_or_a_query_takes_is_bounded(served):
    """A number beyond 64 bits overflows the stores: every integer a route takes has bounds
    (msgspec's on a body, Litestar's on a query parameter), so it is refused as it is read."""
    unbounded = []
    for method, path, kind in routes_with_bodies(served.client.app):
        info = msgspec.inspect.type_info(kind)
        unbounded += _unbounded_integers(info, f"{method} {path} ")
    for route in served.client.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for name, parameter in handler.parsed_fn_signature.parameters.items():
                definition = parameter.kwarg_definition
                if int not in (parameter.annotation, *typing.get_args(parameter.annotation)):
                    continue
                if definition is None or (definition.le is None and definition.lt is None):
                    unbounded.append(f"{route.path} ?{name}")
    assert unbounded == [], "\n".join(unbounded)


@pytest.mark.parametrize("cursor", CURSORS)
def test_a_paging_cursor_beyond_any_position_is_refused_on_every_list(served, cursor):
    client, bone = served.client, served.bone
    coordinator = served.coordinator
    for path in PAGED:
        for name in ("before", "after"):
            if name == "after" and cursor < 0:
                continue
            answer = client.get(path, params={name: cursor}, headers=coordinator)
            refused(answer, 400, "invalid-request")
    anonymous = client.get("/api/v1/motions", params={"before": cursor})
    refused(anonymous, 400, "invalid-request")
    # The largest position there can be is a cursor like any other: an empty or first page.
    for path in PAGED:
        answer = client.get(path, params={"before": 2**63 - 1}, headers=coordinator)
        assert answer.status_code == 200, answer.text
    assert bone.timebank.last_position() >= 0


def test_an_upload_without_its_file_is_refused(served):
    client, coordinator = served.client, served.coordinator
    before = served.bone.timebank.last_position()
    answer = client.post(
        "/api/v1/hours/imports",
        params={"key": "import-1"},
        files={"note": (None, "no file")},
        headers=coordinator,
    )
    refused(answer, 400, "invalid-request")
    empty = client.post(
        "/api/v1/hours/imports",
        params={"key": "import-1"},
        headers={**coordinator, "Content-Type": "multipart/form-data; boundary=x"},
        content=b"--x--\r\n",
    )
    refused(empty, 400, "invalid-request")
    assert served.bone.timebank.last_position() == before


ODD_QUERY_VALUES = [
    str(2**64),
    str(-(2**64)),
    "x" * 3000,
    "0001-01-01",
    "9999-12-31",
    "",
    "1e999",
    "a\x00b",  # PostgreSQL cannot hold a NUL, so it must not reach a query
]


def test_every_query_parameter_refuses_what_it_cannot_hold(served):
    """Each query parameter of every API route, given a value of another size or kind than it
    takes, is answered with a problem (or ignored), never with a server error."""
    client, bone = served.client, served.bone
    caller = everyone(bone)
    document = client.get("/schema/openapi.json").json()
    asked = 0
    for template, operations in document["paths"].items():
        path = re.sub(r"\{[^}]+\}", "community", template)
        path = path.replace("/community/", f"/{uuid.uuid4()}/") if "accounts" not in path else path
        for method, operation in operations.items():
            if method != "get":
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                for value in ODD_QUERY_VALUES:
                    asked += 1
                    answer = client.get(path, params={parameter["name"]: value}, headers=caller)
                    if answer.status_code >= 400:
                        answered_as_a_problem(
                            answer, f"GET {path}?{parameter['name']}={value[:20]}"
                        )
    assert asked > 100, asked


def test_every_path_parameter_refuses_what_it_cannot_hold(served):
    """A path parameter that is not a UUID, or far longer than any id, finds nothing; one with
    a control character is refused before it reaches a store (PostgreSQL cannot hold a NUL)."""
    client, bone = served.client, served.bone
    caller = everyone(bone)
    document = client.get("/schema/openapi.json").json()
    for template, operations in document["paths"].items():
        if "{" not in template or "get" not in operations or not template.startswith("/api/"):
            continue
        for value in ("x" * 3000, str(2**64), "%00"):
            path = re.sub(r"\{[^}]+\}", value, template)
            answer = client.get(path, headers=caller)
            assert answer.status_code in (400, 404, 422), f"GET {path[:80]}: {answer.text[:300]}"
            answered_as_a_problem(answer, f"GET {template} with {value[:10]}")
