// The import job page: poll the job's JSON while it runs, update the bar and the counts, and
// reload the page once it has finished (the page then lists the bad rows).
(function () {
  "use strict";
  var card = document.getElementById("import-job");
  if (!card || card.dataset.status !== "running") return;
  var url = card.dataset.statusUrl;

  function show(job) {
    card.querySelectorAll("[data-field]").forEach(function (element) {
      var value = job[element.dataset.field];
      if (value === undefined) return;
      if (element.tagName === "PROGRESS") element.value = value;
      else element.textContent = String(value);
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (job.status === "running") setTimeout(poll, 1000);
        else window.location.reload();
      })
      .catch(function () {
        setTimeout(poll, 3000); // a moment offline: try again, a little later
      });
  }

  setTimeout(poll, 1000);
})();
