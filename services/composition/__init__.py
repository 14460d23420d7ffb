"""The composition root and entrypoints: settings, logging, the backbone each process builds,
the background workers, the HTTP app composed above the API and the pages, the CLI and
`timebank rebuild`."""
