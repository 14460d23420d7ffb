"""Help categories and listings: the commands (``commands``) and their handlers (``handlers``)."""
