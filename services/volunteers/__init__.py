"""The volunteer registry and trainings: the commands (``commands``) and their handlers
(``handlers``)."""
