"""`timebank`: run everything embedded (`up`), or each part on its own.

A projector (`timebank project`, and the child `timebank up` starts) loads this module, and a
projector depends only on the published language, the broker, the read store and the event
store's log (services.messaging.eventlog): so the command side and the web are imported inside
the commands that run them, never up here (tests/unit/test_import_arrows.py holds that).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from uuid import uuid4

import click
import msgspec
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from domain.identity import STAFF_ROLES, Role
from domain.provenance import SYSTEM_ACTOR, Provenance
from domain.rules import RuleViolated
from projections.catalog import READ_MODELS
from projections.readstore import open_read_store
from projections.rebuilds import RebuildRefused
from projections.runner import PoisonEvent, ProjectionRunner
from services.composition.config import Settings, SettingsRefused
from services.composition.logs import configure_logging
from services.composition.rebuild import broker_of
from services.composition.rebuild import rebuild as rebuilding
from services.messaging.broker import EmbeddedBroker
from services.messaging.eventlog import EventLog

if TYPE_CHECKING:
    from litestar import Litestar

    from services.composition.app import Lifespan
    from services.composition.runtime import Backbone
    from services.composition.workers import Workers
    from services.identity.commands import Reach


def _exit_on_sigterm() -> None:
    def leave(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)


def _nats_url(settings: Settings) -> str:
    if not settings.nats_url:
        raise click.UsageError("Set TIMEBANK_NATS_URL (or use `timebank up`, which runs its own).")
    return settings.nats_url


def _serve(bone: Backbone, workers: Workers | None) -> None:
    import uvicorn  # noqa: PLC0415 - not in a projector (see the module's docstring)

    from services.composition.app import create_app  # noqa: PLC0415 - likewise

    app = create_app(bone, lifespan=[_lifespan_of(workers, bone)] if workers else [])
    uvicorn.run(
        app, host=bone.settings.host, port=bone.settings.port, log_level="warning", access_log=False
    )


def _command_side(
    settings: Settings, nats_url: str, broker: EmbeddedBroker | None = None
) -> Backbone:
    from services.composition.runtime import build_backbone  # noqa: PLC0415 - see the module's docstring

    return build_backbone(settings, nats_url, broker=broker)


def _lifespan_of(workers: Workers, bone: Backbone) -> Lifespan:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with workers.running():
            url = f"http://{bone.settings.host}:{bone.settings.port}/"
            click.echo(f"Timebank is running at {url}  (API docs: {url}schema; Ctrl-C stops)")
            yield

    return lifespan


def _run_until_signal(work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await work(stop)

    asyncio.run(main())


DATA_OPTION = click.option(
    "--data",
    type=click.Path(path_type=Path),
    envvar="TIMEBANK_DATA",
    default=".timebank",
    show_default=True,
    help="Directory for the event store, read models, keys and the embedded broker.",
)


class _Timebank(click.Group):
    """Every command reads the settings first: one the environment gets wrong stops it with
    what is wrong, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SettingsRefused as refused:
            raise click.ClickException(str(refused)) from None


@click.group(cls=_Timebank)
def main() -> None:
    """Timebank: time bank, volunteer hours and resident council for a social-work station."""


