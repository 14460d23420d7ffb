"""Help exchanges: the commands (``commands``) and their handlers (``handlers``)."""
