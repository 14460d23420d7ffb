"""Stations: opening one, renaming or moving it to another street or district, closing it."""
