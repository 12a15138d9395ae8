/* LAPOR! widget loader. One tag on an agency's page:
     <script async src="BASE/widget.js" data-key="KEY" data-cfasync="false"></script>
   puts a complaint button there, whose panel holds our form in an iframe; with
   data-mode="inline" the form takes the place of every <div data-lapor-widget>.
   Hand-written and dependency-free, served by widget/loader.py (which fills in STRINGS from
   the catalogs) and kept under 3 KB gzipped by tests/widget/test_loader.py.
   Rules it keeps, because it runs inside pages we do not control:
   - everything it draws lives in a shadow root, styled by a constructable stylesheet and
     CSSOM properties: no <style> element or style attribute for a strict CSP to block;
   - it reads nothing from the page but its own tags, the containers and location.href (when
     a panel opens), stores nothing, and never evaluates what it receives;
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
    // element; !important because page rules otherwise beat :host ones.
    ":host{all:initial!important;display:block!important;position:fixed!important;" +
    "z-index:2147483647!important;bottom:16px!important;right:16px!important;" +
    "font:16px/1.4 system-ui,sans-serif;color-scheme:light dark}" +
    ":host([data-left]){right:auto!important;left:16px!important}" +
    ":host([data-inline]){position:static!important}" +
    "button{font:inherit;font-weight:700;border:0;border-radius:24px;padding:12px 20px;" +
    "min-height:48px;background:var(--c,#8b0000);color:#fff;cursor:pointer;" +
    "box-shadow:0 2px 8px #0006}" +
    ":focus-visible{outline:3px solid #0b57d0;outline-offset:2px}" +
    ".p{position:fixed;bottom:80px;right:16px;width:420px;max-width:calc(100vw - 32px);" +
    "display:flex;flex-direction:column;background:Canvas;color:CanvasText;" +
    "border-radius:8px;box-shadow:0 4px 24px #0008;overflow:hidden}" +
    ":host([data-left]) .p{right:auto;left:16px}" +
    "[hidden]{display:none!important}" +
    ".x{align-self:flex-end;background:none;color:inherit;box-shadow:none;border-radius:0;" +
    "padding:8px 16px}" +
    "iframe{display:block;border:0;width:100%;height:0;color-scheme:light dark}" +
    "iframe.w{visibility:hidden;height:0!important}" +
    ".p iframe{max-height:calc(100vh - 150px)}" +
    ".m{margin:0;padding:16px}" +
    "@media (max-width:480px){.p{bottom:0;right:0;left:0;width:auto;max-width:none;" +
    "border-radius:8px 8px 0 0}:host([data-left]) .p{left:0}.p iframe{max-height:calc(100vh - 64px)}}";
  // No animation at all, so nothing to undo under prefers-reduced-motion; the colours are
  // the system's Canvas/CanvasText, so dark mode gets a dark panel.

  function el(tag, parent) {
    return parent.appendChild(d.createElement(tag));
  }

  function attr(node, name) {
    return (node.getAttribute(name) || "").trim();
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
    msg.className = "m";
    msg.textContent = cfg.t.loading;
    var f = me.frame = el("iframe", box);
    f.title = cfg.t.title;
    // Laid out (so it measures itself at its real width) but unseen until it is ready.
    f.className = "w";
    f.referrerPolicy = "no-referrer";
    f.setAttribute("sandbox", "allow-forms allow-scripts allow-same-origin allow-popups " +
      "allow-popups-to-escape-sandbox");
    f.src = cfg.base + "/w/" + encodeURIComponent(cfg.key) + "?o=" +
      encodeURIComponent(location.origin) + "&lang=" + cfg.lang + "&p=" +
      encodeURIComponent(location.href.slice(0, 2000));
    me.timer = setTimeout(function () {
      if (me.ready) return;
      msg.textContent = cfg.t.failed + " ";
      var a = el("a", msg);
      a.href = cfg.base + "/";
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = a.host;
      f.hidden = true;
    }, WAIT);
    me.post = function (data) {
      data.lapor = "w";
      f.contentWindow.postMessage(data, cfg.origin);
    };
    me.on = function (data) {
      if (data.type === "ready") {
        clearTimeout(me.timer);
        me.ready = true;
        msg.hidden = true;
        f.hidden = false;
        f.className = "";
        if (typeof data.refused === "string" && data.refused) {
          console.warn("LAPOR! widget: " + data.refused.slice(0, 200));
        }
        if (me.opened) me.opened();
      } else if (data.type === "height" && typeof data.h === "number" && data.h >= 0) {
        var h = Math.min(Math.ceil(data.h), 20000) + "px";
        if (f.style.height !== h) f.style.height = h;
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
    var button = el("button", root);
    button.type = "button";
    button.textContent = cfg.label || cfg.t.label;
    button.setAttribute("aria-expanded", "false");
    var panel = el("div", root);
    panel.className = "p";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", cfg.t.title);
    var x = el("button", panel);
    x.type = "button";
    x.className = "x";
    x.textContent = "\u00d7";
    x.setAttribute("aria-label", cfg.t.close);
    var me = null;

    function focusFrame(last) {
      me.frame.focus();
      me.post({ type: "focus", last: last });
    }
    function open() {
      panel.hidden = false;
      button.setAttribute("aria-expanded", "true");
      x.focus();
      if (!me) {
        me = frame(cfg, panel);
        me.host = host;
        me.close = close;
        me.tab = function () { x.focus(); };
        me.opened = function () {
          // The page the citizen is on now, not the one the loader first saw.
          me.post({ type: "open", url: location.href.slice(0, 2000), trap: true });
          if (!panel.hidden) focusFrame(false);
        };
      } else if (me.ready) {
        me.opened();
      }
    }
    function close() {
      if (panel.hidden) return;
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
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
    // Keys pressed inside the frame never reach us (it posts them); focus that leaves the
    // panel for the host page does, and is brought back.
    d.addEventListener("focusin", function (e) {
      if (!panel.hidden && e.target !== host && host.isConnected) x.focus();
    });
    d.body.appendChild(host);
    return host;
  }

  function inline(cfg, box) {
    var host = el("lapor-widget", box);
    host.setAttribute("data-inline", "");
    frame(cfg, shadow(host, cfg));
  }

  function scan() {
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
      } else if (d.body) {
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
        c = {};
        for (var k in G.any) c[k] = G.any[k];
        c.key = own;
      }
      if (box.__lapor || !c) continue;
      box.__lapor = 1;
      inline(c, box);
    }
  }

  G.scan = scan;
  if (!G.listening) {
    G.listening = 1;
    w.addEventListener("message", function (e) {
      var data = e.data;
      if (!data || typeof data !== "object" || data.lapor !== "w" ||
          typeof data.type !== "string") return;
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
  if (d.body) scan();
  else d.addEventListener("DOMContentLoaded", scan);
})(window, document);
