// The admin page's only script (served from /static; the page has no
// inline script). A running run's page shows its progress by polling the
// run's small JSON endpoint (by the run's id in the database, so polling
// goes on across a restart of the service: while it does not answer, the
// page says so and keeps asking), and reloads to show the report when the
// run has ended.
"use strict";

function pollProgress(element) {
  const url = element.dataset.poll;
  const head = element.querySelector(".progress-head");
  const steps = element.querySelector(".progress-steps");
  const tick = async () => {
    let pause = 400;
    try {
      const answer = await fetch(url, { credentials: "same-origin" });
      // Sent to the login (the service restarted, the session ended):
      // the page itself goes there.
      if (answer.redirected) {
        window.location.reload();
        return;
      }
      if (answer.status === 404 || answer.status === 403) {
        head.textContent = "The progress could not be read (HTTP " + answer.status + ").";
        return;
      }
      if (!answer.ok) {
        throw new Error("HTTP " + answer.status);
      }
      const run = await answer.json();
      if (run.finished) {
        window.location.reload();
        return;
      }
      head.textContent = run.head;
      steps.replaceChildren(...run.lines.map((line) => {
        const item = document.createElement("li");
        item.textContent = line;
        return item;
      }));
    } catch (e) {
      head.textContent = "The service does not answer (" + e.message + "); asking again.";
      pause = 2000;
    }
    setTimeout(tick, pause);
  };
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-poll]").forEach(pollProgress);
});
