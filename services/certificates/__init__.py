"""Certificates of volunteer service: the command (``commands``) and its handler (``handlers``)."""
