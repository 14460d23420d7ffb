"""Time accounts and transfers: the commands (``commands``) and their handlers (``handlers``)."""
