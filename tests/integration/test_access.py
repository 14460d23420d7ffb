"""Who may call what: an access matrix generated from the app's own routes.

Every (route, method) is called by every kind of caller, and the answer is checked against
what the route's handler declares in its ``opt`` (``allow(...)`` or ``public()``), so a route
added later is covered without touching this file.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler
from litestar.testing import TestClient

from domain.council import Choice
from domain.hours import Service
from domain.identity import CouncilTitle, Role, staff_id_for
from domain.station import DEFAULT_STATION, Level
from projections.catalog import READ_MODELS
from services.composition.app import create_app
from services.composition.runtime import Backbone
from services.council import handlers as council
from services.council.commands import (
    AddMilestone,
    AdmitMotion,
    AssignOwner,
    CallMeeting,
    CastBallot,
    CloseVote,
    OpenVote,
    RecordAttendance,
    ScheduleMotion,
    SubmitMotion,
    SupportMotion,
)
from services.exchange import handlers as exchange
from services.exchange.commands import DisputeHelp, PairIn, RecordHelp
from services.identity.commands import Reach, RegisterKiosk
from services.identity.records import open_personal_data
from services.listings import handlers as listings
from services.listings.commands import AddCategory
from services.pages.site import is_page_path
from services.pool import handlers as pool
from services.pool.commands import DonateToPool
from services.stations import handlers as stations
from services.stations.commands import OpenStation, Placing
from services.web.auth import KIOSK_TOKEN_HEADER, Principal, allow, jwt_auth
from tests.integration.family_matrix import FAMILY_BODIES
from tests.integration.support import (
    COMMUNITY,
    NOTICE,
    KioskDevice,
    acting,
    approve_entry,
    caught_up,
    certify_last_week,
    create_staff,
    deactivate_member,
    headers_for,
    make_backbone,
    member_principal,
    open_member,
    post_offer,
    refused,
    register_kiosk,
    register_resident,
    register_volunteer,
    run_workers,
    staff_headers,
    stored_envelopes,
    submit_entry,
    transfer,
    wait_until,
)
from tests.integration.test_stations import resident, system

SKIPPED_METHODS = frozenset({"OPTIONS", "HEAD"})  # Litestar's automatic handlers
ADMIN_PASSWORD = "matrix admin password"
PIN = "1234"
PATH_PARAMETER = re.compile(r"\{(\w+):\w+\}")


def _handlers(app: Litestar) -> list[tuple[str, str, HTTPRouteHandler]]:
    """(path template, method, handler) for every route the app serves, OPTIONS/HEAD aside."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            for method in sorted(set(handler.http_methods) - SKIPPED_METHODS):
                found.append((route.path, method, handler))
    return found


def _offline_app(tmp_path) -> Litestar:
    """The app on a backbone whose broker is never contacted (for route introspection)."""
    bone = make_backbone(
        tmp_path,
        str(tmp_path / "events.sqlite"),
        str(tmp_path / "reads.sqlite"),
        "nats://-:1",
        pages=True,
    )
    return create_app(bone)


def test_every_route_declares_who_may_call_it(tmp_path):
    undeclared = [
        f"{method} {path} ({handler.handler_name}): opt={handler.opt}"
        for path, method, handler in _handlers(_offline_app(tmp_path))
        if not handler.opt.get("public") and not handler.opt.get("roles")
    ]
    assert not undeclared, "routes without allow(...) or public():\n" + "\n".join(undeclared)


def test_a_route_that_declares_no_roles_is_refused_to_everyone(tmp_path):
    """The guard fails closed: forgetting ``allow(...)`` locks a route, never opens it."""
    secret = "a secret used only by this test, long enough"

    @get("/forgotten", sync_to_thread=False)
    def forgotten() -> str:
        return "open"

    @get("/nobody", sync_to_thread=False, opt=allow())
    def nobody() -> str:
        return "open"

    auth = jwt_auth(secret)
    app = Litestar(route_handlers=[forgotten, nobody], on_app_init=[auth.on_app_init])
    admin = Principal(subject="staff:root", roles=frozenset(Role), channel="console")
    token = auth.create_token(identifier=admin.subject, token_extras=msgspec.to_builtins(admin))
    with TestClient(app) as client:
        for path in ("/forgotten", "/nobody"):
            assert client.get(path).status_code == 401
            answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 403, answer.text


def test_an_account_named_like_the_schema_still_needs_sign_in(tmp_path):
    """Only the OpenAPI pages are public: a path merely containing "/schema" is not."""
    app = _offline_app(tmp_path)
    bone = app.state.backbone
    coordinator = staff_headers(bone)
    bone.reads.apply(list(READ_MODELS.values()), stored_envelopes(bone))  # no projector here
    with TestClient(app) as client:
        for path in ("/api/v1/accounts/schema", "/api/v1/accounts/schema/statement"):
            anonymous = client.get(path)
            assert anonymous.status_code == 401, anonymous.text
            assert anonymous.json()["code"] == "unauthenticated"
            staff = client.get(path, headers=coordinator)
            assert staff.status_code == 404, staff.text
            assert staff.json()["code"] == "account-not-found"
        assert client.get("/schema/openapi.json").status_code == 200


@dataclass(frozen=True)
class Person:
    member_id: UUID
    member_number: str
    account_id: UUID


@dataclass(frozen=True)
class Caller:
    name: str
    principal: Principal | None
    headers: dict[str, str]
    own: UUID | None = None  # the account a resident or volunteer holds
    foreign: UUID | None = None  # someone else's
    across_stations: bool = False  # staff of a street or district: figures, not people

    @property
    def is_member(self) -> bool:
        return self.principal is not None and self.principal.is_member


