"""The community pool: the commands (``commands``) and their handlers (``handlers``)."""
