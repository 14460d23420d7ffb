"""Everything the council's public board, tracker and meeting list show (a motion's title and
text, an amendment, its owner, progress notes, milestones, the reasons on its timeline, a
meeting's title and place, why the rules changed), and the categories the kiosk lists, are held
to the marketplace's rule: no phone or ID numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from domain.listing import Categories
from domain.meeting import call_meeting
from domain.motion import MotionStatus
from domain.rules import RuleViolated
from tests.unit.test_council_rules import BY, WHEN, World, rules

PHONE, ID_NUMBER = "请打 138 0013 8000", "身份证110101196003080028"


def _actions(world: World, contact: str) -> dict[str, Callable[[], object]]:
    parent = world.admitted()
    declined, withdrawn = world.seconded(), world.submit()
    implementing = world.implementing()
    return {
        "title": lambda: world.submit(title=f"修路灯{contact}"),
        "text": lambda: world.submit(text=f"北门路灯坏了，{contact}"),
        "amendment": lambda: world.submit(text=f"改为三盏，{contact}", amends=parent),
        "declining": lambda: declined.decline(f"重复了，{contact}", BY),
        "withdrawal": lambda: withdrawn.withdraw(withdrawn.mover, f"不需要了，{contact}", BY),
        "progress": lambda: implementing.report_progress(50, f"已联系，{contact}", BY),
        "milestone": lambda: implementing.add_milestone(f"验收{contact}", date(2024, 9, 1), BY),
        "owner handed over": lambda: implementing.reassign(
            "staff:00000000-0000-0000-0000-000000000001", f"换人，{contact}", BY
        ),
        "outcome": lambda: implementing.finish(MotionStatus.STALLED, f"等待，{contact}", BY),
        "meeting title": lambda: call_meeting(
            idempotency_key="m-1",
            title=f"春季会议{contact}",
            starts_at=WHEN,
            place="礼堂",
            entitled=(parent.mover,),
            by=BY,
        ),
        "meeting place": lambda: call_meeting(
            idempotency_key="m-2",
            title="春季会议",
            starts_at=WHEN,
            place=f"礼堂{contact}",
            entitled=(parent.mover,),
            by=BY,
        ),
        "rules": lambda: world.council.change(rules(secret=True), f"投票表决，{contact}", BY),
    }


@pytest.mark.parametrize("contact", [PHONE, ID_NUMBER])
@pytest.mark.parametrize("where", list(_actions(World(), "").keys()))
def test_public_council_text_refuses_contact_details(where: str, contact: str) -> None:
    world = World()
    action = _actions(world, contact)[where]
    world.flush()
    with pytest.raises(RuleViolated) as caught:
        action()
    assert caught.value.code == "contact-details-in-text"
    assert world.pending() == []


@pytest.mark.parametrize("where", list(_actions(World(), "").keys()))
def test_dates_times_and_short_numbers_are_no_contact_details(where: str) -> None:
    world = World()
    _actions(world, "，2024-05-01 09:30，3号楼1203室")[where]()


@pytest.mark.parametrize("contact", [PHONE, ID_NUMBER])
def test_a_category_named_with_contact_details_is_refused(contact: str) -> None:
    """Every category is listed on the kiosk's board."""
    categories = Categories(BY)
    categories.collect_events()
    for name_zh, name_en in [(f"园艺{contact}", "Gardening"), ("园艺", f"Gardening {contact}")]:
        with pytest.raises(RuleViolated) as caught:
            categories.add("gardening", name_zh, name_en, BY)
        assert caught.value.code == "contact-details-in-text"
    assert categories.collect_events() == []