@dataclass
class World:
    bone: Backbone
    alice: Person
    bob: Person
    vera: Person
    grant_id: UUID
    kiosk: KioskDevice  # where the residents and the volunteer signed in
    counter: itertools.count
    volunteer_id: UUID | None = None  # vera's: she is registered as a volunteer
    entry_id: UUID | None = None  # an approved service entry of vera's
    certificate: str = ""  # the code of a certificate issued to vera
    meeting_id: UUID | None = None  # a council meeting alice, bob and vera may vote at, present

    # How far a fresh motion goes along its lifecycle (``motion``), in order.
    STAGES = ("submitted", "seconded", "admitted", "scheduled", "voting", "adopted", "implementing")

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def today(self) -> str:
        return self.bone.today().isoformat()

    def station(self) -> UUID:
        """A fresh station in the district the administrator works across."""
        placing = Placing(district=self.bone.settings.district, street="Matrix street")
        opened = OpenStation(code=self.unique("matrix-"), name="Matrix station", placing=placing)
        return stations.open_station(opened, acting(self.bone.timebank)).id

    def volunteer(self, person: Person) -> UUID:
        """Register ``person`` as a volunteer; their volunteer id."""
        return register_volunteer(
            self.bone, person.member_id, "Matrix Volunteer", skills=("reading",)
        ).id

    def entry(self, *, approved: bool = False) -> UUID:
        """A fresh entry of vera's, yesterday, awaiting approval (or approved)."""
        receipt = submit_entry(
            self.bone.timebank,
            self.volunteer_id,
            Service(**_service(self)),
            uuid.uuid4().hex,
            now=self.bone.clock(),
            settings=self.bone.settings,
        )
        if approved:
            approve_entry(self.bone.timebank, receipt.id)
        return receipt.id

    def meeting(self, *, present: bool = False) -> UUID:
        """A fresh council meeting where alice, bob and vera are entitled (and present)."""
        timebank = self.bone.timebank
        entitled = (self.alice.member_id, self.bob.member_id, self.vera.member_id)
        meeting_id = council.call(
            CallMeeting(
                idempotency_key=uuid.uuid4().hex,
                title="Matrix meeting",
                starts_at=self.bone.clock(),
                place="Block 3",
                entitled=list(entitled),
            ),
            acting(timebank),
        ).id
        if present:
            attendance = RecordAttendance(meeting_id=meeting_id, present=list(entitled))
            council.record_attendance(attendance, acting(timebank))
        return meeting_id

    def motion(
        self, stage: str, *, mover: UUID | None = None, late: bool = False, milestone: bool = False
    ) -> UUID:
        """A fresh motion taken to ``stage`` through the service layer (``late``: submitted so
        long ago that its time to gather support is over)."""
        timebank, now = self.bone.timebank, self.bone.clock()
        motion_id = council.submit(
            SubmitMotion(
                idempotency_key=uuid.uuid4().hex, title="Matrix motion", text="access matrix"
            ),
            acting(
                timebank, now - timedelta(days=400) if late else now, member=mover or uuid.uuid4()
            ),
        ).id
        on_it = {"motion_id": motion_id}
        reached = self.STAGES.index(stage)
        if reached >= self.STAGES.index("seconded"):
            for _ in range(council.rules_in_force(timebank).seconding_threshold):
                council.support(SupportMotion(**on_it), acting(timebank, now, member=uuid.uuid4()))
        if reached >= self.STAGES.index("admitted"):
            council.admit(AdmitMotion(**on_it), acting(timebank))
        if reached >= self.STAGES.index("scheduled"):
            assert self.meeting_id is not None
            scheduled = ScheduleMotion(**on_it, meeting_id=self.meeting_id)
            council.schedule(scheduled, acting(timebank))
        if reached >= self.STAGES.index("voting"):
            council.open_vote(OpenVote(**on_it), acting(timebank, self.bone.clock()))
        if reached >= self.STAGES.index("adopted"):
            ballot = CastBallot(**on_it, choice=Choice.YES)
            council.vote(ballot, acting(timebank, member=self.alice.member_id))
            council.close_vote(CloseVote(**on_it), acting(timebank))
        if reached >= self.STAGES.index("implementing"):
            council.assign(AssignOwner(**on_it, owner=OWNER), acting(timebank))
        if milestone:
            due = date.fromisoformat(self.today()) + timedelta(days=30)
            council.add_milestone(AddMilestone(**on_it, name="matrix", due=due), acting(timebank))
        return motion_id

    def listing(self, owner: UUID) -> UUID:
        """A fresh offer on the board, posted by the owner of account ``owner``."""
        return post_offer(self.bone.timebank, owner).id

    def exchange(self, provider: UUID, receiver: UUID) -> UUID:
        """A minute of help from account ``provider`` to ``receiver``, awaiting confirmation."""
        command = RecordHelp(
            idempotency_key=uuid.uuid4().hex,
            pairs=[PairIn(provider=provider, receiver=receiver, minutes=1)],
            description="access matrix",
        )
        return exchange.record(command, acting(self.bone.timebank, self.bone.clock())).id

    def member(self, name: str) -> Person:
        done = register_resident(self.bone, name, pin=PIN)
        assert done.account_id is not None
        return Person(done.id, done.member_number, done.account_id)

    def leaver(self) -> Person:
        """A fresh member, deactivated (as erasure requires)."""
        person = self.member("Matrix Leaver")
        deactivate_member(self.bone.timebank, person.member_id, "access matrix", self.bone.clock())
        return person


# The stage a motion must have reached for what a route does to it (by what follows the id).
MOTION_STAGES = {
    "": "submitted",
    "/support": "submitted",
    "/admission": "seconded",
    "/declining": "seconded",
    "/scheduling": "admitted",
    "/voting": "scheduled",
    "/voting/close": "voting",
    "/ballots": "voting",
    "/tally": "voting",
    "/withdrawal": "submitted",
    "/lapse": "submitted",
    "/owner": "adopted",
    "/owner/reassignment": "implementing",
}
# Motions are carried out by the matrix's coordinator, by the id the staff directory lists.
OWNER = str(staff_id_for("caller.coordinator"))


