// Copy buttons beside the widget snippets. The snippet is a read-only text box, so it can be
// selected and copied by hand without this file (or where the clipboard API is unavailable:
// it needs a secure context).
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var box = document.getElementById(button.getAttribute("data-copy"));
      if (!box) { return; }
      box.focus();
      box.select();
      var done = function () { button.setAttribute("aria-label", button.textContent + " ✓"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(box.value).then(done, function () {});
      } else if (document.execCommand && document.execCommand("copy")) {
        done();
      }
    });
  });
})();
