"""Volunteers' service hours: the commands (``commands``) and their handlers (``handlers``)."""
