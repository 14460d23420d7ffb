"""`timebank up`: one command runs everything, stops cleanly, and resumes where it stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from projections.catalog import READ_MODELS
from services.messaging.broker import free_port
from tests.integration.support import (
    COMMUNITY,
    caught_up,
    live_dumps,
    make_backbone,
    open_member,
    run_workers,
    transfer,
    wait_until,
)

TIMEBANK = str(Path(sys.executable).parent / "timebank")
PASSWORD = "a long test password"


def _command_line(pid: int) -> str:
    """A process's command line; empty once it is gone (a killed child may be reaped between
    listing it and reading it)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""


class Up:
    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
        self.process = subprocess.Popen(
            [TIMEBANK, "up", "--data", str(data), "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.banner = self.process.stdout.readline() if self.process.stdout else ""
        wait_until(self._healthy, timeout=60, what="timebank up")

    def _healthy(self) -> bool:
        assert self.process.poll() is None, "timebank up exited"
        try:
            return httpx.get(f"{self.url}/health").json()["status"] == "ok"
        except httpx.HTTPError:
            return False

    def broker_pids(self) -> list[int]:
        return self._children("nats-server")

    def projector_pids(self) -> list[int]:
        return self._children("services.composition.cli\0project")

    def _children(self, command: str) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return [pid for pid in map(int, children.split()) if command in _command_line(pid)]

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(30)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _create_coordinator(data: Path) -> None:
    env = {**os.environ, "TIMEBANK_STAFF_PASSWORD": PASSWORD}
    done = subprocess.run(
        [
            TIMEBANK,
            "admin",
            "create-staff",
            "--username",
            "coord",
            "--role",
            "coordinator",
            "--data",
            str(data),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "created" in done.stdout


def _signed_in(url: str) -> dict[str, str]:
    answer = httpx.post(
        f"{url}/api/v1/auth/staff", json={"username": "coord", "password": PASSWORD}
    )
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _opened(url: str, auth: dict[str, str], owner: str) -> str:
    """Open a member's account through `up`'s API; its id."""
    return str(
        httpx.post(f"{url}/api/v1/accounts", json={"owner": owner}, headers=auth).json()["id"]
    )


def _moved(url: str, auth: dict[str, str], key: str, source: str, target: str, minutes: int) -> int:
    """Post a transfer through `up`'s API; the position it reached."""
    posted = httpx.post(
        f"{url}/api/v1/transfers",
        headers=auth,
        json={
            "idempotency_key": key,
            "from_account": source,
            "to_account": target,
            "minutes": minutes,
        },
    )
    assert posted.status_code == 201, posted.text
    return int(posted.json()["position"])


def _balance(url: str, auth: dict[str, str], account: str, after: int) -> int:
    """The balance once the read models reach ``after``. `up` waits 2 s for them, and then
    answers 503 `read-model-behind` (the projector of a freshly started `up` on a busy machine
    can take longer); a client asks again, and so does this."""
    answers: list[httpx.Response] = []

    def answered() -> bool:
        answers.append(
            httpx.get(f"{url}/api/v1/accounts/{account}", params={"after": after}, headers=auth)
        )
        return answers[-1].status_code != 503

    wait_until(answered, what="the read models to reach the transfer")
    return int(answers[-1].json()["balance"])


def test_up_runs_everything_stops_cleanly_and_resumes(tmp_path):
    data = tmp_path / "data"
    _create_coordinator(data)
    first = Up(data)
    try:
        assert first.url in first.banner
        auth = _signed_in(first.url)
        (broker,) = first.broker_pids()
        (projector,) = first.projector_pids()
        account = _opened(first.url, auth, "m-1")
        position = _moved(first.url, auth, "up-test-1", "community", account, 90)
        assert _balance(first.url, auth, account, position) == 90
    finally:
        assert first.stop(signal.SIGTERM) == 0
    assert not _alive(broker), "nats-server outlived `timebank up`"
    assert not _alive(projector), "the projector outlived `timebank up`"

    second = Up(data)
    try:
        auth = _signed_in(second.url)
        shown = httpx.get(f"{second.url}/api/v1/accounts/{account}", headers=auth)
        assert shown.json()["balance"] == 90
        position = _moved(second.url, auth, "up-test-2", account, "pool", 30)
        assert _balance(second.url, auth, account, position) == 60
        health = httpx.get(f"{second.url}/health").json()
        assert health["stream_position"] == health["store_position"] == position
    finally:
        second.stop(signal.SIGINT)


def test_up_starts_its_projector_again_when_it_dies(tmp_path):
    data = tmp_path / "data"
    _create_coordinator(data)
    up = Up(data)
    try:
        auth = _signed_in(up.url)
        (projector,) = up.projector_pids()
        os.kill(projector, signal.SIGKILL)
        wait_until(
            lambda: up.projector_pids() not in ([], [projector]), what="a new projector process"
        )
        account = _opened(up.url, auth, "m-1")
        position = _moved(up.url, auth, "after-the-restart", "community", account, 45)
        assert _balance(up.url, auth, account, position) == 45
    finally:
        assert up.stop(signal.SIGTERM) == 0


@pytest.mark.timeout(120)
def test_a_killed_up_leaves_no_broker_or_projector_behind(tmp_path):
    up = Up(tmp_path / "data")
    (broker,) = up.broker_pids()
    (projector,) = up.projector_pids()
    up.stop(signal.SIGKILL)
    wait_until(lambda: not _alive(broker), timeout=20, what="nats-server to exit")
    wait_until(lambda: not _alive(projector), timeout=20, what="the projector to exit")


def test_rebuild_command_recreates_a_read_model_equal_to_the_live_one(broker, tmp_path):
    events, reads = str(tmp_path / "events.sqlite"), str(tmp_path / "reads.sqlite")
    bone = make_backbone(tmp_path, events, reads, broker.url)
    giver = open_member(bone, "giver", grant=300)
    for i in range(30):
        transfer(bone, f"t-{i}", giver.id, COMMUNITY, 5)
    with run_workers(bone):
        wait_until(lambda: caught_up(bone), what="read models")
    live = live_dumps(bone)
    with bone.reads.transaction(commit=True) as db:
        for model in READ_MODELS.values():
            for table in model.tables:
                db.execute(f"DELETE FROM {table}")
    assert live_dumps(bone) != live
    env = {
        **os.environ,
        "TIMEBANK_NATS_URL": broker.url,
        "TIMEBANK_EVENT_STORE": events,
        "TIMEBANK_READ_STORE": reads,
        "TIMEBANK_DATA": str(tmp_path / "data"),
    }
    for name in live:
        done = subprocess.run(
            [TIMEBANK, "rebuild", name], env=env, capture_output=True, text=True, check=True
        )
        assert f"{name} rebuilt up to position {bone.timebank.last_position()}" in done.stdout
    assert live_dumps(bone) == live


def _rebuild(data: Path, name: str) -> subprocess.CompletedProcess[str]:
    """`timebank rebuild` as the operator of `up` runs it: the data directory, nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    return subprocess.run(
        [TIMEBANK, "rebuild", name, "--data", str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _statement(url: str, auth: dict[str, str], account: str, after: int) -> list[int]:
    shown = httpx.get(
        f"{url}/api/v1/accounts/{account}/statement", params={"after": after}, headers=auth
    )
    assert shown.status_code == 200, shown.text
    return [entry["minutes"] for entry in shown.json()["entries"]]


def test_an_operator_of_up_rebuilds_a_read_model_whether_up_runs_or_not(tmp_path):
    data = tmp_path / "data"
    _create_coordinator(data)
    up = Up(data)
    try:
        auth = _signed_in(up.url)
        account = _opened(up.url, auth, "m-1")
        for i in range(5):
            _moved(up.url, auth, f"before-{i}", "community", account, 10 + i)
        done = _rebuild(data, "statements")  # beside the running `up`, through its broker
        assert done.returncode == 0, done.stdout + done.stderr
        assert "statements rebuilt up to position" in done.stdout
        position = _moved(up.url, auth, "after-the-rebuild", "community", account, 20)
        assert _statement(up.url, auth, account, position) == [20, 14, 13, 12, 11, 10]
        (broker,) = up.broker_pids()
    finally:
        assert up.stop(signal.SIGTERM) == 0
    assert not _alive(broker)

    done = _rebuild(data, "statements")  # `up` stopped: it starts the broker on `up`'s store
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"statements rebuilt up to position {position}" in done.stdout
    again = Up(data)
    try:
        auth = _signed_in(again.url)
        assert _statement(again.url, auth, account, position) == [20, 14, 13, 12, 11, 10]
    finally:
        assert again.stop(signal.SIGTERM) == 0
