// The kiosk's own behaviour, in plain JavaScript: the on-screen number pad, the one-touch
// lengths of time, and the idle countdown that signs a resident out.
(function () {
  "use strict";

  // --- The number pad types into the form's chosen number field. ----------------------
  let active = null; // the number field the pad types into

  function padField(control) {
    const form = control.closest("form");
    if (!form) return null;
    if (active && form.contains(active)) return active;
    return form.querySelector("[data-pad-field]");
  }

  function choose(field) {
    document.querySelectorAll(".pad-active").forEach((el) => el.classList.remove("pad-active"));
    active = field;
    if (field) field.classList.add("pad-active");
  }

  function nextField(field) {
    const fields = Array.from(field.form.querySelectorAll("[data-pad-field]"));
    return fields[fields.indexOf(field) + 1] || field;
  }

  function press(key) {
    const field = padField(key);
    if (!field) return;
    const limit = Number(field.getAttribute("maxlength")) || 12;
    const value = field.value;
    if (key.dataset.key === "clear") field.value = "";
    else if (key.dataset.key === "back") field.value = value.slice(0, -1);
    else if (value.length < limit) field.value = value + key.dataset.key;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    // A member number may be shorter than its field: the pad moves on at the length new
    // numbers have, and a resident with a shorter one taps the next field.
    const full = Number(field.dataset.padAdvance) || limit;
    choose(field.value.length >= full ? nextField(field) : field);
  }

  // --- One-touch lengths of time fill the minutes field. ------------------------------
  function markChips(field) {
    document.querySelectorAll('[data-fill][data-for="' + field.id + '"]').forEach((chip) => {
      chip.setAttribute("aria-pressed", String(chip.dataset.fill === field.value));
    });
  }

  // The stepper: half an hour more or less, never below half an hour.
  function step(button) {
    const field = document.getElementById(button.dataset.for);
    if (!field) return;
    const minutes = (Number(field.value) || 0) + Number(button.dataset.step);
    field.value = String(Math.max(30, minutes));
    markChips(field);
  }

  function fill(chip) {
    const field = document.getElementById(chip.dataset.for);
    if (!field) return;
    field.value = chip.dataset.fill;
    markChips(field);
  }

  // --- Start times: "just now" is the chosen length of time before now; a time not over
  // yet is said before the form is sent. "Now" is the station's (the page says what it was
  // when it was made), whatever zone the screen's own clock is set to. -------------------
  const loaded = Date.now();

  function stationNow(form) {
    return Date.parse(form.dataset.now + "Z") + (Date.now() - loaded);
  }

  function twoDigits(number) {
    return String(number).padStart(2, "0");
  }

  function justNow(chip) {
    const form = chip.closest("form");
    const minutes = Number(form.querySelector("#minutes").value) || 0;
    const start = new Date(stationNow(form) - minutes * 60000);
    const day = start.toISOString().slice(0, 10);
    chip.dataset.fill = twoDigits(start.getUTCHours()) + ":" + twoDigits(start.getUTCMinutes());
    fill(chip);
    const dayField = form.querySelector("#day");
    dayField.value = day;
    markChips(dayField);
  }

  function refreshJustNow() {
    const chip = document.querySelector('[data-just-now][aria-pressed="true"]');
    if (chip) justNow(chip);
  }

  function endsAhead(form) {
    const day = form.querySelector("#day").value;
    const start = form.querySelector("#start").value;
    const minutes = Number(form.querySelector("#minutes").value) || 0;
    if (!day || !start) return false;
    return Date.parse(day + "T" + start + ":00Z") + minutes * 60000 > stationNow(form);
  }

  // Caught on the way down, before the boosted form's own handler (htmx) sends it.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("[data-not-ahead]")) return;
    const said = form.querySelector("#not-over-yet");
    said.hidden = !endsAhead(form);
    if (said.hidden) return;
    event.preventDefault();
    event.stopPropagation();
  }, { capture: true });

  // --- The chosen kind of help shows its common titles, one touch each. ----------------
  function showTitles() {
    const chosen = document.querySelector('input[name="category"]:checked');
    document.querySelectorAll("[data-titles-for]").forEach((group) => {
      group.hidden = !chosen || group.dataset.titlesFor !== chosen.value;
    });
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches('input[name="category"]')) showTitles();
  });
  document.addEventListener("DOMContentLoaded", showTitles);
  document.addEventListener("htmx:afterSettle", showTitles);

  document.addEventListener("click", (event) => {
    const key = event.target.closest("[data-key]");
    if (key) return press(key);
    const now = event.target.closest("[data-just-now]");
    if (now) return justNow(now);
    const chip = event.target.closest("[data-fill]");
    if (chip) {
      fill(chip);
      if (chip.dataset.for === "minutes") refreshJustNow();
      return;
    }
    const stepper = event.target.closest("[data-step]");
    if (stepper) {
      step(stepper);
      return refreshJustNow();
    }
  });
  document.addEventListener("focusin", (event) => {
    if (event.target.matches("[data-pad-field]")) choose(event.target);
  });
  document.addEventListener("input", (event) => {
    if (event.target.id) markChips(event.target); // typed: a one-touch choice no longer holds
    if (event.target.id === "minutes") refreshJustNow();
  });
  // A new page: the pad types into its first number field until another is touched.
  function padReady() {
    if (active && document.contains(active)) return;
    choose(document.querySelector("[data-pad-start]") || document.querySelector("[data-pad-field]"));
  }
  document.addEventListener("DOMContentLoaded", padReady);
  document.addEventListener("htmx:afterSettle", padReady);

  // --- Idle sign-out: any touch or key restarts the countdown; shortly before zero a large
  // "still there?" dialog asks, and its button carries on (renewing the session); at zero,
  // sign out, saying why on the sign-in screen. ----------------------------------------
  const WARN_AT = 10; // seconds left when the countdown turns red
  const ASK_AT = 20; // seconds left when the dialog asks (half the idle time, if that is less)
  let clock = null; // the countdown element of the page on screen
  let deadline = 0;
  let signingOut = false;

  function restart() {
    if (clock) deadline = Date.now() + Number(clock.dataset.idleSeconds) * 1000;
  }

  function ask(left) {
    const dialog = document.getElementById("still-here");
    if (!dialog) return;
    const askAt = Math.min(ASK_AT, Math.floor(Number(clock.dataset.idleSeconds) / 2));
    dialog.querySelector("[data-still-left]").textContent = String(left);
    if (left <= askAt && left > 0 && !dialog.open) dialog.showModal();
    else if (left > askAt && dialog.open) dialog.close();
  }

  function signOut() {
    signingOut = true;
    const form = document.getElementById("sign-out");
    if (!form) return;
    form.querySelector("[name=idle]").value = "true";
    form.requestSubmit();
  }

  function tick() {
    const shown = document.querySelector("[data-idle-seconds]");
    if (shown !== clock) { // a new page: its own countdown starts afresh
      clock = shown;
      signingOut = false;
      restart();
    }
    if (!clock || signingOut) return;
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    clock.querySelector("[data-left]").textContent = String(left);
    clock.classList.toggle("low", left <= WARN_AT);
    ask(left);
    if (left === 0) signOut();
  }

  function carryOn() {
    restart();
    const dialog = document.getElementById("still-here");
    if (dialog && dialog.open) dialog.close();
  }

  ["pointerdown", "keydown", "touchstart", "wheel"].forEach((name) =>
    document.addEventListener(name, restart, { capture: true, passive: true }));
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-still-here]")) carryOn();
  });
  // Escape on the dialog means "still here" too, and renews the session the same way.
  document.addEventListener("cancel", (event) => {
    if (event.target.id !== "still-here") return;
    event.preventDefault();
    event.target.querySelector("[data-still-here]").click();
  }, { capture: true });
  setInterval(tick, 250);
  document.addEventListener("DOMContentLoaded", tick);
})();