def _member_caller(world: World, name: str, person: Person, role: Role, foreign: Person):
    principal = member_principal(person.member_id, person.account_id, world.kiosk, role)
    headers = headers_for(world.bone, principal, world.kiosk)
    return Caller(name, principal, headers, person.account_id, foreign.account_id)


def _staff_caller(bone: Backbone, role: Role) -> Caller:
    """A real staff account of ``role`` (refreshing a token checks that it is still active)."""
    title = CouncilTitle.CHAIR if role is Role.COUNCIL else None
    # The administrator works across the whole district (the first station is in it):
    # stations are opened, renamed and closed, and residents moved between them, from there.
    district = Reach(level=Level.DISTRICT, district=bone.settings.district)
    reach = district if role is Role.ADMIN else None
    registered = create_staff(bone.timebank, f"caller.{role}", role, ADMIN_PASSWORD, title, reach)
    principal = Principal(
        subject=f"staff:{registered.id}", roles=frozenset({role}), channel="console"
    )
    across = reach is not None
    return Caller(str(role), principal, headers_for(bone, principal), across_stations=across)


def _callers(world: World) -> list[Caller]:
    bone = world.bone
    return [
        Caller("anonymous", None, {}),
        _member_caller(world, "resident", world.alice, Role.RESIDENT, foreign=world.bob),
        _member_caller(world, "other resident", world.bob, Role.RESIDENT, foreign=world.alice),
        _member_caller(world, "volunteer", world.vera, Role.VOLUNTEER, foreign=world.alice),
        _staff_caller(bone, Role.COORDINATOR),
        _staff_caller(bone, Role.COUNCIL),
        _staff_caller(bone, Role.ADMIN),
    ]


Body = Callable[[World, UUID], Any]


def _first_pin(world: World, _: UUID) -> dict[str, str]:
    """A resident just registered without a PIN: their number and the one-time setup code
    (each caller of the matrix uses a fresh one, as a code works once)."""
    done = register_resident(world.bone, "Matrix Resident", pin=None)
    return {"member_number": done.member_number, "setup_code": done.setup_code, "pin": PIN}