@main.command()
@DATA_OPTION
@click.option("--host", envvar="TIMEBANK_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="TIMEBANK_PORT", type=int, default=8000, show_default=True)
def up(data: Path, host: str, port: int) -> None:
    """Run everything on this machine: broker, event store, relay, read models and the API."""
    from services.composition.workers import Workers  # noqa: PLC0415 - see the module's docstring

    _exit_on_sigterm()
    configure_logging()
    # This one process holds the whole command side (its projector child writes only the
    # read store), so it may trust its aggregate cache; see Timebank's sole_writer.
    settings = Settings.from_env(data_dir=data, host=host, port=port, sole_writer=True)
    broker = EmbeddedBroker(settings.data_dir / "nats")
    try:
        try:
            nats_url = settings.nats_url or broker.start()
        except RuntimeError as failed:  # a `timebank rebuild` runs the broker, say
            raise click.ClickException(str(failed)) from None
        bone = _command_side(settings, nats_url, broker=None if settings.nats_url else broker)
        workers = Workers.embedded(bone)
        _serve(bone, workers)
    finally:
        broker.stop()


@main.command()
@click.option("--host", envvar="TIMEBANK_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="TIMEBANK_PORT", type=int, default=8000, show_default=True)
def api(host: str, port: int) -> None:
    """Run only the HTTP API (any number of replicas) against TIMEBANK_* stores and broker."""
    settings = Settings.from_env(host=host, port=port)
    _serve(_command_side(settings, _nats_url(settings)), workers=None)


@main.command()
def relay() -> None:
    """Run only the outbox relay: event store → JetStream."""
    from services.composition.workers import Workers  # noqa: PLC0415 - see the module's docstring

    configure_logging()
    settings = Settings.from_env()
    workers = Workers(_command_side(settings, _nats_url(settings)), relay=True)
    _run_until_signal(workers.run)


@main.command()
@click.argument("names", nargs=-1, type=click.Choice(sorted(READ_MODELS)))
def project(names: tuple[str, ...]) -> None:
    """Run read-model projections (all of them when no NAME is given)."""
    configure_logging()
    settings = Settings.from_env()
    # Every read model's tables, as the API's read store has them, whichever this one feeds.
    store = open_read_store(settings.read_store_url, list(READ_MODELS.values()))
    # One group: each event is fetched, decoded and committed once for all the models.
    models = [READ_MODELS[name] for name in names or READ_MODELS]
    events = EventLog.open(settings.event_store_url)
    try:
        _run_until_signal(ProjectionRunner(models, store, _nats_url(settings), events=events).run)
    finally:
        events.close()
        store.datastore.close()


@main.group()
def admin() -> None:
    """Administration from the command line."""


@admin.command("create-staff")
@click.option("--username", required=True)
@click.option(
    "--role",
    type=click.Choice(sorted(role.value for role in STAFF_ROLES)),
    default=Role.ADMIN.value,
    show_default=True,
)
@click.password_option(
    help="Prompted for (twice) when not given; or set TIMEBANK_STAFF_PASSWORD.",
    envvar="TIMEBANK_STAFF_PASSWORD",
)
@click.option(
    "--reach",
    default=None,
    metavar="SCOPE",
    help="station:<station id>, street:<district>/<street> or district:<district>; "
    "by default the first station.",
)
@DATA_OPTION
def create_staff(username: str, role: str, password: str, reach: str | None, data: Path) -> None:
    """Create a staff account (the first admin, typically)."""
    # The command side (see the module's docstring):
    from services.bus import Acting, Caller  # noqa: PLC0415
    from services.composition.runtime import start_record  # noqa: PLC0415
    from services.identity.commands import CreateStaffAccount  # noqa: PLC0415
    from services.identity.staff import register_staff  # noqa: PLC0415
    from services.store.eventstore import Timebank  # noqa: PLC0415
    from services.store.vault import Vault  # noqa: PLC0415

    configure_logging()
    settings = Settings.from_env(data_dir=data)
    timebank, vault = Timebank(settings.event_store_url), Vault(settings.key_store_url)
    by = Provenance(actor=SYSTEM_ACTOR, channel="cli", correlation_id=uuid4().hex)
    try:
        command = CreateStaffAccount(
            username=username, role=Role(role), password=password, reach=_reach(reach)
        )
        start_record(timebank, settings)
        done = register_staff(
            command, Acting(timebank, Caller(by), datetime.now(UTC), settings, vault)
        )
    except RuleViolated as refused:
        raise click.ClickException(refused.message) from None
    finally:
        timebank.close()
        vault.close()
    click.echo(f"staff account {username!r} ({role}) created: {done.id}")


def _reach(written: str | None) -> Reach | None:
    """``--reach`` as the command takes it."""
    from services.identity.commands import Reach  # noqa: PLC0415

    if written is None:
        return None
    try:
        return Reach.written(written)
    except msgspec.ValidationError as error:
        raise click.BadParameter(f"{written!r}: {error}", param_hint="--reach") from None


@main.command()
@click.argument("name", type=click.Choice(sorted(READ_MODELS)))
@DATA_OPTION
def rebuild(name: str, data: Path) -> None:
    """Drop a read model and rebuild it from the event store, then follow the stream to its
    head; safe beside running projectors (`timebank up` or `timebank project`), which wait for
    this model meanwhile."""
    configure_logging()
    settings = Settings.from_env(data_dir=data)
    model = READ_MODELS[name]
    store = open_read_store(settings.read_store_url, [model])
    events = EventLog.open(settings.event_store_url)
    try:
        with broker_of(settings) as nats_url, _progress(name) as report:
            outcome: list[tuple[int, bool]] = []

            async def work(stop: asyncio.Event) -> None:
                outcome.append(await rebuilding(model, store, nats_url, events, stop, report))

            _run_until_signal(work)
    except RebuildRefused as refused:
        raise click.ClickException(str(refused)) from None
    except PoisonEvent as poison:
        raise click.ClickException(f"{poison}; fix it and rebuild again") from None
    finally:
        events.close()
        store.datastore.close()
    ((position, done),) = outcome
    if not done:
        raise click.ClickException(
            f"stopped at position {position}: a running projector (or the next `timebank up`"
            f" or `timebank project`) finishes {name} from there"
        )
    click.echo(f"{name} rebuilt up to position {position}")


@contextmanager
def _progress(name: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr; what updates it with (position reached, head)."""
    columns = (
        TextColumn(f"rebuilding {name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=not sys.stderr.isatty()) as progress:
        task = progress.add_task(name, total=None)

        def report(position: int, head: int) -> None:
            progress.update(task, completed=position, total=head)

        yield report


if (
    __name__ == "__main__"
):  # `timebank up` starts its projector as `python -m services.composition.cli`
    main()
