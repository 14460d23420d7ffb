"""Who may open which page: an access matrix generated from the app's own page routes.

Every page route (GET, and POST with an empty form) is opened by every kind of visitor, and
the answer is checked against what the route's handler declares in its ``opt``: a public page
answers; a protected one sends a visitor who is not signed in to the right sign-in page; a
signed-in visitor whose role may not open it is told so on a page (403, HTML, never
problem+json); one whose role may is let through. A page route added later is covered
without touching this file, once its path parameters have fillers here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from domain.council import Choice
from domain.identity import Role
from services.composition.app import create_app
from services.pages.i18n import LANGUAGE_COOKIE
from services.pages.kiosk.home import DONE
from services.pages.session import DEVICE_COOKIE, SESSION_COOKIE, session_cookie
from services.pages.site import is_page_path
from services.web.auth import Principal
from tests.integration.support import (
    PROBLEM,
    caught_up,
    create_staff,
    make_backbone,
    member_principal,
    refused,
    register_kiosk,
    wait_until,
)
from tests.integration.test_access import (
    MOTION_STAGES,
    OWNER,
    PATH_PARAMETER,
    World,
    _at_second_station,
    _handlers,
    _offline_app,
    _staff_caller,
    running_world,
)

CSRF_COOKIE, CSRF_HEADER = "csrftoken", "x-csrftoken"  # Litestar's CSRFConfig defaults
FORM = {"content-type": "application/x-www-form-urlencoded"}
NOT_YOURS = "您的账户不能做这件事"  # "This is not something your account can do."


@dataclass(frozen=True)
class Visitor:
    name: str
    principal: Principal | None = None
    device: str | None = None  # the device cookie of the kiosk the visitor is at
    signed_in: bool = False  # whether the site must take them as signed in

    def cookies(self, app: Litestar, csrf: str) -> dict[str, str]:
        """What their browser sends: a fresh session (a resident's lasts minutes only)."""
        jar = {CSRF_COOKIE: csrf}
        if self.principal is not None:
            jar[SESSION_COOKIE] = session_cookie(app.state.page_auth, self.principal).value or ""
        if self.device is not None:
            jar[DEVICE_COOKIE] = self.device
        return jar


def _visitors(world: World) -> list[Visitor]:
    """Everyone who may come to a page. A resident's session is good only with the device
    cookie of the kiosk they signed in at: without it, or with another kiosk's, they are
    signed out."""
    kiosk, elsewhere = world.kiosk, register_kiosk(world.bone, "Another kiosk")
    resident = member_principal(world.alice.member_id, world.alice.account_id, kiosk)
    volunteer = member_principal(world.vera.member_id, world.vera.account_id, kiosk, Role.VOLUNTEER)
    return [
        Visitor("signed out"),
        Visitor("resident at the kiosk", resident, kiosk.token, signed_in=True),
        Visitor("resident without the kiosk's cookie", resident),
        Visitor("resident with another kiosk's cookie", resident, elsewhere.token),
        Visitor("volunteer at the kiosk", volunteer, kiosk.token, signed_in=True),
        *(
            Visitor(str(role), _staff_caller(world.bone, role).principal, signed_in=True)
            for role in (Role.COORDINATOR, Role.COUNCIL, Role.ADMIN)
        ),
    ]


def _tail(template: str) -> str:
    """What follows the first path parameter: what the route does to what it names."""
    return template.split("}", 1)[1]


# The stage a motion must have reached for a page about it (by what follows its id).
STAGES = {**MOTION_STAGES, "/vote": "voting", "/vote/{choice:str}": "voting"}
# A real value for each path parameter, for a visitor who will be let through (one made per
# route, shared by everyone it lets through). Whoever is turned away gets a random one.
FILLERS: dict[str, Callable[[World, str], object]] = {
    # a language to switch to, or a certificate's verification code
    "code": lambda w, template: "en" if template.startswith("/lang/") else w.certificate,
    "file_path": lambda w, _: "site.css",
    "motion_id": lambda w, template: w.motion(
        STAGES.get(_tail(template), "implementing"), mover=w.bob.member_id
    ),
    "meeting_id": lambda w, _: w.meeting(present=True),
    "entry_id": lambda w, _: w.entry(),
    "volunteer_id": lambda w, _: w.volunteer(w.member("Matrix Volunteer")),
    "member_id": lambda w, _: w.member("Matrix Member").member_id,
    "listing_id": lambda w, _: w.listing(w.alice.account_id),
    "exchange_id": lambda w, _: w.exchange(w.bob.account_id, w.alice.account_id),
    "kiosk_id": lambda w, _: register_kiosk(w.bone).id,
    "staff_id": lambda w, _: (
        create_staff(w.bone.timebank, w.unique("page.staff"), Role.COORDINATOR).id
    ),
    "what": lambda w, _: next(iter(DONE)),  # what the kiosk thanks a resident for
    "choice": lambda w, _: Choice.YES.value,
}


def _path(template: str, world: World, through: bool, made: dict[tuple[str, str], str]) -> str:
    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(0).split(":")[1].rstrip("}")
        if not through:
            return str(uuid.uuid4()) if kind == "uuid" else "matrix"
        filler = FILLERS.get(name)
        if filler is None:
            raise AssertionError(
                f"the page access matrix cannot fill {match.group(0)} in {template}: "
                "add a filler to FILLERS"
            )
        if (template, name) not in made:
            made[template, name] = str(filler(world, template))
            wait_until(lambda: caught_up(world.bone), what="read models")
        return made[template, name]

    return PATH_PARAMETER.sub(value, template)


def _sign_in_page(path: str, roles: frozenset[Role]) -> str:
    """Where a visitor who is not signed in is sent: from a resident's page at the kiosk to
    its number pad; from any other (setting a kiosk up is staff's) to the staff sign-in, which
    brings them back."""
    if path.startswith("/kiosk") and roles & {Role.RESIDENT, Role.VOLUNTEER}:
        return "/kiosk/sign-in"
    return f"/console/sign-in?next={path}"


def _verdict(opt: dict[str, Any], visitor: Visitor, path: str, answer: Any) -> str:
    """What is wrong with ``answer`` (empty when it is right)."""
    status, location = answer.status_code, answer.headers.get("location")
    turned_away = status in (401, 403) or status >= 500
    principal, roles = visitor.principal, opt.get("roles") or frozenset()
    sign_in = _sign_in_page(path, roles)
    if opt.get("public"):
        expected, right = "an answer", not turned_away
    elif not visitor.signed_in or principal is None:
        expected, right = f"303 to {sign_in}", status == 303 and location == sign_in
    elif not roles & principal.roles:
        expected = "a 403 page saying so in Chinese"
        right = status == 403 and answer.headers["content-type"].startswith("text/html")
        right = right and '<html lang="zh-CN">' in answer.text and NOT_YOURS in answer.text
    else:
        # Signing out sends anyone to the sign-in page by design; elsewhere that is a refusal.
        sent_to_sign_in = location == sign_in and not path.endswith("/sign-out")
        expected, right = "to be let through", not (turned_away or sent_to_sign_in)
    if right:
        return ""
    return f"expected {expected}, got {status} {location or answer.text[:300]}"


@pytest.fixture
def world(broker, sqlite_stores, tmp_path):
    # Every visitor opens every sign-in page: the per-address limit must not get in the way.
    with running_world(
        broker, sqlite_stores, tmp_path, sign_ins_per_minute=100_000, pages=True
    ) as built:
        yield built


def test_page_access_matrix(world):
    app = create_app(world.bone)
    routes = [route for route in _handlers(app) if is_page_path(route[0])]
    assert any(path == "/console/sign-in" for path, _, _ in routes), "page routes missing"
    visitors = _visitors(world)
    made: dict[tuple[str, str], str] = {}
    wrong: list[str] = []
    shown: dict[str, set[int]] = {}  # what each page answered those it lets in
    with TestClient(app) as client:
        csrf = client.get("/").cookies[CSRF_COOKIE]
        for template, method, handler in routes:
            for visitor in visitors:
                through = visitor.signed_in or bool(handler.opt.get("public"))
                path = _path(template, world, through, made)
                client.cookies.clear()  # each visitor sends their own cookies, nothing else
                client.cookies.update(visitor.cookies(app, csrf))
                # A POST sends an empty form: the matrix checks who gets in, not what forms say.
                posting = method == "POST"
                answer = client.request(
                    method,
                    path,
                    headers={CSRF_HEADER: csrf, **(FORM if posting else {})},
                    content=b"" if posting else None,
                    follow_redirects=False,
                )
                verdict = _verdict(handler.opt, visitor, path, answer)
                if verdict:
                    wrong.append(f"{method} {path} as {visitor.name}: {verdict}")
                if through and method == "GET":
                    shown.setdefault(template, set()).add(answer.status_code)
    assert not wrong, f"{len(wrong)} page visits answered wrongly:\n" + "\n".join(wrong)
    # Each page showed itself to someone it lets in (a 404 to another is theirs to get: the
    # help they open is not theirs), so the ids the matrix sends are real.
    unseen = [f"{path}: {sorted(codes)}" for path, codes in shown.items() if min(codes) >= 400]
    assert not unseen, "no visitor was shown:\n" + "\n".join(unseen)


def test_an_unknown_page_answers_in_the_readers_language(tmp_path):
    """A page path no route answers (an old link, a mistyped address) gets a page, not the
    API's problem+json; the API keeps its problem details."""
    app = _offline_app(tmp_path)
    with TestClient(app) as client:
        missing = client.get("/kiosk/no-such-page")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")
        assert '<html lang="zh-CN">' in missing.text and "没有这个页面" in missing.text

        client.cookies.set(LANGUAGE_COOKIE, "en")
        english = client.get("/council/no-such-page")
        assert english.status_code == 404 and '<html lang="en">' in english.text
        assert "There is no such page" in english.text

        # After an htmx action the notice goes into the page's notice area.
        notice = client.get("/console/no-such-page", headers={"HX-Request": "true"})
        assert notice.status_code == 404 and notice.headers["hx-retarget"] == "#notice"
        assert notice.text.startswith('<p class="notice notice-error">There is no such page')

        wrong_method = client.delete("/")
        assert wrong_method.status_code == 405 and '<html lang="en">' in wrong_method.text

        refused(client.get("/api/v1/no-such-thing"), 404, "not-found")
        assert client.delete("/health").headers["content-type"].startswith(PROBLEM)


def test_an_api_only_replica_serves_no_pages(tmp_path):
    """TIMEBANK_PAGES=off: the API answers as ever; page paths are unknown to it."""
    bone = make_backbone(
        tmp_path, str(tmp_path / "events.sqlite"), str(tmp_path / "reads.sqlite"), "nats://-:1"
    )
    assert bone.settings.pages is False
    with TestClient(create_app(bone)) as client:
        assert client.get("/schema/openapi.json").status_code == 200
        for path in ("/", "/kiosk/sign-in", "/console/sign-in", "/static/site.css"):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert answer.headers["content-type"].startswith("application/problem+json")


def test_council_pages_keep_to_their_station(world):
    """Another station's motions and meetings, on every council page about one, as the first
    station's council officer: a 403 page, whether it reads (who came, who voted how) or acts."""
    _, mover, motion, meeting = _at_second_station(world)
    wait_until(lambda: caught_up(world.bone), what="read models")
    # Every field any council form asks for (each form ignores the others): what is refused
    # is the station, not the form.
    form = {
        "reason": "matrix",
        "meeting_id": str(meeting),
        "motion_id": str(motion),
        "owner": OWNER,
        "percent": "50",
        "note": "half",
        "name": "matrix",
        "due": world.today(),
        "status": "done",
        "direction": "up",
        "present": str(mover),
        "confirmed": "true",
    }
    app = create_app(world.bone)
    ids = {"motion_id": str(motion), "meeting_id": str(meeting), "choice": Choice.YES.value}
    routes = [route for route in _handlers(app) if route[0].startswith("/council/")]
    routes = [route for route in routes if PATH_PARAMETER.search(route[0])]
    (officer,) = (visitor for visitor in _visitors(world) if visitor.name == str(Role.COUNCIL))
    wrong: list[str] = []
    with TestClient(app) as client:
        csrf = client.get("/").cookies[CSRF_COOKIE]
        client.cookies.update(officer.cookies(app, csrf))
        for template, method, _ in routes:
            path = PATH_PARAMETER.sub(lambda found: ids[found.group(1)], template)
            posting = method == "POST"
            answer = client.request(
                method,
                path,
                headers={CSRF_HEADER: csrf, **(FORM if posting else {})},
                data=form if posting else None,
                follow_redirects=False,
            )
            if answer.status_code != 403 or NOT_YOURS not in answer.text:
                wrong.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
    assert len(routes) > 10 and not wrong, "\n".join(wrong)
