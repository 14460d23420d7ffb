// Refusals (4xx) and failures (5xx) carry a page fragment in the reader's language: show it.
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "[23]..", swap: true },
  { code: "[45]..", swap: true, error: false },
];
