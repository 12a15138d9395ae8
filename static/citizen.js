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
  // The receipt's code and link: copy with one tap, or hand to the phone's share sheet (a
  // notes app, a chat to oneself), where the browser offers them.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.closest(".copy-actions").hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        button.textContent = button.getAttribute("data-copied");
      });
    });
  });
  document.querySelectorAll("[data-share]").forEach(function (button) {
    if (!navigator.share) { return; }
    button.hidden = false;
    button.closest(".copy-actions").hidden = false;
    button.addEventListener("click", function () {
      navigator.share({title: button.getAttribute("data-share-title"),
                       url: button.getAttribute("data-share")}).catch(function () {});
    });
  });
  var errors = document.getElementById("form-errors");
  if (errors) { errors.focus(); }
})();
