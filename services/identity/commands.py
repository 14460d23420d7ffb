"""What staff, residents and kiosks ask of identity and privacy, as they say it."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.identity import MEMBER_NUMBER_LONGEST, MEMBER_NUMBER_SHORTEST, CouncilTitle, Role
from domain.station import Level, Scope
from services.bus import Command, Reason
from services.windows import BornOn

# Also the pattern of every form field a member number is typed in (an HTML pattern is whole).
MEMBER_NUMBER_PATTERN = f"[1-9][0-9]{{{MEMBER_NUMBER_SHORTEST - 1},{MEMBER_NUMBER_LONGEST - 1}}}"
MemberNumber = Annotated[
    str,
    Meta(
        pattern=f"^{MEMBER_NUMBER_PATTERN}$",
        description=f"{MEMBER_NUMBER_SHORTEST} to {MEMBER_NUMBER_LONGEST} digits",
    ),
]
Pin = Annotated[str, Meta(pattern=r"^[0-9]{4,6}$", description="4 to 6 digits")]
SetupCode = Annotated[
    str, Meta(pattern=r"^[0-9]{8}$", description="the 8-digit one-time code the station gave")
]
Password = Annotated[str, Meta(min_length=10, max_length=200)]
Username = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_.-]{2,31}$")]
Text = Annotated[str, Meta(min_length=1, max_length=100)]
NoticeVersion = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]{1,32}$")]
KioskName = Annotated[str, Meta(min_length=1, max_length=64)]
KioskToken = Annotated[str, Meta(max_length=200)]  # the device token, from its header or cookie
StationChoice = Annotated[
    UUID | None, Meta(description="The station; by default the one of whoever registers it")
]


class WithSecret(Command):
    """A command that hashes or checks a password, PIN or setup code. The hash is slow on
    purpose (argon2), so it runs alone, in its request's own thread: in a group, on the event
    loop, it would hold up every other request while it hashed."""

    alone: ClassVar[bool] = True


class Reach(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How far a staff account's work reaches: one station (by id), a street (its district
    and street) or a district."""

    level: Level
    station: UUID | None = None
    district: Text | None = None
    street: Text | None = None

    @property
    def scope(self) -> Scope:
        return Scope(Level(self.level), self.station, self.district, self.street)

    @classmethod
    def written(cls, text: str) -> Reach:
        """``station:<station id>``, ``street:<district>/<street>`` or ``district:<district>``
        (msgspec.ValidationError if it is none of them)."""
        level, _, where = text.partition(":")
        district, _, street = where.partition("/")
        fields = {
            "station": {"station": where},
            "street": {"district": district, "street": street},
            "district": {"district": where},
        }
        return msgspec.convert({"level": level, **fields.get(level, {})}, cls)


class CreateStaffAccount(WithSecret):
    username: Username
    role: Role
    password: Password
    title: CouncilTitle | None = None  # council officers: chair or secretary
    reach: Annotated[
        Reach | None, Meta(description="By default the station of the one creating it")
    ] = None


class NewPassword(Command):
    password: Password


class SetStaffPassword(NewPassword, WithSecret, kw_only=True):
    staff_id: UUID


class Deactivation(Command):
    reason: Reason


class DeactivateStaff(Deactivation, kw_only=True):
    staff_id: UUID


class NewReach(Command):
    reach: Reach
    reason: Reason


class ChangeStaffReach(NewReach, kw_only=True):
    staff_id: UUID


class RegisterMember(WithSecret):
    # Seals the resident's details with a key it makes in the key store: not dry-run.
    writes_outside_the_store: ClassVar[bool] = True

    display_name: Text
    building: Text
    household: Text
    phone: Annotated[str, Meta(pattern=r"^\+?[0-9 -]{5,20}$")]
    id_number: Annotated[str, Meta(pattern=r"^[0-9]{17}[0-9Xx]$")] | None = None
    birth_date: BornOn | None = None
    pin: Annotated[
        Pin | None,
        Meta(description="Omit it: the answer's setup_code lets the resident choose their own"),
    ] = None
    notice_version: (
        Annotated[
            str,
            Meta(
                pattern=r"^[A-Za-z0-9._-]{1,32}$",
                description="The privacy notice the resident was shown and agreed to; "
                "by default the station's current one",
            ),
        ]
        | None
    ) = None
    station: StationChoice = None


class IssueSetupCode(WithSecret):
    member_id: UUID


class NewPin(Command):
    pin: Pin


class ResetPin(NewPin, WithSecret, kw_only=True):
    member_id: UUID


class DeactivateMember(Deactivation, kw_only=True):
    member_id: UUID


class NewHome(Command):
    station: UUID
    reason: Reason


class MoveMemberHome(NewHome, kw_only=True):
    """The resident moved: from now on they belong to another station."""

    member_id: UUID


class RegisterKiosk(Command):
    name: KioskName
    station: StationChoice = None


class Retirement(Command):
    reason: Reason


class RetireKiosk(Retirement, kw_only=True):
    kiosk_id: UUID


class RecordConsent(Command):
    member_id: UUID
    notice_version: NoticeVersion
    withdrawn: bool = False


class ErasePersonalData(Command):
    # Deletes the person's key in the key store: not dry-run.
    writes_outside_the_store: ClassVar[bool] = True

    member_id: UUID
    reason: Reason


class KioskSignIn(Command):
    member_number: MemberNumber
    pin: Pin


class SignInAtKiosk(KioskSignIn, WithSecret, kw_only=True):
    """Alone for a second reason: a wrong PIN is recorded (it counts towards the lockout)
    before the sign-in is refused, where a group keeps nothing of a command that fails."""

    kiosk_token: KioskToken


class PinChoice(Command):
    member_number: MemberNumber
    setup_code: SetupCode
    pin: Pin


class ChoosePin(PinChoice, WithSecret, kw_only=True):
    """Alone for a second reason, as ``SignInAtKiosk``: a wrong code counts as a wrong PIN."""

    kiosk_token: KioskToken
