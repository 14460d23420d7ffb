"""The read store hands each read model only the event types its ``_on`` handles
(projections.dispatch.shown): whatever else a model's ``apply`` looks at must be among them."""

from __future__ import annotations

from projections import council, exchanges, hours
from projections.catalog import READ_MODELS
from projections.dispatch import shown


def test_every_read_model_names_the_events_it_shows():
    for name, model in READ_MODELS.items():
        assert shown(type(model)), f"{name} shows no event at all"


def test_the_steps_a_model_records_beside_its_handlers_are_among_what_it_shows():
    for model, steps in (
        (READ_MODELS["council"], council._MOTION_STEPS),
        (READ_MODELS["exchanges"], exchanges._STEPS),
        (READ_MODELS["hours"], hours._STEPS),
    ):
        assert {step.__name__ for step in steps} <= shown(type(model)), model.name
