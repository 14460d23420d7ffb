"""The pure model of Timebank: aggregates, their events, invariants and value types.

Nothing here performs I/O or reads a clock; the command side supplies every time and id.
"""
