/* LAPOR! widget loader. One tag on an agency's page:
     <script async src="BASE/widget.js" data-key="KEY" data-cfasync="false"></script>
   puts a complaint button there, whose panel holds our form in an iframe; with
   data-mode="inline" the form takes the place of every <div data-lapor-widget>.
   Hand-written and dependency-free, served by widget/loader.py (which fills in STRINGS from
   the catalogs) and kept under 3 KB gzipped by tests/widget/test_views.py.
   Rules it keeps, because it runs inside pages we do not control:
   - everything it draws lives in a shadow root, styled by a constructable stylesheet and
     CSSOM properties: no <style> element or style attribute for a strict CSP to block;
   - it reads nothing from the page but its own tags, the containers and location.href (when
     a panel opens), stores nothing, and never evaluates what it receives;
   - it draws nothing where the form would be refused: one GET of BASE/w/KEY/check (CORS, no
     cookies, answered from the Origin header alone: empty for yes, else why) comes first;
     when it cannot be asked (a CSP without our connect-src, a network error) the button
     shows as it always did;
   - a message is believed only from our origin, from that widget's own iframe, in our shape;
   - running twice (Turbo and other single-page hosts re-run scripts) makes nothing twice. */
(function (w, d) {
  "use strict";
  var STRINGS = __LAPOR_STRINGS__;
  var KEY = /^[0-9a-z]+-[0-9a-z]+\.[\w-]{20,}$/;
  var WAIT = 8000; // ms without a "ready" before the panel says the form cannot be reached
  var G = w.__laporWidget = w.__laporWidget || { list: [], keys: {} };
  var CSS =
    // all:initial also undoes a hostile page's transform, margins, visibility... on our host
    // element; !important because page rules otherwise beat :host ones, and because an
    // important all:initial beats our own plain declarations (the font was the browser's
    // serif, and the colour scheme the page's rather than the citizen's). The iframe inherits
    // the scheme: the same as the form's own, so no opaque backdrop is painted behind it.
    ":host{all:initial!important;display:block!important;position:fixed!important;" +
    "z-index:2147483647!important;bottom:16px!important;right:16px!important;" +
    "font:16px/1.4 system-ui,sans-serif!important;color-scheme:light dark!important}" +
    ":host([data-left]){right:auto!important;left:16px!important}" +
    ":host([data-inline]){position:static!important}" +
    "button{font:inherit;font-weight:700;border:0;border-radius:24px;padding:12px 20px;" +
    "min-height:48px;background:var(--c,#8b0000);color:#fff;cursor:pointer;" +
    "box-shadow:0 2px 8px #0006}" +
    ":focus-visible{outline:3px solid #0b57d0;outline-offset:2px}" +
    ".p{position:fixed;bottom:80px;right:16px;width:min(420px,calc(100vw - 32px));" +
    "background:Canvas;color:CanvasText;" +
    "border-radius:8px;box-shadow:0 4px 24px #0008;overflow:hidden}" +
    ":host([data-left]) .p{right:auto;left:16px}" +
    "[hidden]{display:none!important}" +
    // The close button sits in the top right corner of the form's own red header, which keeps
    // room for it (frame.js, told by "open" that it is in a panel): one header, not two. Red
    // itself, it reads the same while the form loads.
    ".x{position:absolute;top:0;right:0;width:48px;padding:0;background:#8b0000;" +
    "box-shadow:none;border-radius:0}" +
    "iframe{display:block;border:0;width:100%;height:0}" +
    // Until the form says it is ready (and the loading message is hidden), the iframe is
    // laid out, so it measures itself at its real width, but unseen.
    "p:not([hidden])+iframe{visibility:hidden;height:0!important}" +
    ".p iframe{max-height:calc(100vh - 150px)}" +
    "p{margin:0;padding:16px}" +
    // On a dark page the default dark red would sink in: a lighter one (3.8:1 on #121212).
    "@media (prefers-color-scheme:dark){button{background:var(--c,#d32f2f)}}" +
    // Full width on a phone, on either side (the second selector outweighs the one above).
    "@media (max-width:480px){.p,:host([data-left]) .p{inset:auto 0 0;width:auto;" +
    "border-radius:8px 8px 0 0}.p iframe{max-height:calc(100vh - 64px)}}";
  // No animation at all, so nothing to undo under prefers-reduced-motion; the colours are
  // the system's Canvas/CanvasText, so dark mode gets a dark panel.

  function el(tag, parent) {
    return parent.appendChild(d.createElement(tag));
  }

  function attr(node, name) {
    return (node.getAttribute(name) || "").trim();
  }

  // `then` runs once the server said this page's origin may show the widget `cfg.key` (the
  // browser keeps the answer a minute). Refused: nothing is drawn, and the webmaster's
  // console says why, in our words (never markup). Not asked: drawn, as it always was.
  function allowed(cfg, then) {
    fetch(cfg.base + "/w/" + cfg.key + "/check").then(function (r) { return r.text(); }).then(function (why) {
      if (!why) return then();
      console.warn("LAPOR! widget: " + why); // one line of ours, under 200 characters
    }, then);
  }

  // Our own tags, found without document.currentScript (Rocket Loader and tag managers hide
  // it): every script whose path ends in /widget.js and that carries one of our keys.
  function config(script) {
    var url;
    try { url = new URL(script.src, d.baseURI); } catch (e) { return null; }
    var at = url.pathname.lastIndexOf("/widget.js");
    var key = attr(script, "data-key") || url.searchParams.get("key") || "";
    if (at < 0 || at !== url.pathname.length - 10 || !KEY.test(key)) return null;
    var lang = (attr(script, "data-lang") || d.documentElement.lang || "").slice(0, 2);
    lang = STRINGS[lang] ? lang : "id";
    var color = attr(script, "data-color");
    return {
      key: key, base: url.origin + url.pathname.slice(0, at), origin: url.origin, lang: lang,
      t: STRINGS[lang], label: attr(script, "data-label").slice(0, 60),
      left: attr(script, "data-position") === "bottom-left",
      color: /^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(color) ? color : "",
      inline: attr(script, "data-mode") === "inline"
    };
  }

  function shadow(host, cfg) {
    var root = host.attachShadow({ mode: "open" });
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
    if (cfg.color) host.style.setProperty("--c", cfg.color);
    return root;
  }

  // The iframe, the waiting and the failure message. `box` receives both.
  function frame(cfg, box) {
    var me = { cfg: cfg };
    var msg = el("p", box);
    msg.textContent = cfg.t.loading;
    var f = me.frame = el("iframe", box);
    f.title = cfg.t.title;
    f.referrerPolicy = "no-referrer";
    f.setAttribute("sandbox", "allow-forms allow-scripts allow-same-origin allow-popups " +
      "allow-popups-to-escape-sandbox");
    // The page's address is not in the frame's URL (its query may hold personal data, and
    // would sit in our access log): the frame gets it in the "open" message.
    f.src = cfg.base + "/w/" + cfg.key + "?o=" +
      encodeURIComponent(location.origin) + "&lang=" + cfg.lang;
    me.timer = setTimeout(function () {
      if (me.ready) return;
      msg.textContent = cfg.t.failed + " ";
      // The status page, where a citizen with a tracking code can still follow a report.
      var a = el("a", msg);
      a.href = cfg.base + "/t";
      a.target = "_blank"; // without an opener in every browser that runs this file
      a.textContent = a.host + "/t";
      f.hidden = true;
    }, WAIT);
    me.post = function (data) {
      data.lapor = "w";
      f.contentWindow.postMessage(data, cfg.origin);
    };
    // The page the citizen is on now, not the one the loader first saw (a single-page host
    // navigates without reloading us); `trap` asks the form to hand Tab back at its edges.
    me.open = function () {
      me.post({ type: "open", url: location.href.slice(0, 2000), trap: !!me.opened });
    };
    me.on = function (data) {
      if (data.type === "ready") {
        clearTimeout(me.timer);
        me.ready = true;
        msg.hidden = true;
        f.hidden = false;
        me.open();
        if (me.opened) me.opened();
      } else if (data.type === "height" && typeof data.h === "number" && data.h >= 0) {
        var h = Math.min(Math.ceil(data.h), 20000) + "px";
        f.style.height = h; // frame.js posts a height only when it changed
      } else if (data.type === "close" && me.close) {
        me.close();
      } else if (data.type === "tab" && me.tab) {
        me.tab();
      }
    };
    G.list.push(me);
    return me;
  }

  function floating(cfg) {
    var host = d.createElement("lapor-widget");
    if (cfg.left) host.setAttribute("data-left", "");
    var root = shadow(host, cfg);
    // No type="button" needed: nothing in a shadow root belongs to a form of the page.
    var button = el("button", root);
    button.textContent = cfg.label || cfg.t.label;
    var panel = el("div", root);
    panel.className = "p";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", cfg.t.title);
    var x = el("button", panel);
    x.className = "x";
    x.textContent = "\u00d7";
    x.setAttribute("aria-label", cfg.t.close);
    var me = null;
    show(false);

    function focusFrame(last) {
      me.frame.focus();
      me.post({ type: "focus", last: last });
    }
    // Keys pressed inside the frame never reach us (it posts them); focus that leaves the
    // panel for the host page does, and is brought back. Listened to only while open.
    function guard(e) {
      if (e.target !== host) x.focus();
    }
    function show(on) {
      panel.hidden = !on;
      button.setAttribute("aria-expanded", on);
      d[on ? "addEventListener" : "removeEventListener"]("focusin", guard);
    }
    function open() {
      show(true);
      x.focus();
      if (!me) {
        me = frame(cfg, panel);
        // Also what dropping a removed widget does: the focus guard goes with it.
        me.close = me.drop = close;
        me.tab = function () { x.focus(); };
        me.opened = function () {
          if (!panel.hidden) focusFrame(false);
        };
      } else if (me.ready) {
        me.open();
        me.opened();
      }
    }
    function close() {
      if (panel.hidden) return;
      show(false);
      button.focus();
    }
    button.addEventListener("click", function () { panel.hidden ? open() : close(); });
    x.addEventListener("click", close);
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") close();
      // Shift+Tab from the close button goes round to the form's last field.
      if (e.key === "Tab" && e.shiftKey && me && me.ready && root.activeElement === x) {
        e.preventDefault();
        focusFrame(true);
      }
    });
    // Shown once the server said yes: until then (or for ever) the host holds nothing visible.
    button.hidden = true;
    allowed(cfg, function () { button.hidden = false; });
    d.body.appendChild(host);
    return host;
  }

  function inline(cfg, box) {
    var host = el("lapor-widget", box);
    host.setAttribute("data-inline", "");
    var me = frame(cfg, shadow(host, cfg));
    // Its container left the page: our part of it goes, and the container, should it come
    // back, gets a fresh widget.
    me.drop = function () {
      box.__lapor = 0;
      host.remove();
    };
  }

  function scan() {
    // Not before the body exists: a tag in <head> is read again once it does (the observer
    // below sees the body and its children arrive).
    if (!d.body) return;
    // Nothing kept for frames no longer in the page (a single-page host replaced the body
    // or removed a container): no timer, listener or reference outlives them.
    G.list = G.list.filter(function (me) {
      if (me.frame.isConnected) return true;
      clearTimeout(me.timer);
      me.drop();
      return false;
    });
    var scripts = d.querySelectorAll("script[src]");
    for (var i = 0; i < scripts.length; i++) {
      var s = scripts[i];
      var seen = s.__lapor;
      if (seen === 1 || (seen && seen.isConnected)) continue;
      var cfg = config(s);
      s.__lapor = 1;
      if (!cfg) continue;
      G.any = G.any || cfg;
      if (cfg.inline) {
        G.inline = G.inline || cfg;
      } else {
        // One button per key, however often the tag is pasted or run; made again when a
        // single-page host replaced the body it lived in.
        var old = G.keys[cfg.key];
        s.__lapor = old && old.isConnected ? old : (G.keys[cfg.key] = floating(cfg));
      }
    }
    var boxes = d.querySelectorAll("[data-lapor-widget]");
    for (var j = 0; j < boxes.length; j++) {
      var box = boxes[j];
      var own = attr(box, "data-key");
      var c = G.inline;
      if (KEY.test(own) && G.any) {
        // A container with a key of its own: another widget, from the same server.
        c = Object.assign({}, G.any, { key: own });
      }
      if (box.__lapor || !c) continue;
      box.__lapor = 1;
      allowed(c, inline.bind(null, c, box));
    }
  }

  G.scan = scan;
  if (!G.listening) {
    G.listening = 1;
    w.addEventListener("message", function (e) {
      var data = e.data;
      // Our shape: anything else (a type we do not know included) is ignored below.
      if (!data || typeof data !== "object" || data.lapor !== "w") return;
      for (var i = 0; i < G.list.length; i++) {
        var me = G.list[i];
        if (e.source === me.frame.contentWindow && e.origin === me.cfg.origin) {
          me.on(data);
          return;
        }
      }
    });
    // Containers and tags a single-page host adds later.
    var pending = 0;
    new MutationObserver(function () {
      if (pending) return;
      pending = setTimeout(function () { pending = 0; G.scan(); }, 50);
    }).observe(d.documentElement, { childList: true, subtree: true });
  }
  scan();
})(window, document);