# A valid body for each POST route (query parameters for a GET route), given the account the
# call is about. A route missing here is sent ``{}``: still checked for 401/403, but it fails
# the "someone is let through" check.
BODIES: dict[str, Body] = {
    "/api/v1/accounts": lambda w, _: {"owner": w.unique("matrix-owner-")},
    "/api/v1/accounts/{ref:str}/closure": lambda w, _: {"reason": "access matrix"},
    "/api/v1/transfers": lambda w, account: {
        "idempotency_key": uuid.uuid4().hex,
        "from_account": str(account),
        "to_account": str(w.bob.account_id if account != w.bob.account_id else w.alice.account_id),
        "minutes": 1,
    },
    "/api/v1/transfers/{transfer_id:uuid}/corrections": lambda w, _: {
        "idempotency_key": uuid.uuid4().hex,
        "minutes": 1,
        "reason": "access matrix",
    },
    "/api/v1/auth/staff": lambda w, _: {"username": "matrix.admin", "password": ADMIN_PASSWORD},
    "/api/v1/auth/kiosk": lambda w, _: {"member_number": w.alice.member_number, "pin": PIN},
    "/api/v1/auth/kiosk/pin": _first_pin,
    "/api/v1/auth/refresh": lambda w, _: None,
    "/api/v1/staff": lambda w, _: {
        "username": w.unique("matrix.staff"),
        "role": "coordinator",
        "password": "a long enough password",
        "reach": {"level": "station", "station": str(DEFAULT_STATION)},
    },
    "/api/v1/members": lambda w, _: {
        "display_name": "Matrix Resident",
        "building": "Block 3",
        "household": "3-102",
        "phone": "13800000001",
        "pin": PIN,
        "notice_version": NOTICE,
    },
    "/api/v1/staff/{staff_id:uuid}/password": lambda w, _: {"password": "another long password"},
    "/api/v1/staff/{staff_id:uuid}/deactivation": lambda w, _: {"reason": "access matrix"},
    "/api/v1/members/{member_id:uuid}/pin": lambda w, _: {"pin": "5678"},
    "/api/v1/members/{member_id:uuid}/deactivation": lambda w, _: {"reason": "access matrix"},
    "/api/v1/members/{member_id:uuid}": lambda w, _: {"purpose": "access matrix check"},
    "/api/v1/access-log": lambda w, _: {"member_id": str(w.alice.member_id)},
    "/api/v1/consents": lambda w, _: {"member_id": str(w.bob.member_id), "notice_version": "m-2"},
    "/api/v1/erasures": lambda w, _: {
        "member_id": str(w.leaver().member_id),
        "reason": "access matrix",
    },
    "/api/v1/kiosks": lambda w, _: {
        "name": w.unique("Matrix kiosk "),
        "station": str(DEFAULT_STATION),
    },
    "/api/v1/stations": lambda w, _: {
        "code": w.unique("matrix-open-"),
        "name": "Matrix opened",
        "placing": {"district": w.bone.settings.district, "street": "Matrix street"},
    },
    "/api/v1/stations/{station_id:uuid}/renaming": lambda w, _: {
        "name": "Matrix renamed",
        "placing": {"district": w.bone.settings.district, "street": "Matrix lane"},
        "reason": "access matrix",
    },
    "/api/v1/stations/{station_id:uuid}/closing": lambda w, _: {"reason": "access matrix"},
    "/api/v1/members/{member_id:uuid}/home": lambda w, _: {
        "station": str(w.station()),
        "reason": "access matrix",
    },
    "/api/v1/staff/{staff_id:uuid}/reach": lambda w, _: {
        "reach": {
            "level": "street",
            "district": w.bone.settings.district,
            "street": "Matrix street",
        },
        "reason": "access matrix",
    },
    "/api/v1/kiosks/{kiosk_id:uuid}/retirement": lambda w, _: {"reason": "access matrix"},
    "/api/v1/accounts/{ref:str}/limits": lambda w, _: {
        "floor": -600,
        "cap": 90_000,
        "reason": "access matrix",
    },
    "/api/v1/categories": lambda w, _: {
        "code": w.unique("matrix-category-"),
        "name_zh": "矩阵",
        "name_en": "Matrix",
    },
    "/api/v1/categories/{code:str}/retirement": lambda w, _: {"reason": "access matrix"},
    "/api/v1/listings": lambda w, _: {
        "idempotency_key": uuid.uuid4().hex,
        "kind": "offer",
        "category": "errands",
        "title": "access matrix",
    },
    "/api/v1/listings/{listing_id:uuid}/closure": lambda w, _: {"reason": "access matrix"},
    "/api/v1/exchanges": lambda w, account: {
        "idempotency_key": uuid.uuid4().hex,
        "pairs": [{"provider": str(account), "receiver": str(_other(w, account)), "minutes": 1}],
    },
    "/api/v1/exchanges/rules": lambda w, _: {
        "max_minutes": 480,
        "confirm_within_hours": 168,
        "dispute_within_hours": 336,
        "reason": "access matrix",
    },
    # The receiver is the account the call is about: the caller's own, or alice's for staff.
    "/api/v1/exchanges/{exchange_id:uuid}/confirmation": lambda w, account: {
        "idempotency_key": uuid.uuid4().hex,
        "receiver": str(account),
    },
    "/api/v1/exchanges/{exchange_id:uuid}/disputes": lambda w, _: {
        "idempotency_key": uuid.uuid4().hex,
        "reason": "access matrix",
    },
    "/api/v1/exchanges/{exchange_id:uuid}/resolution": lambda w, _: {
        "idempotency_key": uuid.uuid4().hex,
        "outcome": "cancel",
        "reason": "access matrix",
    },
    "/api/v1/exchanges/{exchange_id:uuid}/withdrawal": lambda w, _: {
        "idempotency_key": uuid.uuid4().hex,
        "reason": "access matrix",
    },
    "/api/v1/pool/donations": lambda w, account: {
        "idempotency_key": uuid.uuid4().hex,
        "from_account": str(account),
        "minutes": 1,
    },
    "/api/v1/pool/grants": lambda w, account: {
        "idempotency_key": uuid.uuid4().hex,
        "to_account": str(account),
        "minutes": 1,
        "reason": "access matrix",
    },
    "/api/v1/volunteers": lambda w, _: {
        "member_id": str(w.member("Matrix Recruit").member_id),
        "name": "Matrix Recruit",
        "gender": "男",
        "birth_date": "1958-05-01",
        "id_number": "110101195805010011",
        "area": "Block 3",
        "contact": "13800000003",
        "consent_version": "volunteer-1",
    },
    "/api/v1/volunteers/{volunteer_id:uuid}/status": lambda w, _: {
        "status": "paused",
        "reason": "access matrix",
    },
    "/api/v1/volunteers/{volunteer_id:uuid}/profile": lambda w, _: {
        "skills": ["reading"],
        "categories": ["meals"],
        "building": "Block 4",
    },
    "/api/v1/volunteers/{volunteer_id:uuid}/awards": lambda w, _: {
        "name": "Matrix award",
        "awarded_on": w.today(),
        "awarded_by": "Street office",
    },
    "/api/v1/volunteers/{volunteer_id:uuid}/evaluations": lambda w, _: {
        "rating": "good",
        "evaluated_on": w.today(),
    },
    "/api/v1/volunteers/{volunteer_id:uuid}/hours": lambda w, _: _period(w),
    "/api/v1/volunteers/{volunteer_id:uuid}/hours/export": lambda w, _: _period(w),
    "/api/v1/trainings": lambda w, _: {
        "idempotency_key": uuid.uuid4().hex,
        "name": "Matrix training",
        "minutes": 60,
        "organiser": "Station",
        "held_on": w.today(),
        "attendees": [str(w.volunteer_id)],
    },
    # Vera's own, for a volunteer; a coordinator names her.
    "/api/v1/hours": lambda w, _: {
        "idempotency_key": uuid.uuid4().hex,
        "volunteer_id": str(w.volunteer_id),
        **_service(w, json=True),
    },
    "/api/v1/hours/approvals": lambda w, _: {"entry_ids": [str(w.entry())]},
    "/api/v1/hours/rejections": lambda w, _: {
        "entry_ids": [str(w.entry())],
        "reason": "access matrix",
    },
    "/api/v1/hours/{entry_id:uuid}/approval": lambda w, _: None,
    "/api/v1/hours/{entry_id:uuid}/rejection": lambda w, _: {"reason": "access matrix"},
    # The entry the path names is of 30 minutes: 40 is a change.
    "/api/v1/hours/{entry_id:uuid}/amendments": lambda w, _: {
        **_service(w, json=True),
        "minutes": 40,
        "reason": "access matrix",
        "requested_by": "Vera",
    },
    "/api/v1/hours/{entry_id:uuid}/voiding": lambda w, _: {
        "reason": "access matrix",
        "requested_by": "Vera",
    },
    "/api/v1/certificates": lambda w, _: {
        "volunteer_id": str(w.volunteer_id),
        **_period(w, names=("period_from", "period_to")),
        "recording_body": "Station",
    },
    "/api/v1/reports/monitoring": lambda w, _: _months(w),
    "/api/v1/flows/stations/{station_id:uuid}": lambda w, _: _months(w),
    "/api/v1/flows/matrix": lambda w, _: _months(w),
    "/api/v1/motions": lambda w, _: {
        "idempotency_key": uuid.uuid4().hex,
        "title": "Matrix motion",
        "text": "access matrix",
    },
    "/api/v1/motions/{motion_id:uuid}/declining": lambda w, _: {"reason": "access matrix"},
    "/api/v1/motions/{motion_id:uuid}/scheduling": lambda w, _: {"meeting_id": str(w.meeting_id)},
    "/api/v1/motions/{motion_id:uuid}/ballots": lambda w, _: {"choice": "yes"},
    "/api/v1/motions/{motion_id:uuid}/withdrawal": lambda w, _: {"reason": "access matrix"},
    "/api/v1/motions/{motion_id:uuid}/owner": lambda w, _: {"owner": OWNER},
    "/api/v1/motions/{motion_id:uuid}/owner/reassignment": lambda w, _: {
        "owner": str(staff_id_for("caller.council")),
        "reason": "换人负责",
    },
    "/api/v1/motions/{motion_id:uuid}/progress": lambda w, _: {"percent": 50, "note": "half"},
    "/api/v1/motions/{motion_id:uuid}/milestones": lambda w, _: {
        "name": "Matrix milestone",
        "due": w.today(),
    },
    "/api/v1/motions/{motion_id:uuid}/milestones/reached": lambda w, _: {"name": "matrix"},
    "/api/v1/motions/{motion_id:uuid}/outcome": lambda w, _: {"status": "done"},
    "/api/v1/meetings": lambda w, _: {
        "idempotency_key": uuid.uuid4().hex,
        "title": "Matrix meeting",
        "starts_at": "2026-09-05T19:00:00+08:00",
        "place": "Block 3",
        "entitled": [str(w.alice.member_id), str(w.bob.member_id)],
    },
    # The path names a fresh meeting with nothing on its agenda.
    "/api/v1/meetings/{meeting_id:uuid}/agenda": lambda w, _: {"motions": []},
    "/api/v1/meetings/{meeting_id:uuid}/attendance": lambda w, _: {
        "present": [str(w.alice.member_id)]
    },
    # A change each time (the same rules again are refused): a longer time to gather support.
    "/api/v1/council/rules": lambda w, _: {
        **msgspec.to_builtins(vars(council.rules_in_force(w.bone.timebank))),
        "seconding_days": 40 + next(w.counter) % 300,
        "reason": "access matrix",
    },
    "/api/v1/reports/monitoring/export": lambda w, _: _months(w),
    **FAMILY_BODIES,
}
# Requests that are not JSON: their keyword arguments to ``client.request`` in full.
REQUESTS: dict[str, Body] = {
    "/api/v1/hours/imports": lambda w, _: {
        "params": {"key": w.unique("matrix-import-")},
        "files": {"data": ("attendance.csv", _attendance(w), "text/csv")},
    },
}
# Headers a route needs from every caller: a sign-in at a kiosk carries the device's token.
ROUTE_HEADERS: dict[str, Callable[[World], dict[str, str]]] = {
    "/api/v1/auth/kiosk": lambda w: {KIOSK_TOKEN_HEADER: w.kiosk.token},
    "/api/v1/auth/kiosk/pin": lambda w: {KIOSK_TOKEN_HEADER: w.kiosk.token},
}


