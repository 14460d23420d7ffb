"""Schemathesis fuzzes every operation of /schema/openapi.json against the app served by a real
HTTP server over real stores, broker and workers, as each kind of caller: anonymous, a resident
signed in at a kiosk, the council chair, a coordinator and an admin. Every answer must be what
the document says (a documented status, its media type, its schema) and never a server error.

Bounded and reproducible: a fixed number of examples per operation, mode and role
(``TIMEBANK_FUZZ_EXAMPLES``), drawn derandomized, so the same code fuzzes the same way. Before a
release, run it longer, e.g. ``TIMEBANK_FUZZ_EXAMPLES=200`` (README, "Fuzzing")."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.fuzzing import ROLES, Station, station
from tests.integration.support import make_backbone

EXAMPLES = int(os.environ.get("TIMEBANK_FUZZ_EXAMPLES", "12"))
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS_ROLES = {  # the roles each caller's token carries
    "anonymous": set(),
    "resident": {"resident", "volunteer"},
    "council": {"council"},
    "coordinator": {"coordinator"},
    "admin": {"admin"},
}
READ_WAIT_SECONDS = 1.0  # Schemathesis gives up on an answer after 10 s
REFUSED_EXAMPLES = 2  # a refused caller is answered 401 or 403 whatever the request


def may_call(role: str, operation: schemathesis.APIOperation) -> bool:
    """What the document says: the roles each security requirement admits, or none needed."""
    security = operation.definition.raw.get("security") or []
    admitted = {name for requirement in security for name in requirement.get("BearerToken", [])}
    return not security or bool(CALLERS_ROLES[role] & admitted)


def strategies(operation: schemathesis.APIOperation, world: Station) -> Iterator[SearchStrategy]:
    """Valid and invalid requests, with ids made up and, where the path takes them, real ids."""
    names = [parameter.name for parameter in operation.path_parameters]
    real = world.path_ids(operation.path, names) if names else None
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        yield operation.as_strategy(generation_mode=mode)
        if real:
            yield operation.as_strategy(generation_mode=mode, path_parameters=real)


def fuzz(
    strategy: SearchStrategy, url: str, headers: dict[str, str], checks: list, examples: int
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # the first failure is reported, not shrunk
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def requests(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=url, headers=headers, checks=checks)

    requests()


def first_failure(run: Callable[..., None], *args: object) -> str | None:
    try:
        run(*args)
    except Unsatisfiable:  # no invalid request exists for an operation without parameters
        return None
    except (Exception, BaseExceptionGroup) as failure:  # Schemathesis groups its failures
        return str(failure).strip()
    return None


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_is_as_the_document_says(role, broker, stores, tmp_path):
    # A read waits for ?after= no longer than a station would let it.
    bone = make_backbone(
        tmp_path,
        stores.new("events"),
        stores.new("reads"),
        broker.url,
        read_wait_seconds=READ_WAIT_SECONDS,
    )
    failures: list[str] = []
    checks = [not_a_server_error, *CONFORMANCE]
    with station(bone) as (url, world):
        # The document is generated on its first request: on a busy CI worker that has taken
        # longer than the loader's default 10 s.
        schema = schemathesis.openapi.from_url(f"{url}/schema/openapi.json", timeout=120)
        for result in schema.get_all_operations():
            operation = result.ok()
            world.refresh(role)
            if may_call(role, operation):
                runs = [(strategy, EXAMPLES) for strategy in strategies(operation, world)]
            else:
                runs = [(operation.as_strategy(), REFUSED_EXAMPLES)]
            for strategy, examples in runs:
                found = first_failure(fuzz, strategy, url, world.headers[role], checks, examples)
                if found:
                    failures.append(f"== {role} {operation.label}\n{found}")
    report = "\n\n".join(failures)
    assert not failures, (
        f"{len(failures)} runs found answers the document does not describe:\n{report}"
    )
