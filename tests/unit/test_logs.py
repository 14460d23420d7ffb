"""Personal values never reach a log line: the redaction processor, through the real config."""

from __future__ import annotations

import json

import structlog

from services.composition.logs import REDACTED, configure_logging


def test_personal_values_are_redacted_wherever_they_sit(capfd):
    configure_logging()
    capfd.readouterr()  # only this test's line, below
    structlog.get_logger("test").info(
        "member.registered",
        member_id="2f1c7a52",
        phone="+86 139-8765-4321",
        position=42,
        request={
            "path": "/api/v1/members",
            "body": {"display_name": "诸葛秀琴", "pin": "2468", "building": "Block 12"},
            "Authorization": "Bearer secret-token",
        },
        people=[
            {"Phone": "13987654321", "member_number": "123456"},
            ("plain", {"id_number": "11010519491231002X", "minutes": 30}),
            "just text",
        ],
        details={"display_name": "诸葛秀琴", "household": "12-0801"},
    )
    out, err = capfd.readouterr()
    assert not out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    logged = json.loads(lines[0])

    assert logged["phone"] == REDACTED
    assert logged["details"] == REDACTED  # a personal key's value goes whole, however nested
    assert logged["request"] == {
        "path": "/api/v1/members",
        "body": {"display_name": REDACTED, "pin": REDACTED, "building": REDACTED},
        "Authorization": REDACTED,  # keys match regardless of case
    }
    assert logged["people"] == [
        {"Phone": REDACTED, "member_number": "123456"},
        ["plain", {"id_number": REDACTED, "minutes": 30}],
        "just text",
    ]
    # Everything else passes untouched.
    assert (logged["event"], logged["member_id"], logged["position"]) == (
        "member.registered",
        "2f1c7a52",
        42,
    )
    assert logged["level"] == "info" and "timestamp" in logged
    for secret in ("13987654321", "139-8765-4321", "诸葛秀琴", "2468", "secret-token", "1949"):
        assert secret not in err
