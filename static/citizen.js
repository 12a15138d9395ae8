// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // A second tap while a slow upload is running would only re-send the same token; the server
  // stores one report either way, but a disabled button tells the citizen it is on its way.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  });
  // Contact fields are irrelevant for an anonymous report; hide them to keep the form short.
  var fields = document.getElementById("identity-fields");
  if (fields) {
    var update = function () {
      var chosen = document.querySelector("input[name=identity]:checked");
      fields.hidden = !!chosen && chosen.value === "anonim";
    };
    document.querySelectorAll("input[name=identity]").forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  }
  var errors = document.getElementById("form-errors");
  if (errors) { errors.focus(); }
})();
