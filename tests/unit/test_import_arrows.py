"""The arrows between the layers point one way (DESIGN.md, Layout; issue 16).

- The domain is the pure model: it imports the standard library (none of its I/O), itself and
  eventsourcing's ``domain`` module (its aggregates are eventsourcing Aggregates), nothing else.
- Projections depend only on the published language (the envelope), the broker and the read
  store, never on the command side, so a projector process does not load the write side.
- A projector process's entry (`timebank project`, which `timebank up` also starts as its
  child) loads nothing of the command side either.
- The event store's log (services.messaging.eventlog), which projectors replay from, reads
  the store through its recorder and the transcoder it is written with, and loads nothing of
  the command side either: the transcoder is how stored events are read, not the write side.
- The vault keeps its keys in a store of its own, not in the read store's machinery.

The imports are read from the source (``ast``) and followed from module to module within this
repository; a subprocess then imports the same modules for real and looks at ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("domain", "services", "projections")

# The write side: the eventsourcing Application, the store around it and the command handlers,
# the vault, the web, and the composition that holds them all.
COMMAND_SIDE = (
    "eventsourcing.application",
    "services.store.eventstore",
    "services.store.staging",
    "services.bus",
    "services.store.groupcommit",
    "services.web.revocation",
    "services.messaging.relay",
    "services.composition.runtime",
    "services.composition.workers",
    "services.ledger",
    "services.hours",
    "services.council",
    "services.identity",
    "services.exchange",
    "services.listings",
    "services.pool",
    "services.volunteers",
    "services.certificates",
    "services.store.vault",
    "services.api",
    "services.pages",
)
# What the domain may import: the standard library but its I/O, clocks and processes.
DOMAIN_MAY_IMPORT = ("domain", "eventsourcing.domain", "__future__")
STDLIB_IO = frozenset(
    {"asyncio", "http", "io", "logging", "os", "pathlib", "shutil", "socket", "sqlite3"}
    | {"subprocess", "tempfile", "threading", "time", "urllib"}
)
PROJECTOR_ENTRY = (
    "services.composition.cli",
    "project",
)  # the module, and the command a projector runs


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(f"{prefix}.") for prefix in prefixes)


def _source(module: str) -> Path | None:
    """The file of one of this repository's modules (None for anything else)."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _import_nodes(nodes: list[ast.AST], *, loaded_only: bool, calls: str = "") -> Iterator[ast.AST]:
    """The import statements in ``nodes``. ``loaded_only``: only those that run when the
    module is loaded (not those for type checkers, nor those inside functions, but those in
    the function named ``calls``, which the process runs)."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif loaded_only and isinstance(node, ast.If) and _is_type_checking(node):
            yield from _import_nodes(list(node.orelse), loaded_only=True)
        elif loaded_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == calls:
                yield from _import_nodes(list(node.body), loaded_only=False)
        else:
            children = list(ast.iter_child_nodes(node))
            yield from _import_nodes(children, loaded_only=loaded_only, calls=calls)


def _imported(node: ast.AST) -> Iterator[str]:
    """The modules an import statement loads: ``from a import b`` loads ``a.b`` if that is a
    module of ours, and each package on the way (``a`` for ``a.b``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        assert isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        names = [node.module]
        names += [f"{node.module}.{alias.name}" for alias in node.names]
        names = names[:1] + [name for name in names[1:] if _source(name)]
    for name in names:
        parts = name.split(".")
        yield from (".".join(parts[: index + 1]) for index in range(len(parts)))


def imports_of(module: str, *, loaded_only: bool, calls: str = "") -> set[str]:
    source = _source(module)
    assert source is not None, f"{module} is not a module of this repository"
    tree = ast.parse(source.read_text(), str(source))
    nodes = _import_nodes(list(tree.body), loaded_only=loaded_only, calls=calls)
    return {name for node in nodes for name in _imported(node)}


def reached(start: str, *, loaded_only: bool, calls: str = "") -> dict[str, str]:
    """Every module ``start`` imports, followed through this repository's modules: each with
    the module that imports it, to show the way an arrow took."""
    found = {start: ""}
    todo = [(start, calls)]
    while todo:
        module, entry = todo.pop()
        for name in imports_of(module, loaded_only=loaded_only, calls=entry) - found.keys():
            found[name] = module
            if _within(name, OURS) and _source(name):
                todo.append((name, ""))
    return found


def _way(found: dict[str, str], name: str) -> str:
    steps = [name]
    while found[steps[-1]]:
        steps.append(found[steps[-1]])
    return " <- ".join(steps)


def _forbidden(found: dict[str, str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(_way(found, name) for name in found if _within(name, prefixes))


def _modules_of(package: str) -> list[str]:
    """Every module in ``package`` and the packages within it (dotted: ``services.pages``)."""
    found = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in ROOT.joinpath(*package.split(".")).rglob("*.py")
    )
    assert found, f"no modules in {package}"
    return found


def test_the_domain_imports_only_the_standard_library_and_eventsourcing_domain():
    for module in _modules_of("domain"):
        found = reached(module, loaded_only=False)
        foreign = [
            _way(found, name)
            for name in found
            if not _within(name, DOMAIN_MAY_IMPORT)
            and not (name.split(".")[0] in sys.stdlib_module_names and name not in STDLIB_IO)
            and name != "eventsourcing"  # the package on the way to eventsourcing.domain
        ]
        assert foreign == [], f"{module} imports beyond the pure model"


def test_projections_import_nothing_of_the_command_side():
    for module in _modules_of("projections"):
        assert _forbidden(reached(module, loaded_only=False), COMMAND_SIDE) == []


def test_a_projector_process_loads_nothing_of_the_command_side():
    module, command = PROJECTOR_ENTRY
    found = reached(module, loaded_only=True, calls=command)
    assert "projections.runner" in found  # it is the projector's entry
    assert _forbidden(found, COMMAND_SIDE) == []


def test_the_event_log_reads_the_store_without_the_command_side():
    found = reached("services.messaging.eventlog", loaded_only=False)
    assert "services.store.transcoding" in found  # it decodes stored events
    assert _forbidden(found, COMMAND_SIDE) == []
    assert "services.messaging.eventlog" in reached(PROJECTOR_ENTRY[0], loaded_only=True)


def test_the_vault_keeps_its_keys_outside_the_read_store():
    assert _forbidden(reached("services.store.vault", loaded_only=False), ("projections",)) == []


def test_the_api_and_the_pages_stand_on_the_web_kit_and_import_neither_each_other():
    """Both use the web kit (``services.web``); the app is composed above them
    (``services.composition.app``), so no arrow runs back up the house."""
    above = ("services.composition.app",)
    for package, other in (("services.api", "services.pages"), ("services.pages", "services.api")):
        for module in _modules_of(package):
            assert _forbidden(reached(module, loaded_only=False), (other, *above)) == [], module
    for module in _modules_of("services.web"):
        found = reached(module, loaded_only=False)
        assert _forbidden(found, ("services.api", "services.pages", *above)) == [], module


def test_the_walk_sees_a_forbidden_arrow_where_there_is_one():
    """The composition root holds the command side: were the walk blind, the tests above would
    pass for nothing."""
    found = reached("services.composition.runtime", loaded_only=True)
    assert "services.store.eventstore <- services.composition.runtime" in _forbidden(
        found, COMMAND_SIDE
    )
    assert "services.composition.app" in reached("services.composition.cli", loaded_only=False)
    assert "services.pages.site" in reached("services.composition.app", loaded_only=False)


def _loaded_by_importing(modules: list[str]) -> list[str]:
    """What a fresh interpreter has in ``sys.modules`` after importing ``modules``."""
    program = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_importing_the_projections_or_the_projector_loads_no_command_side():
    for modules in (_modules_of("projections"), [PROJECTOR_ENTRY[0]]):
        loaded = _loaded_by_importing(modules)
        assert "services.messaging.envelope" in loaded
        assert [name for name in loaded if _within(name, COMMAND_SIDE)] == []
