"""The OpenAPI document describes every operation as the API really answers it: each error
status a route can answer as problem+json, the success statuses and media types it really
uses, and which operations need no sign-in. (tests/integration/test_fuzz.py checks real answers
against it; this test checks what it must say, operation by operation.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from domain.identity import Role
from services.composition.app import create_app
from tests.integration.support import make_backbone

METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM = "application/problem+json"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}  # RFC 9457, and our stable code
PUBLIC = {
    ("post", "/api/v1/auth/staff"),
    ("post", "/api/v1/auth/kiosk"),
    ("post", "/api/v1/auth/kiosk/pin"),
    ("get", "/health"),
    ("get", "/api/v1/motions"),
    ("get", "/api/v1/motions/tracker"),
    ("get", "/api/v1/motions/{motion_id}"),
    ("get", "/api/v1/motions/{motion_id}/tally"),
    ("get", "/api/v1/meetings"),
    ("get", "/api/v1/meetings/{meeting_id}/minutes"),
    ("get", "/api/v1/council/rules"),
    ("get", "/api/v1/certificates/{code}"),
}
SIGN_INS = {
    ("post", "/api/v1/auth/staff"),
    ("post", "/api/v1/auth/kiosk"),
    ("post", "/api/v1/auth/kiosk/pin"),
}
CSV = {
    ("get", "/api/v1/hours/{entry_id}/history.csv"),
    ("get", "/api/v1/volunteers/{volunteer_id}/hours/export"),
    ("get", "/api/v1/reports/monitoring/export"),
}


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    tmp_path = tmp_path_factory.mktemp("openapi")
    bone = make_backbone(  # with the pages, as `timebank up` serves it: they stay out of it
        tmp_path,
        str(tmp_path / "events.sqlite"),
        str(tmp_path / "reads.sqlite"),
        "nats://-",
        pages=True,
    )
    with TestClient(create_app(bone)) as client:
        answer = client.get("/schema/openapi.json")
        assert answer.status_code == 200, answer.text
        return answer.json()


def operations(document: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def parameters(operation: dict, where: str) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == where}


def _expected_errors(method: str, path: str, operation: dict) -> set[int]:
    """What each route can answer, from what the app does: guards, path, query, body, writes."""
    expected: set[int] = set()
    if (method, path) not in PUBLIC:
        expected |= {401, 403}
    if (method, path) in SIGN_INS:
        expected |= {401, 423, 429}
    if parameters(operation, "path"):
        expected |= {404}
    if parameters(operation, "query"):
        expected |= {400, 422}
    if "after" in parameters(operation, "query"):
        expected |= {503}
    if "station" in parameters(operation, "query"):
        expected |= {404}  # a station there is not
    if "requestBody" in operation:
        expected |= {400, 413, 415, 422}
    if method != "get":
        expected |= {404, 409, 422, 503}
    return expected


def test_the_document_is_the_apis_only(document):
    assert document["paths"], "no operations documented"
    assert not [path for path in document["paths"] if not path.startswith(("/api/", "/health"))]
    assert "security" not in document, "a global requirement would cover the public operations"
    schemes = document["components"]["securitySchemes"]
    assert schemes["KioskToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Kiosk-Token",
        "description": schemes["KioskToken"]["description"],
    }
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert PROBLEM_FIELDS <= set(problem["required"]) <= set(problem["properties"])


def test_every_error_an_operation_can_answer_is_documented_as_problem_json(document):
    wrong = {}
    for method, path, operation in operations(document):
        responses = operation["responses"]
        errors = {int(status) for status in responses if int(status) >= 400}
        if path == "/health":
            errors.discard(503)  # the health body itself, with status "degraded"
        if errors != _expected_errors(method, path, operation):
            wrong[f"{method} {path}"] = sorted(errors ^ _expected_errors(method, path, operation))
        for status in errors:
            content = responses[str(status)]["content"]
            assert list(content) == [PROBLEM], (method, path, status)
            assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
    assert not wrong, f"documented errors differ from what the routes answer: {wrong}"


def test_the_headers_that_say_when_to_retry_are_documented(document):
    """A throttled sign-in says when to try again, in Retry-After and RateLimit-*; a 503 may
    say it in Retry-After (tests/integration/test_privacy.py shows them sent)."""
    seen = set()
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            if status == "429":
                assert headers["Retry-After"]["required"], (method, path)
                assert {"RateLimit-Remaining", "RateLimit-Reset"} <= set(headers)
                seen.add(429)
            if status == "503" and path != "/health":
                assert headers["Retry-After"]["schema"]["type"] == "integer", (method, path)
                seen.add(503)
    assert seen == {429, 503}


def test_public_operations_need_no_sign_in_and_the_others_say_which(document):
    for method, path, operation in operations(document):
        security = operation.get("security")
        if (method, path) in PUBLIC:
            assert not security, (method, path, security)
        else:
            assert security, (method, path)
            for requirement in security:  # each names the roles it admits
                roles = set(requirement["BearerToken"])
                assert roles and roles <= set(Role), (method, path, requirement)
                members = roles & {Role.RESIDENT, Role.VOLUNTEER}
                assert ("KioskToken" in requirement) == bool(members), (method, path)
    found = {(m, p) for m, p, op in operations(document) if not op.get("security")}
    assert found == PUBLIC


def test_success_statuses_and_media_types_are_the_ones_answered(document):
    for method, path, operation in operations(document):
        successes = {s: r for s, r in operation["responses"].items() if int(s) < 400}
        assert successes, (method, path)
        receipt = "#/components/schemas/Receipt"
        if any(_schema(response) == {"$ref": receipt} for response in successes.values()):
            # context.answer: 201 when recorded, 200 for a retry that recorded nothing
            assert set(successes) == {"200", "201"}, (method, path, set(successes))
        for response in successes.values():
            media = set(response.get("content", {}))
            if (method, path) in CSV:
                assert media == {"text/csv"}, (method, path, media)
                assert response["content"]["text/csv"]["schema"]["type"] == "string"
            else:
                assert media == {"application/json"}, (method, path, media)
    rules = dict(operations_by_key(document))[("put", "/api/v1/council/rules")]
    assert set(rules["responses"]) >= {"201"}


def _schema(response: dict) -> dict | None:
    content = response.get("content") or {}
    return content.get("application/json", {}).get("schema")


def operations_by_key(document: dict) -> Iterator[tuple[tuple[str, str], dict]]:
    for method, path, operation in operations(document):
        yield (method, path), operation


def _body_schema(document: dict, method: str, path: str) -> dict:
    schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    reference = schema["schema"]["$ref"]
    return document["components"]["schemas"][reference.rsplit("/", 1)[-1]]


@pytest.mark.parametrize("path", ["/api/v1/auth/kiosk", "/api/v1/auth/kiosk/pin"])
def test_a_member_number_is_documented_as_6_to_10_digits(document, path):
    number = _body_schema(document, "post", path)["properties"]["member_number"]
    assert number["pattern"] == "^[1-9][0-9]{5,9}$"
    written = ("123456", "1234567890", "12345678901", "012345")
    accepted = [n for n in written if re.match(number["pattern"], n)]
    assert accepted == ["123456", "1234567890"]
