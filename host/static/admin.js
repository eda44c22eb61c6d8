// The admin page's only script (served from /static; the page has no
// inline script). A run's page shows its progress by polling the run's
// small JSON endpoint, and reloads to show the report when the run ends.
"use strict";

function pollProgress(element) {
  const url = element.dataset.poll;
  const tick = async () => {
    try {
      const answer = await fetch(url, { credentials: "same-origin" });
      if (!answer.ok) {
        element.textContent = "The progress could not be read (HTTP " + answer.status + ").";
        return;
      }
      const run = await answer.json();
      if (run.finished) {
        window.location.reload();
        return;
      }
      const total = run.total === null ? "" : " of " + run.total;
      element.textContent = "Running: " + run.done + total + " \u2014 " + run.message;
    } catch (e) {
      element.textContent = "The progress could not be read: " + e;
      return;
    }
    setTimeout(tick, 400);
  };
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-poll]").forEach(pollProgress);
});
