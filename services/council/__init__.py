"""The resident council: its commands and their handlers."""
