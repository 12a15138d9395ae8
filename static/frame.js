// Inside the widget's iframe: talks to the loader (widget.js) on the agency's page.
// Every message goes to the one origin the server allowed to frame this page (data-host) and
// is accepted only from the parent window at that origin, in our shape. No cookies, no
// storage: a third-party frame may have neither.
(function () {
  "use strict";
  var host = document.body.getAttribute("data-host");
  var parent = window.parent;
  if (!host || parent === window) { return; }
  var trap = false;

  function post(message) {
    message.lapor = "w";
    parent.postMessage(message, host);
  }

  // Our height, for the loader to size the iframe: measured on the wrapper, whose height does
  // not depend on the iframe's, so resizing it cannot feed back into a new measurement.
  var wrapper = document.getElementById("frame");
  var last = -1;
  function measure() {
    // A page that citizen.js replaced with the server's answer (document.write) has a wrapper
    // of its own: this one, gone from the document, would report a height of 0.
    if (!wrapper.isConnected) { return; }
    var height = Math.ceil(wrapper.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      post({ type: "height", h: height });
    }
  }
  if (window.ResizeObserver) {
    new ResizeObserver(measure).observe(wrapper);
  } else {
    window.addEventListener("resize", measure);
  }
  measure();

  function focusables() {
    return Array.prototype.filter.call(
      document.querySelectorAll("a[href], button, input, select, textarea"),
      function (el) { return !el.disabled && el.tabIndex >= 0 && el.getClientRects().length; });
  }

  // Keys pressed in here never reach the host page: Escape and Tab out of the first or last
  // field are told to the loader, which closes the panel or keeps focus inside it.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      post({ type: "close" });
    } else if (event.key === "Tab" && trap) {
      var all = focusables();
      var edge = event.shiftKey ? all[0] : all[all.length - 1];
      if (edge && document.activeElement === edge) {
        event.preventDefault();
        post({ type: "tab", back: event.shiftKey });
      }
    }
  });

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== parent || event.origin !== host || !data || typeof data !== "object"
        || data.lapor !== "w") { return; }
    if (data.type === "open") {
      // trap: a floating panel, whose close button overlays our header's corner.
      trap = data.trap === true;
      document.body.classList.toggle("panel", trap);
      measure(); // the header's height may have changed with it: say so now

      // The page the citizen opened the panel on; the server keeps it only if it is on a
      // registered origin, without query and fragment.
      var page = document.querySelector("input[name=page]");
      if (page && typeof data.url === "string") { page.value = data.url.slice(0, 2000); }
    } else if (data.type === "focus") {
      var all = focusables();
      var field = document.querySelector("#report-form input:not([type=hidden])");
      var target = data.last ? all[all.length - 1] : (field || all[0]);
      if (target) { target.focus(); }
    }
  });

  // Why the form is refused, for the host's webmaster: frames log to the same console. The
  // loader's check usually said it before drawing anything; this is for a loader that could
  // not ask (a CSP without our connect-src) or a widget changed since.
  var refused = document.body.getAttribute("data-refused");
  if (refused) { console.warn("LAPOR! widget: " + refused); }
  post({ type: "ready" });
})();