def _service(world: World, *, json: bool = False) -> dict[str, Any]:
    """Half an hour of service yesterday, at the station's time."""
    zone = world.bone.settings.zone
    started_at = (world.bone.clock() - timedelta(days=1)).astimezone(zone).replace(microsecond=0)
    return {
        "activity": "access matrix",
        "started_at": started_at.isoformat() if json else started_at,
        "minutes": 30,
        "place": "Block 3",
        "content": "",
        "organiser": "Station",
        "responsible": "coord.one",
        "category": "companionship",
        "building": "Block 3",
    }


def _attendance(world: World) -> bytes:
    """An attendance list of one row: vera's half hour yesterday."""
    started_at = _service(world)["started_at"]
    return (
        "member_number,activity,date,start,minutes,place,content,organiser,responsible,"
        "category,building\n"
        f"{world.vera.member_number},access matrix,{started_at.date()},"
        f"{started_at:%H:%M},30,Block 3,reading,Station,coord.one,companionship,Block 3\n"
    ).encode()


def _period(world: World, names: tuple[str, str] = ("first", "last")) -> dict[str, str]:
    """The week up to today (vera's service of yesterday in it)."""
    today = world.bone.today()
    return {names[0]: (today - timedelta(days=7)).isoformat(), names[1]: today.isoformat()}


def _months(world: World) -> dict[str, str]:
    year = world.bone.clock().astimezone(world.bone.settings.zone).year
    return {"first": f"{year}-01", "last": f"{year}-12"}


def _other(world: World, account: UUID) -> UUID:
    """Someone to exchange help with: bob, or alice when the account is bob's."""
    return world.bob.account_id if account != world.bob.account_id else world.alice.account_id


def _expected(opt: dict[str, Any], caller: Caller, scenario: str) -> int | None:
    """401 or 403 when the caller must be turned away, None when they must be let through."""
    if opt.get("public"):
        return None
    if caller.principal is None:
        return 401
    if not (opt.get("roles") or frozenset()) & caller.principal.roles:
        return 403
    if opt.get("own_account_only") and caller.is_member and scenario == "someone else's":
        return 403
    if opt.get("people") and caller.across_stations:
        return 403
    return None


def _scenarios(opt: dict[str, Any], caller: Caller, world: World) -> list[tuple[str, UUID]]:
    """The accounts the call is about: a resident's or volunteer's own, and someone else's
    where the route is limited to one's own account; the resident's for everyone else."""
    if caller.is_member and opt.get("own_account_only"):
        assert caller.own is not None and caller.foreign is not None
        return [("own", caller.own), ("someone else's", caller.foreign)]
    return [("own" if caller.is_member else "a resident's", caller.own or world.alice.account_id)]


