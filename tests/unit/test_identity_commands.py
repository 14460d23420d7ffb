"""Identity's commands as the bus sees them: each has its handler; one that hashes a secret
runs alone (argon2 would hold up the event loop a group is saved on); one that seals or
erases personal data in the key store is never dry-run."""

from __future__ import annotations

from uuid import uuid4

import msgspec
import pytest

from domain.provenance import Provenance
from services.bus import Bus, Caller, Command
from services.composition import runtime
from services.identity import commands
from services.identity.handlers import HANDLERS

SECRETS = {"password", "pin", "setup_code"}
COMMANDS = [
    kind
    for kind in vars(commands).values()
    if isinstance(kind, type) and issubclass(kind, Command) and kind in HANDLERS
]


def test_every_command_the_routes_send_has_its_handler_on_the_bus():
    assert len(COMMANDS) == 15
    assert all(runtime.HANDLERS[kind] is HANDLERS[kind] for kind in COMMANDS)


@pytest.mark.parametrize("kind", COMMANDS, ids=lambda kind: kind.__name__)
def test_a_command_that_hashes_a_secret_runs_alone(kind):
    fields = {field.name for field in msgspec.structs.fields(kind)}
    hashes = bool(fields & SECRETS) or kind is commands.IssueSetupCode  # makes a code
    assert kind.alone is hashes


@pytest.mark.parametrize(
    "command",
    [
        commands.RegisterMember(
            display_name="王秀英", building="3号楼", household="3-201", phone="13800000000"
        ),
        commands.ErasePersonalData(member_id=uuid4(), reason="本人要求"),
    ],
    ids=lambda command: type(command).__name__,
)
def test_sealing_or_erasing_personal_data_is_never_dry_run(command):
    bus = Bus(station=None, handlers=HANDLERS)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="writes outside the store"):
        bus.check(command, Caller(Provenance("test", "test", "test")))
