"""The council pages: for council officers in the meeting room (a laptop and a projector) —
the motion board and timelines, meetings with their agendas and attendance, votes with a live
tally, printable minutes, the implementation tracker and the voting rules."""

from __future__ import annotations

from typing import Any

from services.pages.council import meetings, motions, tracker
from services.pages.council.minutes import MinutesPages
from services.pages.council.rules import RulesPages
from services.pages.council.votes import VotePages

PAGES: list[Any] = [
    motions.MotionPages,
    *motions.ACTIONS,
    meetings.MeetingPages,
    *meetings.ACTIONS,
    MinutesPages,
    VotePages,
    tracker.TrackerPages,
    *tracker.ACTIONS,
    RulesPages,
]
