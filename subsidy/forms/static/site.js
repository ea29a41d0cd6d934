// Progressive enhancement only: every page works without it.
(function () {
  "use strict";
  // Move focus to the error summary so a screen reader reads the problems first.
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) { summary.focus(); }

  // Session time-out warning with a way to extend before anything typed is lost (WCAG 2.2.1).
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var warnBefore = parseInt(body.getAttribute("data-warn-seconds") || "0", 10);
  var warning = document.getElementById("session-warning");
  var form = document.getElementById("session-extend-form");
  if (!idle || !warning || !form) { return; }
  var timer = null;
  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () {
      warning.hidden = false;
      var button = warning.querySelector("button");
      if (button) { button.focus(); }
    }, Math.max(idle - warnBefore, 1) * 1000);
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (response.ok) { warning.hidden = true; schedule(); }
      });
  });
  schedule();
})();