def _path(template: str, opt: dict[str, Any], account: UUID, world: World, let_through: bool):
    """Fill the path parameters with real ids. A caller who will be let through acts on a
    fresh member or account where the action is one-off (closure, deactivation)."""

    def account_ref() -> UUID:
        if opt.get("own_account_only") or not let_through:
            return account
        return open_member(world.bone, world.unique("matrix-closing-")).id

    def staff_id() -> UUID:
        # A fresh account: deactivating the callers' own would end their sessions.
        extra = world.unique("matrix.extra")
        return create_staff(world.bone.timebank, extra, Role.COORDINATOR, ADMIN_PASSWORD).id

    def let_reads_catch_up() -> None:
        """A GET of one object reads the read models: let them catch up first."""
        wait_until(lambda: caught_up(world.bone), what="read models")

    def code() -> str:
        if template.startswith("/api/v1/certificates"):
            return world.certificate  # issued to vera when the world was built
        if not let_through:
            return "errands"
        fresh = world.unique("matrix-")
        added = AddCategory(code=fresh, name_zh="矩阵", name_en="Matrix")
        listings.add_category(added, acting(world.bone.timebank))
        return fresh

    def listing_id() -> UUID:
        """A fresh listing of the account the call is about (so its owner may close it)."""
        if not let_through:
            return uuid.uuid4()
        posted = world.listing(account)
        if template.endswith("}"):
            let_reads_catch_up()
        return posted

    def exchange_id() -> UUID:
        """A fresh exchange the account the call is about can act on: as its provider to
        withdraw it, as its receiver otherwise; disputed already, for a resolution."""
        if not let_through:
            return uuid.uuid4()
        bone = world.bone
        provider, receiver = _other(world, account), account
        if template.endswith("/withdrawal"):
            provider, receiver = receiver, provider
        recorded = world.exchange(provider, receiver)
        if template.endswith("/resolution"):
            command = DisputeHelp(
                idempotency_key=uuid.uuid4().hex, exchange_id=recorded, reason="access matrix"
            )
            exchange.dispute(command, acting(bone.timebank, bone.clock()))
        if template.endswith("}"):
            let_reads_catch_up()
        return recorded

    def volunteer_id() -> UUID:
        """Vera, whom a volunteer caller may read as herself; a fresh volunteer for the
        changes a coordinator makes (pausing vera would stop her recording service)."""
        if not let_through:
            return uuid.uuid4()
        if template.endswith(("/status", "/profile", "/awards", "/evaluations")):
            return world.volunteer(world.member("Matrix Volunteer"))
        assert world.volunteer_id is not None
        return world.volunteer_id

    def entry_id() -> UUID:
        """Vera's approved entry to read; a fresh one of hers to decide on or change."""
        if not let_through:
            return uuid.uuid4()
        if template.endswith("}") or template.endswith(("/history", "/history.csv")):
            assert world.entry_id is not None
            return world.entry_id
        return world.entry(approved=template.endswith("/voiding"))

    def motion_id() -> UUID:
        """A fresh motion in the state the route acts on."""
        if not let_through:
            return uuid.uuid4()
        tail = template.split("}", 1)[1]
        stage = MOTION_STAGES.get(tail, "implementing")
        mover = None
        if tail == "/withdrawal":
            mover = next(
                p.member_id for p in (world.alice, world.bob, world.vera) if p.account_id == account
            )
        made = world.motion(
            stage,
            mover=mover,
            late=tail == "/lapse",
            milestone=tail == "/milestones/reached",
        )
        if tail in ("", "/tally"):
            let_reads_catch_up()
        return made

    def meeting_id() -> UUID:
        """The world's meeting to read; a fresh one to change or close."""
        if not let_through:
            return uuid.uuid4()
        if template.endswith("/minutes"):
            assert world.meeting_id is not None
            return world.meeting_id
        return world.meeting()

    fillers: dict[str, Callable[[], object]] = {
        "ref": account_ref,
        "member_id": lambda: (
            (world.member("Matrix Leaver") if let_through else world.bob).member_id
        ),
        "transfer_id": lambda: world.grant_id,
        "staff_id": staff_id,
        "kiosk_id": lambda: register_kiosk(world.bone).id if let_through else world.kiosk.id,
        "path": lambda: "no-such-page",
        "code": code,
        "listing_id": listing_id,
        "exchange_id": exchange_id,
        "volunteer_id": volunteer_id,
        "entry_id": entry_id,
        "motion_id": motion_id,
        "meeting_id": meeting_id,
        "station_id": lambda: (
            DEFAULT_STATION  # whose figures every staff caller of the matrix reaches
            if template.startswith("/api/v1/flows")
            else world.station()
            if let_through
            else uuid.uuid4()
        ),
    }

    def value(match: re.Match[str]) -> str:
        filler = fillers.get(match.group(1))
        if filler is None:
            raise AssertionError(f"the access matrix cannot fill {match.group(0)} in {template}")
        return str(filler())

    return PATH_PARAMETER.sub(value, template)


def build_world(bone: Backbone) -> World:
    """Alice and bob (residents), vera (a volunteer with an approved, certified half hour), the
    kiosk they sign in at, a grant, a donation to the pool, a council meeting they attend."""
    create_staff(bone.timebank, "matrix.admin", Role.ADMIN, ADMIN_PASSWORD)
    placeholder = Person(uuid.uuid4(), "", uuid.uuid4())
    built = World(
        bone,
        placeholder,
        placeholder,
        placeholder,
        uuid.uuid4(),
        register_kiosk(bone),
        itertools.count(),
    )
    built.alice = built.member("Alice Matrix")
    built.bob = built.member("Bob Matrix")
    built.vera = built.member("Vera Matrix")
    built.grant_id = transfer(bone, "matrix-grant", COMMUNITY, built.alice.account_id, 600).id
    # Alice gives some of it to the pool, so there is something to grant; she keeps 480
    # minutes to pay for the help the matrix has her confirm.
    donated = DonateToPool(
        idempotency_key="matrix-donation",
        from_account=built.alice.account_id,
        minutes=120,
        memo="access matrix",
    )
    pool.donation(donated, acting(bone.timebank, bone.clock()))
    # Vera volunteers: an approved half hour of hers, certified.
    built.volunteer_id = built.volunteer(built.vera)
    built.entry_id = built.entry(approved=True)
    built.certificate = certify_last_week(bone, built.volunteer_id, "Station")
    built.meeting_id = built.meeting(present=True)
    return built


