"""The read side as a route sees it: a query over read models, run once they have applied the
position the caller last wrote (read-your-writes, DESIGN.md 4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from litestar.datastructures import State

from projections import deadletter
from projections.readstore import ReadDb, ReadStore
from services.web.problems import PositionAheadOfStore, ReadModelBehind, ReadModelFailing

T = TypeVar("T")


@dataclass(frozen=True)
class Reads:
    store: ReadStore
    head: Callable[[], int]  # the event store's last position
    wait_seconds: float

    def query(self, models: tuple[str, ...], after: int | None, query: Callable[[ReadDb], T]) -> T:
        """Run ``query`` once ``models`` have applied everything up to ``after``."""
        if after:
            for name in models:
                if not self.store.has_tracking_id(name, after):
                    self._wait_for(name, after)
        with self.store.transaction(commit=False) as db:
            return query(db)

    def _wait_for(self, name: str, after: int) -> None:
        """Wait for read model ``name`` to reach ``after``, unless it never can: the position
        is past the store's last event, or the model is stopped before it (then say so)."""
        head = self.head()
        if after > head:
            raise PositionAheadOfStore(after, head)
        self._refuse_if_failing(name, after)
        try:
            self.store.wait(name, after, timeout=self.wait_seconds)
        except TimeoutError:
            self._refuse_if_failing(name, after)  # it may have stopped while we waited
            raise ReadModelBehind(after) from None

    def _refuse_if_failing(self, name: str, after: int) -> None:
        failure = deadletter.failing(self.store).get(name)
        if failure is not None and failure.position <= after:
            raise ReadModelFailing(after, failure)


def the_reads(state: State) -> Reads:
    return state.reads  # type: ignore[no-any-return]
