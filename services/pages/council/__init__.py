"""The council pages: for council officers in the meeting room (a laptop and a projector) —
the motion board and timelines, meetings with their agendas and attendance, votes with a live
tally, printable minutes, the implementation tracker and the voting rules."""

from __future__ import annotations

from typing import Any

from services.pages.council import meetings, motions, tracker, votes
from services.pages.council.minutes import MinutesPages
from services.pages.council.rules import RulesPages

PAGES: list[Any] = [
    motions.MotionPages,
    *motions.ACTIONS,
    meetings.MeetingPages,
    *meetings.ACTIONS,
    MinutesPages,
    votes.VotePages,
    *votes.ACTIONS,
    tracker.TrackerPages,
    *tracker.ACTIONS,
    RulesPages,
]
