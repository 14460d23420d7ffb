"""A confirmation screen asks the domain what a command would do (``Bus.check``, by way of
``services.store.staging.dry_run``) instead of re-spelling its rules: the dry run answers as the
command would, or raises the rule that refuses it, and records nothing either way."""

from __future__ import annotations

import pytest

from domain.rules import RuleViolated
from services.ledger import handlers as ledger
from services.store.staging import dry_run
from tests.integration.support import make_backbone, open_member, transfer_on


def test_a_dry_run_answers_or_refuses_as_the_command_would_and_records_nothing(
    broker, sqlite_stores, tmp_path
):
    events, reads = sqlite_stores.new("events"), sqlite_stores.new("reads")
    bone = make_backbone(tmp_path, events, reads, broker.url)
    wang = open_member(bone, "member-wang", grant=60)
    li = open_member(bone, "member-li")
    before = bone.timebank.last_position()

    would = dry_run(transfer_on, bone.timebank, "dry-1", wang.id, li.id, 60)
    with pytest.raises(RuleViolated) as refused:
        dry_run(transfer_on, bone.timebank, "dry-2", li.id, wang.id, 700)

    assert refused.value.code == "below-floor"
    assert bone.timebank.last_position() == before
    assert ledger.account_of(bone.timebank, wang.id).balance == 60
    # The command itself, run for real afterwards, is the one the dry run described.
    done = transfer_on(bone.timebank, "dry-1", wang.id, li.id, 60)
    assert done.id == would.id
    assert bone.timebank.last_position() > before
    assert ledger.account_of(bone.timebank, li.id).balance == 60
