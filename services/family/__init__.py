"""Family ties and gifts to family: the commands (``commands``) and their handlers
(``handlers``)."""
