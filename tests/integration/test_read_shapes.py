"""A read model whose tables or version changed with the code is made afresh (and replayed
from the start) when the read store is opened; one whose shape is unchanged keeps its rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from projections.readstore import ReadStore, open_read_store
from projections.schemas import TABLE as SHAPES
from services.messaging.envelope import Envelope


@dataclass
class Probe:
    columns: str = "id TEXT PRIMARY KEY"
    version: int = 1
    name: str = "probe"
    tables: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tables = {"probe": f"CREATE TABLE IF NOT EXISTS probe ({self.columns})"}

    def apply(self, db: object, envelope: Envelope) -> None:
        raise AssertionError("nothing is applied here")


def _opened(url: str, model: Probe) -> ReadStore:
    store = open_read_store(url, [model])
    store.datastore.close()
    return open_read_store(url, [model])  # a second process opening it changes nothing more


def _fill(store: ReadStore) -> None:
    with store.transaction(commit=True) as db:
        db.execute("INSERT INTO probe (id) VALUES ('row')")
        db.execute(
            f"UPDATE {store.tracking_table} SET notification_id = 7"
            " WHERE application_name = 'probe'"
        )


def _rows(store: ReadStore) -> list[str]:
    with store.transaction(commit=False) as db:
        return [row["id"] for row in db.all("SELECT id FROM probe")]


def test_an_unchanged_model_keeps_its_rows_and_position(stores) -> None:
    url = stores.new("reads")
    store = _opened(url, Probe())
    _fill(store)
    store.datastore.close()
    again = _opened(url, Probe())
    assert (_rows(again), again.position("probe")) == (["row"], 7)
    again.datastore.close()


def test_new_tables_or_a_new_version_start_the_model_afresh(stores) -> None:
    url = stores.new("reads")
    for changed in (Probe("id TEXT PRIMARY KEY, station TEXT"), Probe(version=2)):
        store = _opened(url, Probe())
        _fill(store)
        store.datastore.close()
        store = _opened(url, changed)
        assert (_rows(store), store.position("probe")) == ([], 0)
        store.datastore.close()
    reshaped = open_read_store(url, [Probe("id TEXT PRIMARY KEY, station TEXT")])
    with reshaped.transaction(commit=True) as db:
        db.execute("INSERT INTO probe (id, station) VALUES ('row', 'main')")  # the new column
    reshaped.datastore.close()


def test_a_store_made_before_shapes_were_recorded_is_made_afresh(stores) -> None:
    url = stores.new("reads")
    store = _opened(url, Probe())
    _fill(store)
    with store.transaction(commit=True) as db:
        db.execute(f"DROP TABLE {SHAPES}")
    store.datastore.close()
    store = _opened(url, Probe())
    assert (_rows(store), store.position("probe")) == ([], 0)
    store.datastore.close()
