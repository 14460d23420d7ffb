// The console's few helpers (plain JS, served locally like everything else).

// A "select all" box ticks or clears every box of its form that it names.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-selects]");
  if (!all || !all.form) return;
  for (const box of all.form.querySelectorAll(`input[name="${all.dataset.selects}"]`)) {
    box.checked = all.checked;
  }
});

// A new action starts with no notice left over from the last one.
document.addEventListener("htmx:beforeRequest", () => {
  const notice = document.getElementById("notice");
  if (notice) notice.replaceChildren();
});

// Buttons that print the page (the report, a certificate).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

// After a part of the page changes, keyboard and screen-reader users land on what it says
// now: a confirmation's question, or the note that the action was done.
document.addEventListener("htmx:afterSwap", (event) => {
  const heading = event.detail.target.querySelector("#confirm-heading, .notice-ok");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
});
