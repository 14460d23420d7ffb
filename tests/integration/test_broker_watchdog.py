"""The embedded broker's watchdog (`timebank up`): a nats-server that dies and cannot be
started again at once (its port briefly held by something else) is tried again, with back-off,
for as long as `up` runs; /health says so meanwhile, and nothing recorded meanwhile is lost.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from litestar.testing import TestClient

from projections.catalog import READ_MODELS
from services.composition.app import create_app
from services.composition.workers import Workers
from services.messaging.broker import EmbeddedBroker
from tests.integration.support import (
    COMMUNITY,
    Background,
    caught_up,
    make_backbone,
    open_member,
    staff_headers,
    wait_until,
)


@contextmanager
def _killed_and_port_held(broker: EmbeddedBroker) -> Iterator[None]:
    """SIGKILL the broker and hold its port until the block ends. Should the watchdog start
    it again before the port is taken, kill it again."""
    while True:
        assert broker.pid is not None
        os.kill(broker.pid, signal.SIGKILL)
        holder = _held(broker.port)
        if holder is not None:
            break
        wait_until(broker.is_running, what="the broker the watchdog started again")
    with holder:
        holder.listen()
        yield


def _held(port: int) -> socket.socket | None:
    """A socket bound to ``port`` within a second, or None if something else listens there."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def bound() -> bool:
        try:
            holder.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True

    try:
        wait_until(bound, timeout=1.0, what=f"port {port} to be free")
    except AssertionError:
        holder.close()
        return None
    return holder


def _health(client: TestClient) -> tuple[int, dict]:
    answer = client.get("/health")
    return answer.status_code, answer.json()


def test_the_watchdog_keeps_restarting_the_broker_until_it_comes_back(stores, tmp_path, capsys):
    broker = EmbeddedBroker(tmp_path / "nats")
    broker.start()
    try:
        bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
        bone.broker = broker
        member = open_member(bone, "member-1").id
        workers = Workers(bone, relay=True, models=tuple(READ_MODELS), broker=broker)
        with Background(workers.run), TestClient(create_app(bone)) as client:
            client.headers.update(staff_headers(bone))
            wait_until(lambda: caught_up(bone), what="the read models before the outage")
            status, healthy = _health(client)
            assert status == 200 and healthy["status"] == "ok", healthy
            assert healthy["embedded_broker"] == {
                "state": "running",
                "failures": 0,
                "last_error": None,
            }

            positions = []
            with _killed_and_port_held(broker):
                wait_until(
                    lambda: _health(client)[1]["embedded_broker"]["failures"] >= 3,
                    what="three failed restarts",
                )
                status, down = _health(client)
                assert status == 503 and down["status"] == "degraded", down
                assert down["embedded_broker"]["state"] == "restarting"
                assert "address already in use" in down["embedded_broker"]["last_error"]
                for i in range(5):  # accepted meanwhile, relayed once the broker is back
                    answer = client.post(
                        "/api/v1/transfers",
                        json={
                            "idempotency_key": f"during-the-outage-{i}",
                            "from_account": str(COMMUNITY),
                            "to_account": str(member),
                            "minutes": 10,
                        },
                    )
                    assert answer.status_code == 201, answer.text
                    positions.append(answer.json()["position"])
                logged = capsys.readouterr().err.count("broker.restart_failed")
                assert logged >= down["embedded_broker"]["failures"], "each failure is logged"

            wait_until(lambda: _health(client)[0] == 200, what="the broker to come back")
            status, back = _health(client)
            assert back["status"] == "ok" and back["embedded_broker"]["state"] == "running"
            assert back["embedded_broker"]["failures"] >= 3
            shown = client.get(f"/api/v1/accounts/{member}", params={"after": positions[-1]})
            assert shown.status_code == 200, shown.text
            assert shown.json()["balance"] == 50
            wait_until(lambda: caught_up(bone), what="every read model after the outage")
    finally:
        broker.stop()


def test_a_second_broker_on_one_store_is_refused(broker):
    """`timebank up` and a `timebank rebuild` that started the broker of a stopped `up` must
    never run two nats-servers on one JetStream store."""
    second = EmbeddedBroker(broker.store_dir)
    with pytest.raises(RuntimeError, match="already serves"):
        second.start()
    assert not second.is_running()
