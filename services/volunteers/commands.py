"""What coordinators ask of the volunteer registry, as they say it."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.volunteer import Rating, VolunteerStatus
from services.bus import Command, IdempotencyKey, Reason, RuledNumber
from services.windows import BornOn, DoneOn, Windowed

Label = Annotated[str, Meta(min_length=1, max_length=40)]
Labels = Annotated[list[Label], Meta(max_length=20)]
Text = Annotated[str, Meta(min_length=1, max_length=200)]
Building = Annotated[str, Meta(max_length=40)]
# A choice, as on Chinese forms (GB/T 2261.1's 男, 女 and 未说明的性别), never free text.
Gender = Annotated[Literal["女", "男", "未说明"], Meta(description="女, 男 or 未说明 (not stated)")]


class VolunteerBasics(Windowed, kw_only=True):
    """The basic information of Art. 5 as a coordinator enters it: the API and the console's
    form check it alike, and both seal it as the same details."""

    name: Annotated[str, Meta(min_length=1, max_length=60)]
    gender: Gender
    birth_date: BornOn
    id_number: Annotated[str, Meta(min_length=6, max_length=30)]
    area: Text
    contact: Annotated[str, Meta(min_length=5, max_length=40)]


class RegisterVolunteer(VolunteerBasics, Command, kw_only=True):
    # Seals the basic information in the vault with the member's key.
    writes_outside_the_store: ClassVar[bool] = True

    member_id: UUID
    skills: Labels = msgspec.field(default_factory=list)
    categories: Labels = msgspec.field(default_factory=list)
    building: Building = ""
    consent_version: Annotated[
        str, Meta(min_length=1, max_length=40, description="The notice the person agreed to")
    ]


class StatusChange(Command, kw_only=True):
    status: VolunteerStatus
    reason: Reason


class ChangeVolunteerStatus(StatusChange, kw_only=True):
    volunteer_id: UUID


class Profile(Command, kw_only=True):
    skills: Labels
    categories: Labels
    building: Building = ""


class UpdateVolunteerProfile(Profile, kw_only=True):
    volunteer_id: UUID


class Award(Command, kw_only=True):
    name: Text
    awarded_on: DoneOn
    awarded_by: Text


class RecordAward(Award, kw_only=True):
    volunteer_id: UUID


class Evaluation(Command, kw_only=True):
    rating: Rating
    evaluated_on: DoneOn
    stars: RuledNumber | None = None
    note: Annotated[str, Meta(max_length=500)] = ""


class RecordEvaluation(Evaluation, kw_only=True):
    volunteer_id: UUID


class RecordTraining(Command, kw_only=True):
    idempotency_key: IdempotencyKey
    name: Text
    content: Annotated[str, Meta(max_length=1000)] = ""
    minutes: Annotated[int, Meta(gt=0, le=24 * 60)]
    organiser: Text
    held_on: DoneOn
    attendees: Annotated[list[UUID], Meta(min_length=1, max_length=500)]
    station: Annotated[
        UUID | None,
        Meta(description="The station that held it; by default the one of whoever records it"),
    ] = None
