"""Each request is logged once, with its correlation id, which every other line logged while
serving it and the events it records carry too."""

from __future__ import annotations

import json
import uuid

from litestar.testing import TestClient

from services.composition.app import create_app
from services.web.context import CORRELATION_HEADER
from tests.integration.support import COMMUNITY, make_backbone, open_member, staff_headers


def _lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_a_request_is_logged_once_with_its_correlation_id(capfd, sqlite_stores, broker, tmp_path):
    bone = make_backbone(
        tmp_path, sqlite_stores.new("events"), sqlite_stores.new("reads"), broker.url
    )
    taker = open_member(bone, "taker").id
    headers = staff_headers(bone)
    with TestClient(create_app(bone)) as client:
        capfd.readouterr()  # only these requests' lines, below
        posted = client.post(
            "/api/v1/transfers",
            json={
                "idempotency_key": uuid.uuid4().hex,
                "from_account": "community",
                "to_account": str(taker),
                "minutes": 30,
            },
            headers={**headers, CORRELATION_HEADER: "trace-7f3a"},
        )
        unsigned = client.get(f"/api/v1/accounts/{taker}", params={"q": "x"})
    assert (posted.status_code, unsigned.status_code) == (201, 401)
    lines = _lines(capfd.readouterr().err)

    served = [line for line in lines if line["event"] == "http.request"]
    assert [(line["method"], line["path"], line["status_code"]) for line in served] == [
        ("POST", "/api/v1/transfers", 201),
        ("GET", f"/api/v1/accounts/{taker}", 401),  # refused before any route ran
    ]
    assert served[0]["correlation_id"] == "trace-7f3a"
    assert served[1]["query"] == {"q": ["x"]}
    assert len(served[1]["correlation_id"]) == 32  # made up, as none was sent
    recorded = [line for line in lines if line["event"] == "events.recorded"]
    # Saved with the other requests that came at the same moment (none here): the line of
    # that save names them all.
    assert [line["correlation_ids"] for line in recorded] == [["trace-7f3a"]]
    assert recorded[0]["position"] == posted.json()["position"]
    assert "Bearer" not in json.dumps(lines)

    events = bone.timebank.events.get(uuid.UUID(posted.json()["id"]))
    assert [event.by.correlation_id for event in events] == ["trace-7f3a"]
    community = bone.timebank.events.get(COMMUNITY, desc=True, limit=1)
    assert [event.by.correlation_id for event in community] == ["trace-7f3a"]