@contextmanager
def running_world(broker, stores, tmp_path, **settings: Any) -> Iterator[World]:
    """The world on fresh stores, its workers running and its read models caught up."""
    bone = make_backbone(
        tmp_path, stores.new("events"), stores.new("reads"), broker.url, **settings
    )
    built = build_world(bone)
    with run_workers(bone):
        wait_until(lambda: caught_up(bone), what="read models")
        yield built


@pytest.fixture
def world(broker, sqlite_stores, tmp_path):
    with running_world(broker, sqlite_stores, tmp_path) as built:
        yield built


def test_access_matrix(world):
    app = create_app(world.bone)
    # The pages sign in by cookie and answer people with pages: test_page_access covers them.
    routes = [route for route in _handlers(app) if not is_page_path(route[0])]
    assert any(path.startswith("/schema") for path, _, _ in routes), "OpenAPI routes missing"
    wrong: list[str] = []
    let_through: dict[tuple[str, str], set[int]] = {}
    calls = 0
    callers = _callers(world)
    with TestClient(app) as client:
        for template, method, handler in routes:
            opt = handler.opt
            for caller in callers:
                for scenario, account in _scenarios(opt, caller, world):
                    expected = _expected(opt, caller, scenario)
                    path = _path(template, opt, account, world, let_through=expected is None)
                    body = BODIES.get(template, lambda *_: {})(world, account)
                    where_to = "params" if method == "GET" else "json"
                    kwargs = {} if body is None else {where_to: body}
                    if template in REQUESTS:
                        kwargs = REQUESTS[template](world, account)
                    extra = ROUTE_HEADERS.get(template, lambda _: {})(world)
                    headers = {**caller.headers, **extra}
                    answer = client.request(method, path, headers=headers, **kwargs)
                    calls += 1
                    status = answer.status_code
                    where = f"{method} {path} as {caller.name} on {scenario} account"
                    if expected is None:
                        if status in (401, 403) or status >= 500:
                            wrong.append(f"{where}: expected through, got {status} {answer.text}")
                        let_through.setdefault((method, template), set()).add(status)
                    elif status != expected:
                        wrong.append(f"{where}: expected {expected}, got {status} {answer.text}")
                    elif (
                        answer.json()["code"] != {401: "unauthenticated", 403: "forbidden"}[status]
                    ):
                        wrong.append(f"{where}: problem code {answer.json()['code']!r}")
    assert not wrong, f"{len(wrong)} of {calls} calls answered wrongly:\n" + "\n".join(wrong)
    # Each of our routes did its work for someone it lets through (so the bodies and ids the
    # matrix sends are valid, and a 4xx above is a real refusal, not a malformed request).
    idle = {
        f"{method} {template}: {sorted(statuses)}"
        for (method, template), statuses in let_through.items()
        if template.startswith("/api/") and not any(200 <= s < 300 for s in statuses)
    }
    assert not idle, "no caller got a 2xx from:\n" + "\n".join(sorted(idle))


# The routes of the exchange, ledger, marketplace and pool contexts that read or act on one
# resident's records (their account, their exchanges, their listings): the station dimension.
STATION_BOUND = (
    "/api/v1/accounts/{ref:str}",
    "/api/v1/accounts/{ref:str}/statement",
    "/api/v1/accounts/{ref:str}/limits",
    "/api/v1/accounts/{ref:str}/closure",
    "/api/v1/transfers",
    "/api/v1/exchanges/{exchange_id:uuid}",
    "/api/v1/exchanges/{exchange_id:uuid}/confirmation",
    "/api/v1/exchanges/{exchange_id:uuid}/disputes",
    "/api/v1/exchanges/{exchange_id:uuid}/resolution",
    "/api/v1/exchanges/{exchange_id:uuid}/withdrawal",
    "/api/v1/listings/{listing_id:uuid}/closure",
    "/api/v1/pool/grants",
)


def test_a_coordinator_of_another_station_is_refused_the_first_stations_residents(world):
    """Every resident of the matrix lives at the first station; a coordinator of another
    station is refused each of their records, and lists none of their exchanges."""
    elsewhere = Reach(level=Level.STATION, station=world.station())
    registered = create_staff(
        world.bone.timebank, "coord.elsewhere", Role.COORDINATOR, reach=elsewhere
    )
    principal = Principal(
        subject=f"staff:{registered.id}", roles=frozenset({Role.COORDINATOR}), channel="console"
    )
    headers = headers_for(world.bone, principal)
    app = create_app(world.bone)
    routes = [route for route in _handlers(app) if route[0] in STATION_BOUND]
    assert {path for path, _, _ in routes} == set(STATION_BOUND)
    wrong = []
    with TestClient(app) as client:
        for template, method, handler in routes:
            account = world.alice.account_id
            path = _path(template, handler.opt, account, world, let_through=True)
            body = BODIES.get(template, lambda *_: {})(world, account)
            kwargs = {} if body is None else {"params" if method == "GET" else "json": body}
            wait_until(lambda: caught_up(world.bone), what="read models")
            answer = client.request(method, path, headers=headers, **kwargs)
            if answer.status_code != 403:
                wrong.append(f"{method} {path}: {answer.status_code} {answer.text}")
        listed = client.get("/api/v1/exchanges", headers=headers).json()["exchanges"]
    assert not wrong, "\n".join(wrong)
    assert listed == []


COUNCIL_ROUTES = ("/api/v1/motions", "/api/v1/meetings", "/api/v1/council")


def _at_second_station(world: World) -> tuple[UUID, UUID, UUID, UUID]:
    """A second station, a resident of it, their motion and a meeting of its council."""
    timebank, second = world.bone.timebank, world.station()
    mover = resident(world.bone, system(), station=second)
    submitted = SubmitMotion(idempotency_key=uuid.uuid4().hex, title="Elsewhere", text="matrix")
    motion = council.submit(submitted, acting(timebank, member=mover)).id
    called = CallMeeting(
        idempotency_key=uuid.uuid4().hex,
        title="Elsewhere meeting",
        starts_at=world.bone.clock(),
        place="Hall 9",
        entitled=[mover],
        station=second,
    )
    return second, mover, motion, council.call(called, acting(timebank)).id


def test_council_routes_keep_to_their_station(world):
    """Another station's council, as the first station's people meet it on every council
    route: its council officer and coordinator are refused (403), a resident or volunteer may
    not second, vote on or withdraw its motions (422); the public reads stay public."""
    second, mover, motion, meeting = _at_second_station(world)
    ids = {"motion_id": str(motion), "meeting_id": str(meeting)}
    at_second = {
        "/api/v1/motions": {"mover": str(mover)},
        "/api/v1/meetings": {"station": str(second), "entitled": [str(mover)]},
        "/api/v1/council/rules": {"station": str(second)},
    }
    app = create_app(world.bone)
    routes = [
        (template, method, handler)
        for template, method, handler in _handlers(app)
        if template.startswith(COUNCIL_ROUTES) and not handler.opt.get("public")
    ]
    callers = [c for c in _callers(world) if c.principal is not None and c.name != str(Role.ADMIN)]
    wrong: list[str] = []
    checked = 0
    with TestClient(app) as client:
        for template, method, handler in routes:
            for caller in callers:
                if not (handler.opt.get("roles") or frozenset()) & caller.principal.roles:
                    continue
                if caller.is_member and template == "/api/v1/motions":
                    continue  # a resident's own motion goes to their own station
                path = PATH_PARAMETER.sub(lambda found: ids[found.group(1)], template)
                body = {
                    **BODIES.get(template, lambda *_: {})(world, caller.own),
                    **at_second.get(template, {}),
                }
                answer = client.request(method, path, headers=caller.headers, json=body)
                checked += 1
                expected = (
                    (422, "another-stations-council") if caller.is_member else (403, "forbidden")
                )
                got = (answer.status_code, answer.json().get("code"))
                if got != expected:
                    wrong.append(f"{method} {path} as {caller.name}: {got}, {answer.text}")
    assert checked > 20 and not wrong, "\n".join(wrong)


@pytest.fixture
def district(broker, sqlite_stores, tmp_path):
    """A world whose first station stands in the district the station tests open B in."""
    with running_world(broker, sqlite_stores, tmp_path, district="西湖区") as built:
        yield built.bone


def test_over_the_api_staff_reach_only_their_own_stations_people_kiosks_and_staff(district):
    """A's coordinator and A's administrator are refused every action on B's resident, kiosk
    and staff, and read nothing of them in the access log or the staff directory; B's staff
    and the district's administrator do."""
    from tests.integration.test_stations import (  # noqa: PLC0415 - its helpers, not its tests
        district_with_two_stations,
        given,
        resident,
        staff,
    )

    bone = district
    admin, second = district_with_two_stations(bone)
    in_a = Reach(level=Level.STATION, station=DEFAULT_STATION)
    in_b = Reach(level=Level.STATION, station=second)
    coordinator_a = staff(bone, "coord.a", Role.COORDINATOR, in_a, admin)
    admin_a = staff(bone, "admin.a", Role.ADMIN, in_a, admin)
    coordinator_b = staff(bone, "coord.b", Role.COORDINATOR, in_b, admin)
    member_b = resident(bone, coordinator_b)
    kiosk_b = given(bone, RegisterKiosk(name="B lobby"), coordinator_b).id
    open_personal_data(
        bone.timebank, bone.vault, member_id=member_b, purpose="visit", by=coordinator_b.by
    )
    wait_until(lambda: caught_up(bone), what="read models")

    def headers(caller: Any, role: Role) -> dict[str, str]:
        principal = Principal(subject=caller.by.actor, roles=frozenset({role}), channel="api")
        return headers_for(bone, principal)

    def staff_listed(caller: Any) -> set[str]:
        answer = client.get("/api/v1/staff", headers=headers(caller, Role.ADMIN))
        return {row["username"] for row in answer.json()}

    def opened(caller: Any) -> list[str]:
        answer = client.get("/api/v1/access-log", headers=headers(caller, Role.COORDINATOR))
        return [row["member_id"] for row in answer.json()]

    coordinator_b_id = coordinator_b.by.actor.removeprefix("staff:")
    with TestClient(create_app(bone)) as client:
        a = headers(coordinator_a, Role.COORDINATOR)
        for path, body in (
            (f"/api/v1/members/{member_b}/setup-code", {}),
            (f"/api/v1/members/{member_b}/pin", {"pin": "2468"}),
            (f"/api/v1/members/{member_b}/deactivation", {"reason": "moved away"}),
            ("/api/v1/consents", {"member_id": str(member_b), "notice_version": NOTICE}),
            ("/api/v1/erasures", {"member_id": str(member_b), "reason": "asked"}),
        ):
            refused(client.post(path, json=body, headers=a), 403, "forbidden")
        refused(
            client.get(f"/api/v1/members/{member_b}?purpose=curious", headers=a), 403, "forbidden"
        )
        assert str(member_b) not in opened(coordinator_a)
        assert str(member_b) in opened(coordinator_b)

        a = headers(admin_a, Role.ADMIN)
        for path, body in (
            (f"/api/v1/kiosks/{kiosk_b}/retirement", {"reason": "moved"}),
            (f"/api/v1/staff/{coordinator_b_id}/password", {"password": "another long one"}),
            (f"/api/v1/staff/{coordinator_b_id}/deactivation", {"reason": "left"}),
        ):
            refused(client.post(path, json=body, headers=a), 403, "forbidden")
        assert "coord.b" not in staff_listed(admin_a) and "coord.a" in staff_listed(admin_a)
        assert {"coord.a", "coord.b", "admin.a"} <= staff_listed(admin)
