/* LAPOR! kiosk: one page that serves one citizen after another on a shared tablet, and never
   loses what they send when the hall's network drops.

   What the device keeps (IndexedDB "lapor-kiosk"): its credential and configuration
   ("device"), its pool of reserved tracking codes ("codes") and the queue of unsent items
   ("queue"). What a person types lives only in `person` and in the DOM of the current screen;
   both are replaced on every wipe (idle time-out, after each receipt). Nothing goes to cookies,
   localStorage, sessionStorage or history.

   Sending is driven by this page: at start, after each person, whenever a real answer from
   the server arrives, and on a slow timer. It goes oldest first, with no pause between items
   and at most SENDERS in flight; an item leaves the queue only when the server's JSON answer
   names its key. One tab sends at a time (Web Locks). When the server cannot be reached, the page asks
   its health check (a read, no report) after a wait that doubles up to PROBE_MAX, each wait
   jittered so that a hall's tablets do not ask in step, and at once on the browser's `online`
   event; the first "ready" starts the queue. A Retry-After (503, or 429 for a kind of item) is
   obeyed, kept across a reload, and never shortened. */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("kiosk-boot").textContent);
  var API = "/kiosk/api/";
  var HEALTH = "/healthz/ready";
  // While the server answers, the queue is sent at once; this timer only catches items that
  // became due later (an hourly retry) and notices an outage when something waits.
  var SEND_INTERVAL = 5000;
  var HEARTBEAT_INTERVAL = 60000;
  var UPDATE_INTERVAL = 10 * 60000;
  // Unreachable: ask the health check after PROBE_FIRST, doubling to PROBE_MAX, each wait
  // jittered to 50-100 %, so a tablet asks every 1.5-3 s at the cap. What reaches the server
  // is a light read, and only for the few seconds between its return and each tablet's
  // noticing (while it is down, or the hall's network is, nothing reaches it); a server that
  // answers "not ready" is asked no more often than MAX_BACKOFF.
  var PROBE_FIRST = 500;
  var PROBE_MAX = 3000;
  var PROBE_TIMEOUT = 5000;
  var MAX_BACKOFF = 30000;
  var REFUSED_RETRY = 3600000;  // an item the server refused (400/409) is kept and retried hourly
  var MAX_HOLD = 3600000;  // the longest a Retry-After holds anything back
  var HOLD_JITTER = 1000;  // added to a Retry-After (at most a fifth of it): told alike, not in step
  var REQUEST_TIMEOUT = 15000;
  var SENDERS = 2;  // queued items in flight at once, at most (one until the server takes one)
  var TAP_GUARD = 2000;  // a second tap on the same control within this counts once
  var COUNTDOWN = 10;
  var RECEIPT_COUNTDOWN = 20;  // the receipt warns longer: a phone has to come out of a bag
  var TEXT_MIN = 15;
  var THANKS_SECONDS = 6;

  var lang = boot.default_language;
  var device = {};  // credential, kiosk, config, prepared, inactive
  var person = {};  // everything about the citizen at the screen: wiped
  var screen = "";
  var lastTouch = Date.now();
  var lastContact = null;
  var offline = false;
  var failures = 0;  // requests in a row that did not reach the server: the probe's backoff
  var queueCount = 0;
  var updating = false;
  var registration = null;
  var timers = {};
  // Kind of item ("report", "feedback") -> the time before which the server asked for no more
  // of it (429: more than its limit for one kiosk); "all" -> before which nothing is sent at all
  // (503 with Retry-After: the server, or a proxy before it, is overloaded or restarting).
  // Stored with the device, so a reload mid-queue still waits as told.
  var held = {};
  // Queued key -> the server's answer to it (tracking code, private link and its QR code), for
  // a receipt that had none of its own to show. Memory only, like the receipt.
  var answers = {};

  var main = document.getElementById("screen");

  // -- text -------------------------------------------------------------------------------
  function t(key, vars) {
    var text = (boot.strings[lang] || {})[key] || boot.strings[boot.default_language][key] || key;
    if (vars) {
      Object.keys(vars).forEach(function (name) {
        text = text.split("%(" + name + ")s").join(String(vars[name]));
      });
    }
    return text;
  }

  // Elements are built, never parsed from strings: what a person typed is only ever text.
  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") el.textContent = value;
      else if (name.slice(0, 2) === "on") el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : value);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return el;
  }

  function button(tap, label, onclick, extra) {
    var attrs = {type: "button", "data-tap": tap, onclick: onclick};
    Object.keys(extra || {}).forEach(function (k) { attrs[k] = extra[k]; });
    return h("button", attrs, label);
  }

  // Inputs that the browser must not remember for the next person.
  function field(id, label, attrs) {
    var base = {id: id, name: id, autocomplete: "off", autocorrect: "off", autocapitalize: "off",
                spellcheck: "false", "data-form-type": "other"};
    Object.keys(attrs || {}).forEach(function (k) { base[k] = attrs[k]; });
    var input = h(base.multiline ? "textarea" : "input", base);
    input.removeAttribute("multiline");
    input.value = person[id] || "";
    input.addEventListener("input", function () { person[id] = input.value; });
    return [h("label", {"for": id, text: label}), input];
  }

  function show(name, nodes, focus) {
    screen = name;
    main.replaceChildren.apply(main, nodes.filter(Boolean));
    main.scrollTop = 0;
    main.setAttribute("data-screen", name);
    (focus || main).focus({preventScroll: true});
    renderBar();
  }

  // -- storage ----------------------------------------------------------------------------
  var dbPromise = new Promise(function (resolve, reject) {
    var request = indexedDB.open("lapor-kiosk", 1);
    request.onupgradeneeded = function () {
      var db = request.result;
      db.createObjectStore("device");
      db.createObjectStore("codes", {keyPath: "code"});
      db.createObjectStore("queue", {keyPath: "key"});
    };
    request.onsuccess = function () { resolve(request.result); };
    request.onerror = function () { reject(request.error); };
  });

  // One transaction; `work(stores, done)` issues requests and calls done(result). Writes are
  // "strict": committed to disk before they count, so a power cut keeps a queued report.
  function tx(names, mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(names, mode,
                                         mode === "readwrite" ? {durability: "strict"} : {});
        var result;
        var stores = {};
        names.forEach(function (n) { stores[n] = transaction.objectStore(n); });
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = transaction.onabort = function () {
          reject(transaction.error || new Error("transaction aborted"));
        };
        work(stores, function (value) { result = value; });
      });
    });
  }

  function loadDevice() {
    return tx(["device"], "readonly", function (s, done) {
      var r = s.device.getAll(), k = s.device.getAllKeys();
      k.onsuccess = function () {
        var out = {};
        k.result.forEach(function (key, i) { out[key] = r.result[i]; });
        done(out);
      };
    });
  }

  function saveDevice(values) {
    return tx(["device"], "readwrite", function (s) {
      Object.keys(values).forEach(function (key) {
        device[key] = values[key];
        if (values[key] === undefined) s.device.delete(key); else s.device.put(values[key], key);
      });
    });
  }

  function allQueued() {
    return tx(["queue"], "readonly", function (s, done) {
      var r = s.queue.getAll();
      r.onsuccess = function () {
        done(r.result.sort(function (a, b) { return a.seq - b.seq; }));
      };
    });
  }

  function codeCount() {
    return tx(["codes"], "readonly", function (s, done) {
      var r = s.codes.count();
      r.onsuccess = function () { done(r.result); };
    });
  }

  // Taking a code from the pool and queueing the item are one transaction: a code is never
  // shown to two people, and a queued report never loses the code its receipt showed.
  function enqueue(type, body, withCode) {
    return tx(["codes", "queue"], "readwrite", function (s, done) {
      function put(code) {
        if (code) body.code = code.code;
        // The private link's secret, which the receipt's QR code already carries.
        if (code && code.secret) body.secret = code.secret;
        var item = {key: body.key, type: type, body: body, seq: Date.now() + Math.random(),
                    queued_at: new Date().toISOString(), attempts: 0, next_at: 0};
        s.queue.add(item);
        done({item: item, code: code});
      }
      if (!withCode) { put(null); return; }
      var cursor = s.codes.openCursor();
      var soon = Date.now() + 3600000;
      cursor.onsuccess = function () {
        var c = cursor.result;
        if (!c) { put(null); return; }
        var code = c.value;
        c.delete();
        if (Date.parse(code.expires_at) <= soon) { c.continue(); return; }  // expired: drop
        put(code);
      };
    });
  }

  // Items answered while the last removal commits leave together, in one strict transaction:
  // a drain costs a few disk syncs, not one per item. Until it commits, an answered item is
  // still queued, and a reload sends it again, which the server answers as the first time.
  var leaving = null;
  var committing = Promise.resolve();
  function dequeueSoon(key) {
    if (!leaving) {
      var batch = leaving = {keys: []};
      batch.done = committing = committing.catch(function () {}).then(function () {
        leaving = null;  // later keys join the next batch
        return tx(["queue"], "readwrite", function (s) {
          batch.keys.forEach(function (k) { s.queue.delete(k); });
        });
      });
    }
    leaving.keys.push(key);
    return leaving.done;
  }

  function updateItem(item) {
    return tx(["queue"], "readwrite", function (s) {
      var r = s.queue.get(item.key);
      r.onsuccess = function () { if (r.result) s.queue.put(item); };
    });
  }

  function newKey() {
    var bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // -- the server -------------------------------------------------------------------------
  function contact() {
    lastContact = new Date();
    failures = 0;
    if (offline) {
      // The server is back: whatever waits goes now, not at the next tick.
      offline = false;
      cancelWake();
      sendQueue();
    }
    renderBar();
  }

  // The server was not reached (no answer, a time-out, or an answer that is not ours: a
  // captive portal's page, a proxy's error): ask the health check after the next backoff,
  // which grows to `cap` (PROBE_MAX unless the server itself said it is not ready).
  function unreachable(cap) {
    failures += 1;
    if (!offline) {
      offline = true;
      renderBar();
    }
    var most = typeof cap === "number" ? cap : PROBE_MAX;
    var wait = Math.min(most, PROBE_FIRST * Math.pow(2, failures - 1));
    wakeAt(Date.now() + wait * (0.5 + Math.random() / 2));
  }

  // How long a Retry-After (seconds, or an HTTP date) asks to wait, in ms; 0 when it does not.
  function retryAfter(response) {
    var value = (response.headers.get("retry-after") || "").trim();
    if (!value) return 0;
    var ms = /^[0-9]+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();
    return ms > 0 ? Math.min(MAX_HOLD, ms) : 0;
  }

  function heldUntil(kind) {
    return held[kind] || 0;
  }

  // Nothing of `kind` ("all", "report", "feedback") before `ms` from now, plus a little jitter
  // so that tablets told the same wait do not come back in the same instant. Never shortened.
  function hold(kind, ms) {
    var until = Date.now() + ms + Math.random() * Math.min(HOLD_JITTER, ms / 5);
    if (until <= heldUntil(kind)) return;
    held[kind] = until;
    saveDevice({held: held}).catch(function () {});
    wakeAt(until);
  }

  // One timer for the next try, at the earliest time asked for.
  function wakeAt(at) {
    if (timers.wake && timers.wakeAt <= at) return;
    clearTimeout(timers.wake);
    timers.wakeAt = at;
    timers.wake = setTimeout(function () {
      timers.wake = null;
      attempt();
    }, Math.max(0, at - Date.now()));
  }

  function cancelWake() {
    clearTimeout(timers.wake);
    timers.wake = null;
  }

  function attempt() {
    if (!device.credential || device.inactive) return;
    if (heldUntil("all") > Date.now()) { wakeAt(heldUntil("all")); return; }
    if (offline) probe(); else sendQueue();
  }

  // The health check says whether the server takes requests again; it reads, writes nothing,
  // and is the same for every kiosk, so a hall of tablets asking costs the server little.
  function probe() {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, PROBE_TIMEOUT);
    return fetch(HEALTH, {cache: "no-store", credentials: "omit", redirect: "error",
                          signal: controller.signal}).then(function (response) {
      var wait = retryAfter(response);
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.status === 200 && data && data.status === "ok") return ready();
        if (response.status === 503 && wait) { hold("all", wait); return; }
        // A proxy that keeps the health check to itself: the queue's own request will tell.
        if (response.status === 403 || response.status === 404) return ready();
        // Our server answering "not ready" (a migration elsewhere, a stop under way) is up and
        // need not be asked every few seconds; anything else may be a proxy before a server
        // that is coming back, which is worth the quick look.
        unreachable(data && data.status === "error" ? MAX_BACKOFF : PROBE_MAX);
      });
    }, function () { unreachable(); }).finally(function () { clearTimeout(timer); });
  }

  // Ready: send what waits (its answers are the contact), or say hello when nothing does.
  function ready() {
    return allQueued().then(function (items) {
      return items.length ? sendQueue() : heartbeat();
    }).then(function () {
      // Another tab may be sending, so this one heard nothing: look again later.
      if (offline && !timers.wake) wakeAt(Date.now() + PROBE_MAX * (0.5 + Math.random() / 2));
    });
  }

  function api(path, body) {
    if (path !== "pair" && heldUntil("all") > Date.now()) {
      return Promise.reject(new Error("held"));  // the server asked for nothing until then
    }
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT);
    var headers = {"content-type": "application/json"};
    if (device.credential) headers.authorization = "Bearer " + device.credential;
    return fetch(API + path, {
      method: body === undefined ? "GET" : "POST", headers: headers, cache: "no-store",
      credentials: "omit", redirect: "error", signal: controller.signal,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      var parsed = type.indexOf("application/json") === 0
        ? response.json().catch(function () { return null; }) : Promise.resolve(null);
      var wait = retryAfter(response);
      return parsed.then(function (data) {
        if (!data || typeof data !== "object") data = null;
        // Only our own JSON counts as contact: a captive portal answers 200 with its page.
        var ours = !!data && ("kiosk" in data || "key" in data || "error" in data ||
                              "credential" in data);
        if (ours) contact();
        if (data && device.credential && path !== "pair" &&
            (response.status === 410 || (response.status === 401 &&
                                         data.error === "credential"))) {
          becomeInactive();
          throw new Error("inactive");
        }
        // Busy or restarting, and told for how long (a 503, or a 429 about no item of ours):
        // everything waits that long. A 429 naming an item holds its kind only (deliver).
        if (wait && (response.status === 503 ||
                     (response.status === 429 && !(data && "key" in data)))) {
          hold("all", wait);
        } else if (!ours) {
          unreachable();
        }
        return {status: response.status, data: data, retryAfter: wait};
      });
    }, function (error) {
      unreachable();
      throw error;
    }).finally(function () { clearTimeout(timer); });
  }

  // An item the server answered but could not take as it stands waits on its own, jittered.
  function backoff(item, delay) {
    item.attempts += 1;
    var wait = delay || Math.min(MAX_BACKOFF, 1000 * Math.pow(2, item.attempts));
    item.next_at = Date.now() + wait * (0.75 + Math.random() / 4);
    return updateItem(item);
  }

  // A receipt still on screen for a report that has just arrived says so.
  function arrivedWhileShown(key) {
    var receipt = person.receipt;
    if (person.sending && !receipt) return;  // settle() waits for it: sendReport takes the answer
    var answer = answers[key];
    delete answers[key];
    if (screen !== "receipt" || !receipt || receipt.key !== key || receipt.delivered) return;
    var shown = receiptOf(null, answer);
    if (!receipt.display && shown.display) {
      receipt.display = shown.display;
      receipt.qr = shown.qr;
      receipt.private = shown.private;
    }
    receipt.delivered = true;
    screens.receipt();
  }

  // Sends one item. Resolves to "sent" (answered: its removal from the queue is `removed`,
  // which the next send need not wait for), "next" (kept: go on with the others) or "stop"
  // (the server is not taking anything now).
  function deliver(item, removed) {
    return api(item.type === "report" ? "reports" : "feedback", item.body).then(function (answer) {
      var data = answer.data;
      if (!data || data.key !== item.body.key) {
        // Not an answer about this item: unreachable or held (api saw to that), or our JSON
        // without the key (the body was unreadable), which waits on its own.
        return data ? backoff(item).then(function () { return "stop"; }) : "stop";
      }
      if (answer.status === 200 || answer.status === 201) {
        if (item.type === "report") answers[item.key] = data;
        removed.push(dequeueSoon(item.key).then(function () {
          queueCount = Math.max(0, queueCount - 1);
          renderBar();
          arrivedWhileShown(item.key);
        }));
        return "sent";
      }
      if (answer.status === 429) {
        // Over the kiosk's limit: the item stays as it is (no attempt counted, no hourly
        // retry), and its kind waits as long as the server says; the other kind goes on.
        var seconds = Number(data.retry_after) || answer.retryAfter / 1000 || 60;
        hold(item.type, Math.min(MAX_HOLD, Math.max(1, seconds) * 1000));
        return "next";
      }
      // Refused as it stands (400, 409): kept, never dropped, tried again much later; the
      // heartbeat shows the administrator that the queue is not emptying.
      return backoff(item, REFUSED_RETRY).then(function () { return "next"; });
    }, function () { return "stop"; });
  }

  // Oldest first, each item sent as soon as a sender is free: one at first, SENDERS once the
  // server has taken an item (a server that just came back is not met by a crowd), and none
  // after an answer that says stop. A tablet never has more than SENDERS requests in flight;
  // items start in the queue's order, and two in flight together may arrive either way round.
  // A pass takes what was due when it began; another follows while a pass delivered
  // something, for what was queued meanwhile.
  function drain() {
    return allQueued().then(function (items) {
      var now = Date.now();
      var due = items.filter(function (item) { return item.next_at <= now; });
      var next = 0, sent = 0, active = 0, stopped = false, widened = false;
      var removed = [];
      return new Promise(function (finish) {
        function take() {
          if (stopped || heldUntil("all") > Date.now()) return null;
          while (next < due.length) {
            var item = due[next++];
            if (!(heldUntil(item.type) > Date.now())) return item;  // else: its kind waits
          }
          return null;
        }
        function sender() {
          var item = take();
          if (!item) {
            if (active === 0) finish();
            return;
          }
          active += 1;
          deliver(item, removed).catch(function () { return "stop"; }).then(function (result) {
            active -= 1;
            if (result === "stop") stopped = true;
            if (result === "sent") {
              sent += 1;
              if (!widened) {
                widened = true;
                for (var i = 1; i < SENDERS; i++) sender();
              }
            }
            sender();
          });
        }
        sender();
      }).then(function () {
        return Promise.all(removed);
      }).then(function () {
        if (!stopped) return sent ? drain() : refreshQueueCount();
        // Stopped by a failure, yet the server answered since (a lost answer while the other
        // sender's came back): the contact could not start a pass during this one, so look
        // again shortly rather than at the next tick.
        if (!offline && heldUntil("all") <= Date.now()) {
          wakeAt(Date.now() + PROBE_FIRST * (0.5 + Math.random() / 2));
        }
        return refreshQueueCount();
      });
    });
  }

  function sendQueue() {
    if (!device.credential || device.inactive) return Promise.resolve();
    if (navigator.locks) {
      return navigator.locks.request("lapor-kiosk-sender", {ifAvailable: true}, function (lock) {
        return lock ? drain() : null;
      }).catch(function () {});
    }
    if (timers.sending) return Promise.resolve();
    timers.sending = true;
    return drain().catch(function () {}).finally(function () { timers.sending = false; });
  }

  function refreshQueueCount() {
    return allQueued().then(function (items) {
      queueCount = items.length;
      renderBar();
      return items;
    });
  }

  // The pool's codes with a private link's secret, and the keys of those from a release before
  // private links, which are swapped for new ones as soon as the server gives them.
  function poolState() {
    return tx(["codes"], "readonly", function (s, done) {
      var r = s.codes.getAll();
      r.onsuccess = function () {
        var legacy = r.result.filter(function (code) { return !code.secret; });
        done({linked: r.result.length - legacy.length,
              legacy: legacy.map(function (code) { return code.code; })});
      };
    });
  }

  function refillCodes(force) {
    return poolState().then(function (pool) {
      var held = pool.linked;
      if (!force && !pool.legacy.length && held >= boot.pool_refill_below) return held;
      return api("codes", {held: held}).then(function (answer) {
        if (answer.status !== 200 || !answer.data || !Array.isArray(answer.data.codes)) {
          return held + pool.legacy.length;
        }
        var codes = answer.data.codes;
        var swapped = codes.length ? pool.legacy : [];
        return tx(["codes"], "readwrite", function (s) {
          codes.forEach(function (code) { s.codes.put(code); });
          swapped.forEach(function (key) { s.codes.delete(key); });
        }).then(function () { return held + codes.length + pool.legacy.length - swapped.length; });
      });
    });
  }

  function heartbeat() {
    if (!device.credential || device.inactive) return Promise.resolve();
    var persisted = navigator.storage && navigator.storage.persisted
      ? navigator.storage.persisted() : Promise.resolve(null);
    return Promise.all([allQueued(), persisted]).then(function (values) {
      var items = values[0];
      return api("heartbeat", {
        online: true, queue_length: items.length,
        oldest_queued_at: items.length ? items[0].queued_at : null,
        app_version: boot.version, storage_persistent: values[1],
        device_time: new Date().toISOString()
      });
    }).then(function () { return refillCodes(false); }).catch(function () {});
  }

  // -- the app's own release --------------------------------------------------------------
  function waitForController() {
    if (navigator.serviceWorker.controller) return Promise.resolve(true);
    return new Promise(function (resolve) {
      var done = function () { resolve(!!navigator.serviceWorker.controller); };
      navigator.serviceWorker.addEventListener("controllerchange", done, {once: true});
      setTimeout(done, 10000);
    });
  }

  function installWorker() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(false);
    return navigator.serviceWorker.register(boot.sw, {scope: "/kiosk"}).then(function (reg) {
      registration = reg;
      return navigator.serviceWorker.ready;
    }).then(waitForController).catch(function () { return false; });
  }

  function allFilesStored() {
    return caches.open("lapor-kiosk-" + boot.version).then(function (cache) {
      return Promise.all(boot.files.map(function (file) {
        return cache.match(file, {ignoreVary: true});
      }));
    }).then(function (found) {
      return found.every(Boolean);
    }).catch(function () { return false; });
  }

  // A page that never navigates is never updated by the browser: ask on a timer, and swap
  // releases only between two people, with nothing waiting to be sent.
  function checkForUpdate() {
    if (!registration) return;
    registration.update().catch(function () {}).then(applyUpdate);
  }

  function applyUpdate() {
    if (!registration || !registration.waiting || screen !== "start" || queueCount) return;
    updating = true;
    registration.waiting.postMessage("apply-update");
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      if (updating) location.reload();
    });
  }

  // -- screens ----------------------------------------------------------------------------
  function renderBar() {
    var hall = document.getElementById("hall");
    hall.textContent = device.config ? device.config.hall.name : "";
    var langs = document.getElementById("langs");
    langs.replaceChildren.apply(langs, boot.languages.map(function (code) {
      return button("lang-" + code, code.toUpperCase(), function () {
        lang = code;
        document.documentElement.lang = code;
        rerender();
      }, {"aria-pressed": code === lang ? "true" : "false", lang: code,
          "aria-label": t("language") + ": " + code.toUpperCase()});
    }));
    // The citizen reads only what concerns them, in words: reports waiting, a network that is
    // down. Staff find the last contact's time on the dot in the top bar.
    var waiting = queueCount ? t("status_queue", {count: queueCount}) : "";
    var down = offline && device.credential ? t("status_offline") : "";
    document.getElementById("queue-state").textContent = waiting;
    document.getElementById("contact-state").textContent = down;
    document.getElementById("state").hidden = !waiting && !down;
    var dot = document.getElementById("link-state");
    var when = lastContact
      ? t("status_contact", {time: lastContact.toTimeString().slice(0, 5)}) : t("status_never");
    dot.className = "link-state" + (offline || !lastContact ? " off" : "");
    dot.setAttribute("title", when);
    dot.setAttribute("aria-label", when);
  }

  var screens = {};

  function rerender() {
    var render = screens[screen];
    if (render) render(); else renderBar();
  }

  screens.pair = function (problem) {
    var input = field("pairing", t("pair_code"), {inputmode: "numeric", maxlength: "16",
                                                   pattern: "[0-9 ]*", enterkeyhint: "go"});
    var error = h("p", {"class": "error", role: "alert", id: "pair-error",
                        text: problem ? t(problem) : ""});
    var form = h("form", {autocomplete: "off", onsubmit: function (event) {
      event.preventDefault();
      pair(person.pairing || "");
    }}, input[0], input[1], error, h("div", {"class": "actions"},
      h("button", {type: "submit", "data-tap": "pair", "class": "big", text: t("pair_button")})));
    show("pair", [h("h1", {text: t("pair_title")}), h("p", {"class": "lead", text: t("pair_help")}),
                  form], input[1]);
  };

  function pair(code) {
    api("pair", {code: code}).then(function (answer) {
      var data = answer.data;
      if (answer.status === 200 && data && data.credential) {
        person = {};
        return saveDevice({credential: data.credential, kiosk: data.kiosk, inactive: undefined,
                           prepared: undefined}).then(function () {
          if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
          prepare();
        });
      }
      var problem = {throttled: "pair_throttled", paused: "pair_paused"};
      screens.pair((data && problem[data.error]) || "pair_wrong");
    }, function () { screens.pair("pair_offline"); });
  }

  var progress = {worker: false, files: false, codes: false};

  screens.preparing = function () {
    var items = ["worker", "files", "codes"].map(function (step) {
      return h("li", {"class": progress[step] ? "done" : "", "data-step": step,
                      text: t("preparing_" + step)});
    });
    show("preparing", [h("h1", {text: t("preparing_title")}),
                       h("p", {"class": "lead", text: t("preparing_help")}),
                       h("ul", {"class": "checklist"}, items[0], items[1], items[2])]);
  };

  // Pairing is finished only when the app is stored for offline use and holds codes; a kiosk
  // prepared before starts at once and checks the same things in the background.
  function prepare() {
    clearTimeout(timers.prepare);
    var wasPrepared = !!device.prepared;
    if (!wasPrepared) screens.preparing();
    else showStart();
    return installWorker().then(function (ok) {
      progress.worker = ok;
      return ok ? allFilesStored() : false;
    }).then(function (ok) {
      progress.files = ok;
      return api("config").then(function (answer) {
        if (answer.status === 200 && answer.data && answer.data.agencies) {
          return saveDevice({config: answer.data});
        }
      }).catch(function () {});
    }).then(function () {
      return refillCodes(true).catch(function () { return codeCount(); });
    }).then(function (held) {
      progress.codes = held > 0;
      if (device.inactive) return;
      if (progress.worker && progress.files && progress.codes && device.config) {
        if (!wasPrepared) {
          return saveDevice({prepared: true}).then(function () {
            showStart();
            sendQueue();
          });
        }
        return sendQueue();
      }
      if (!wasPrepared) {
        screens.preparing();
        timers.prepare = setTimeout(prepare, 3000);
      }
    });
  }

  function becomeInactive() {
    if (device.inactive) return;
    device.inactive = true;  // at once: a preparation still running must not show the start
    saveDevice({inactive: true}).then(function () {
      // The pool belonged to the old pairing; the queue stays until a new pairing sends it.
      return tx(["codes"], "readwrite", function (s) { s.codes.clear(); });
    }).then(showInactive);
  }

  function showInactive() {
    person = {};
    hideIdle();
    refreshQueueCount().then(function () { screens.inactive(); });
  }

  screens.inactive = function () {
    show("inactive", [
      h("h1", {text: t("inactive_title")}), h("p", {"class": "lead", text: t("inactive_help")}),
      queueCount ? h("p", {"class": "notice", text: t("inactive_queue") + " " + queueCount}) : null,
      h("div", {"class": "actions"}, button("pair-again", t("pair_again"), function () {
        saveDevice({credential: undefined, inactive: undefined, prepared: undefined,
                    config: undefined}).then(function () { screens.pair(); });
      }, {"class": "secondary"}))
    ]);
  };

  function showStart() {
    person = {};
    lang = boot.default_language;
    document.documentElement.lang = lang;
    screens.start();
    applyUpdate();
  }

  function begin() {
    var agencies = device.config.agencies;
    if (agencies.length === 1) { person.agency = agencies[0]; screens.choose(); }
    else screens.agency(null);
  }

  // The whole screen is the touch target: a person walking up taps anywhere.
  screens.start = function () {
    var start = button("start", t("start_button"), null, {"class": "big"});
    var welcome = h("div", {"class": "welcome", "data-tap": "welcome", onclick: begin},
      h("p", {"class": "logo", "aria-hidden": "true", text: "LAPOR!"}),
      h("p", {"class": "identity", text: t("start_identity")}),
      h("h1", {text: t("title")}),
      h("p", {"class": "lead", text: t("start_lead")}),
      h("ul", {"class": "promises"}, h("li", {text: t("start_promise_free")}),
        h("li", {text: t("start_promise_secret")}), h("li", {text: t("start_promise_track")})),
      start,
      h("p", {"class": "touch", "aria-hidden": "true", text: t("start_touch")}));
    show("start", [welcome]);
  };

  function backTo(render) {
    return button("back", t("back"), render, {"class": "secondary"});
  }

  function cancel() {
    return button("cancel", t("cancel"), wipe, {"class": "secondary"});
  }

  // The agencies below the hall on the first screen; one with units below it opens them
  // (a puskesmas under the health office), with the agency itself first. The search looks
  // through all of them.
  function childrenOf(parentId) {
    return device.config.agencies.filter(function (agency) {
      return (agency.parent || null) === parentId;
    });
  }

  function agencyById(id) {
    return device.config.agencies.filter(function (agency) { return agency.id === id; })[0];
  }

  function agencyTile(agency, label, note, onclick) {
    return h("button", {type: "button", "data-tap": "agency-" + agency.id,
                        "class": note && note.parent ? "parent" : null, onclick: onclick},
             h("span", {text: label}), note ? h("small", {text: note.text}) : null);
  }

  function chooseAgency(agency) {
    person.agency = agency;
    screens.choose();
  }

  screens.agency = function (parentId) {
    if (parentId === undefined) parentId = person.agencyParent || null;
    person.agencyParent = parentId;
    var agencies = device.config.agencies;
    var parent = parentId ? agencyById(parentId) : null;
    var grid = h("div", {"class": "grid agencies", id: "agencies"});
    var none = h("p", {"class": "muted", hidden: true, text: t("agency_none")});
    function tileFor(agency, searching) {
      var below = childrenOf(agency.id);
      if (searching || !below.length) {
        var above = agency.parent ? agencyById(agency.parent) : null;
        var note = searching && above ? {text: t("agency_under", {name: above.name})} : null;
        return agencyTile(agency, agency.name, note, function () { chooseAgency(agency); });
      }
      var names = below.map(function (b) { return b.name; });
      var shown = names.slice(0, 2).join(", ") + (names.length > 2 ? ", …" : "");
      return agencyTile(agency, agency.name,
                        {text: t("agency_parts", {names: shown}), parent: true},
                        function () { screens.agency(agency.id); });
    }
    function fill() {
      var words = (person.search || "").toLowerCase().split(/\s+/).filter(Boolean);
      var tiles;
      if (words.length) {
        tiles = agencies.filter(function (agency) {
          var name = agency.name.toLowerCase();
          return words.every(function (word) { return name.indexOf(word) >= 0; });
        }).map(function (agency) { return tileFor(agency, true); });
      } else {
        tiles = childrenOf(parentId).map(function (agency) { return tileFor(agency, false); });
        if (parent) {
          tiles.unshift(agencyTile(parent, t("agency_itself"), {text: parent.name},
                                   function () { chooseAgency(parent); }));
        }
      }
      grid.replaceChildren.apply(grid, tiles);
      none.hidden = tiles.length > 0;
    }
    var nodes = [h("h1", {text: parent ? t("agency_part_title", {name: parent.name})
                                       : t("agency_title")})];
    if (!parent && agencies.length > 8) {
      var search = field("search", t("agency_search"), {type: "search", enterkeyhint: "search"});
      search[1].addEventListener("input", fill);
      nodes.push(search[0], search[1]);
    }
    fill();
    nodes.push(grid, none, h("div", {"class": "actions"},
      parent ? backTo(function () { screens.agency(parent.parent || null); }) : null, cancel()));
    show("agency", nodes);
  };

  screens.choose = function () {
    var config = device.config;
    var kinds = ["pengaduan", "aspirasi", "informasi"].map(function (kind) {
      return button("kind-" + kind, "", function () {
        person.kind = kind;
        screens.write();
      }, {"class": "choice"});
    });
    ["pengaduan", "aspirasi", "informasi"].forEach(function (kind, i) {
      kinds[i].append(h("span", {text: t("kind_" + kind)}),
                      h("small", {text: t("kind_" + kind + "_help")}));
    });
    var grid = h("div", {"class": "grid"});
    kinds.forEach(function (b) { grid.appendChild(b); });
    if (config.faces) {
      grid.appendChild(h("button", {type: "button", "class": "choice", "data-tap": "rating",
                                    onclick: function () { screens.rating(); }},
                         h("span", {text: t("choose_rating")}),
                         h("small", {text: t("choose_rating_help")})));
    }
    if (config.ikm) {
      grid.appendChild(h("button", {type: "button", "class": "choice", "data-tap": "ikm",
                                    onclick: function () { person.answers = {}; screens.ikm(); }},
                         h("span", {text: t("choose_ikm")}),
                         h("small", {text: t("choose_ikm_help")})));
    }
    show("choose", [h("h1", {text: t("choose_title")}),
                    h("p", {"class": "muted", text: person.agency.name}), grid,
                    h("div", {"class": "actions"},
                      device.config.agencies.length > 1
                        ? backTo(function () { screens.agency(); }) : null,
                      cancel())]);
  };

  screens.write = function (problem) {
    var text = field("text", t("write_text"), {multiline: true, maxlength: "4000",
                                               autocapitalize: "sentences",
                                               "aria-describedby": "write-help write-error"});
    var count = h("p", {"class": "count", id: "write-count"});
    var error = h("p", {"class": "error", role: "alert", id: "write-error",
                        text: problem ? t(problem) : ""});
    // Counted as it is typed; the "at least 15" message goes as soon as it no longer holds.
    function counted() {
      var length = (person.text || "").trim().length;
      var short = length < TEXT_MIN;
      count.textContent = short ? t("write_progress", {count: length}) : length + " / 4000";
      count.className = "count" + (short ? " short" : "");
      if (!short && problem === "write_too_short") {
        error.textContent = "";
        text[1].removeAttribute("aria-invalid");
      }
    }
    if (problem) text[1].setAttribute("aria-invalid", "true");
    text[1].addEventListener("input", counted);
    counted();
    var place = field("location", t("write_location"), {maxlength: "300",
                                                        autocapitalize: "sentences"});
    show("write", [
      h("h1", {text: t("write_title") + " – " + t("kind_" + person.kind)}),
      h("p", {"class": "muted", id: "write-help", text: t("write_help")}),
      text[0], text[1], count, error,
      place[0], place[1],
      h("div", {"class": "actions"}, button("next", t("next"), function () {
        var length = (person.text || "").trim().length;
        if (length < TEXT_MIN) screens.write("write_too_short");
        else if (length > 4000) screens.write("write_too_long");
        else screens.identity();
      }, {"class": "big"}), backTo(screens.choose), cancel())
    ], problem ? text[1] : null);
  };

  // The server's rules (complaints/reports.py), so a queued report is never refused later.
  function phoneOk(raw) {
    var digits = raw.replace(/[\s\-().]/g, "").replace(/^\+/, "");
    if (!/^[0-9]+$/.test(digits)) return false;
    if (digits[0] === "0") digits = "62" + digits.slice(1);
    return digits.length >= 9 && digits.length <= 15;
  }

  function identityProblem() {
    if (!person.identity) return null;
    if (person.identity === "anonim") return null;
    if (!(person.name || "").trim()) return "name_required";
    var phone = (person.phone || "").trim(), email = (person.email || "").trim();
    if (!phone && !email) return "contact_required";
    if (phone && !phoneOk(phone)) return "phone_invalid";
    if (email && (email.length > 254 || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))) {
      return "email_invalid";
    }
    return null;
  }

  screens.identity = function (problem) {
    var choices = h("div", {"class": "grid", role: "group", "aria-labelledby": "identity-title"});
    ["named", "rahasia", "anonim"].forEach(function (choice) {
      choices.appendChild(h("button", {
        type: "button", "class": "choice", "data-tap": "identity-" + choice,
        "aria-pressed": person.identity === choice ? "true" : "false",
        onclick: function () { person.identity = choice; screens.identity(); }
      }, h("span", {text: t("identity_" + choice)}),
         h("small", {text: t("identity_" + choice + "_help")})));
    });
    var nodes = [h("h1", {id: "identity-title", text: t("identity_title")}), choices];
    if (person.identity && person.identity !== "anonim") {
      nodes = nodes.concat(field("name", t("name"), {maxlength: "120", autocapitalize: "words"}),
                           field("phone", t("phone"), {type: "tel", inputmode: "tel",
                                                       maxlength: "32"}),
                           boot.sms_sending ? h("p", {"class": "hint", id: "phone-hint",
                                                      text: t("phone_hint")}) : null,
                           field("email", t("email"), {type: "email", inputmode: "email",
                                                       maxlength: "254"}));
    }
    nodes.push(h("p", {"class": "error", role: "alert", id: "identity-error",
                       text: problem ? t(problem) : ""}));
    nodes.push(h("div", {"class": "actions"}, button("send", t("send"), function () {
      var found = identityProblem();
      if (found) { screens.identity(found); return; }
      sendReport();
    }, {"class": "big", disabled: person.identity ? null : true}),
      backTo(screens.write), cancel()));
    show("identity", nodes);
  };

  function sendReport() {
    var anonymous = person.identity === "anonim";
    var body = {
      key: newKey(), unit: person.agency.id, kind: person.kind, text: person.text || "",
      location: person.location || "", identity: person.identity,
      name: anonymous ? "" : person.name || "", phone: anonymous ? "" : person.phone || "",
      email: anonymous ? "" : person.email || "", language: lang,
      reported_at: new Date().toISOString()
    };
    person.sending = true;
    enqueue("report", body, true).then(function (queued) {
      return settle(queued.item).then(function (delivered) {
        person.receipt = receiptOf(queued.code, delivered ? answers[queued.item.key] : null);
        person.receipt.delivered = delivered;
        person.receipt.key = queued.item.key;
        delete answers[queued.item.key];
        screens.receipt();
        refillCodes(false).catch(function () {});
      });
    });
  }

  // What the receipt shows: the server's answer when it came (its private link always), else
  // the pool code's, which carries the private link's secret (codes from before private links
  // carry only the public page's QR code).
  function receiptOf(code, answer) {
    if (answer && answer.display && answer.link && Array.isArray(answer.qr)) {
      return {display: answer.display, qr: answer.qr, private: true};
    }
    if (code) return {display: code.display, qr: code.qr, private: !!code.secret};
    return {};
  }

  // Try to send at once; the receipt shows after a moment either way.
  function settle(item) {
    var wait = new Promise(function (resolve) { setTimeout(resolve, 4000); });
    return Promise.race([sendQueue(), wait]).then(refreshQueueCount).then(function (items) {
      return !items.some(function (queued) { return queued.key === item.key; });
    });
  }

  function qrSvg(rows) {
    var ns = "http://www.w3.org/2000/svg";
    var size = rows.length + 8;
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + size + " " + size);
    svg.setAttribute("class", "qr");
    svg.setAttribute("role", "img");
    svg.setAttribute("shape-rendering", "crispEdges");
    var d = "";
    rows.forEach(function (row, y) {
      for (var x = 0; x < row.length; x++) {
        if (row[x] === "1") d += "M" + (x + 4) + " " + (y + 4) + "h1v1h-1z";
      }
    });
    var back = document.createElementNS(ns, "rect");
    back.setAttribute("width", size);
    back.setAttribute("height", size);
    back.setAttribute("fill", "#fff");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "#000");
    svg.appendChild(back);
    svg.appendChild(path);
    return svg;
  }

  // The receipt stays until the person taps Done, or walks away (RECEIPT_COUNTDOWN seconds of
  // warning before boot.receipt_seconds without a touch).
  screens.receipt = function () {
    var receipt = person.receipt;
    var shown = !!receipt.display;
    var nodes = [h("h1", {text: t(receipt.delivered ? "receipt_title" : "receipt_queued_title")})];
    if (!receipt.delivered) {
      nodes.push(h("p", {"class": "notice", id: "queued-notice",
                         text: t(shown ? "receipt_queued_help" : "receipt_no_code")}));
    }
    if (shown) {
      var url = boot.base_url + "/t/" + receipt.display;
      var qr = qrSvg(receipt.qr);
      qr.setAttribute("aria-label", t(receipt.private ? "receipt_private_keep" : "receipt_scan"));
      qr.setAttribute("data-link", receipt.private ? "private" : "public");
      var words = receipt.private
        ? [h("p", {id: "receipt-scan", text: t("receipt_private")}),
           h("p", {"class": "keep", text: t("receipt_private_keep")}),
           h("p", {"class": "muted", text: t("receipt_public")})]
        : [h("p", {id: "receipt-scan", text: t("receipt_scan")})];
      nodes.push(h("div", {"class": "receipt"},
        h("div", {},
          h("p", {text: t("receipt_code")}),
          h("p", {"class": "code", id: "tracking-code", text: receipt.display}),
          words[0], words[1] || null, words[2] || null,
          h("p", {"class": "url", text: url})),
        qr));
    }
    var done = button("done", t("done"), wipe, {"class": "big", id: "done"});
    var actions = h("div", {"class": "actions"}, done);
    if (typeof window.print === "function" && shown) {
      actions.appendChild(button("print", t("receipt_print"), function () { window.print(); },
                                 {"class": "secondary"}));
    }
    nodes.push(actions);
    show("receipt", nodes, done);
  };

  // Five faces, drawn: emoji show as empty boxes on a tablet without an emoji font.
  var MOUTHS = ["M30 70 Q50 54 70 70", "M32 68 Q50 60 68 68", "M33 66 H67",
                "M32 62 Q50 74 68 62", "M28 58 Q50 84 72 58"];
  var FACE_COLOURS = ["#c62828", "#ef6c00", "#f9a825", "#7cb342", "#2e7d32"];

  function faceSvg(index) {
    var ns = "http://www.w3.org/2000/svg";
    function el(tag, attrs) {
      var node = document.createElementNS(ns, tag);
      Object.keys(attrs).forEach(function (name) { node.setAttribute(name, attrs[name]); });
      return node;
    }
    var svg = el("svg", {viewBox: "0 0 100 100", "class": "face", "aria-hidden": "true",
                         focusable: "false"});
    svg.appendChild(el("circle", {cx: 50, cy: 50, r: 46, fill: FACE_COLOURS[index],
                                  stroke: "#1b1b1b", "stroke-width": 3}));
    var line = {fill: "none", stroke: "#1b1b1b", "stroke-width": 5, "stroke-linecap": "round"};
    svg.appendChild(el("circle", {cx: 35, cy: 40, r: 5.5, fill: "#1b1b1b"}));
    svg.appendChild(el("circle", {cx: 65, cy: 40, r: 5.5, fill: "#1b1b1b"}));
    if (index === 0) {  // frowning brows
      svg.appendChild(el("path", Object.assign({d: "M24 26 L42 32 M76 26 L58 32"}, line)));
    }
    if (index === 4) {  // a smile with an open mouth
      svg.appendChild(el("path", {d: MOUTHS[4] + " Z", fill: "#fff", stroke: "#1b1b1b",
                                  "stroke-width": 4, "stroke-linejoin": "round"}));
    } else {
      svg.appendChild(el("path", Object.assign({d: MOUTHS[index]}, line)));
    }
    return svg;
  }

  screens.rating = function () {
    var faces = device.config.faces[lang] || device.config.faces[boot.default_language];
    var row = h("div", {"class": "faces", role: "group", "aria-labelledby": "rating-title"});
    faces.forEach(function (label, i) {
      row.appendChild(h("button", {type: "button", "data-tap": "face", "data-rating": i + 1,
                                   onclick: function () { sendFeedback({kind: "rating", rating: i + 1}); }},
                        faceSvg(i),
                        h("span", {text: label})));
    });
    show("rating", [h("h1", {id: "rating-title", text: t("rating_title")}),
                    h("p", {"class": "muted", text: person.agency.name}), row,
                    h("div", {"class": "actions"}, backTo(screens.choose), cancel())]);
  };

  screens.ikm = function (problem) {
    var items = device.config.ikm[lang] || device.config.ikm[boot.default_language];
    var nodes = [h("h1", {text: t("ikm_title")}),
                 h("p", {"class": "muted", text: person.agency.name + " · " + t("ikm_help")})];
    items.forEach(function (item, index) {
      var answers = h("div", {"class": "answers", role: "group",
                              "aria-labelledby": "q" + item.id});
      item.answers.forEach(function (label, value) {
        answers.appendChild(button("ikm-" + item.id + "-" + (value + 1), label, function () {
          person.answers[item.id] = value + 1;
          Array.prototype.forEach.call(answers.children, function (b, i) {
            b.setAttribute("aria-pressed", i === value ? "true" : "false");
          });
        }, {"aria-pressed": person.answers[item.id] === value + 1 ? "true" : "false"}));
      });
      nodes.push(h("section", {"class": "question"},
                   h("h2", {id: "q" + item.id, text: (index + 1) + ". " + item.question}),
                   answers));
    });
    nodes.push(h("p", {"class": "error", role: "alert", text: problem ? t(problem) : ""}));
    nodes.push(h("div", {"class": "actions"}, button("send", t("send"), function () {
      var digits = items.map(function (item) { return person.answers[item.id] || 0; });
      if (digits.indexOf(0) >= 0) { screens.ikm("ikm_missing"); return; }
      sendFeedback({kind: "ikm", answers: digits.join("")});
    }, {"class": "big"}), backTo(screens.choose), cancel()));
    show("ikm", nodes);
  };

  function sendFeedback(fields) {
    var body = {key: newKey(), unit: person.agency.id, language: lang,
                reported_at: new Date().toISOString()};
    Object.keys(fields).forEach(function (k) { body[k] = fields[k]; });
    enqueue("feedback", body, false).then(function () {
      sendQueue();
      screens.thanks();
    });
  }

  screens.thanks = function () {
    person = {thanksAt: Date.now()};
    show("thanks", [h("h1", {text: t("thanks_title")}),
                    h("p", {"class": "lead", text: t("thanks_help")}),
                    h("div", {"class": "actions"}, button("done", t("done"), wipe,
                                                          {"class": "big"}))]);
  };

  // -- forgetting the last person -----------------------------------------------------------
  function wipe() {
    hideIdle();
    person = {};
    answers = {};
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    history.replaceState(null, "", "/kiosk");
    showStart();
  }

  function hideIdle() {
    document.getElementById("idle").hidden = true;
  }

  function idleLimit() {
    var typing = screen === "write" || screen === "identity" ||
      (document.activeElement && /^(INPUT|TEXTAREA)$/.test(document.activeElement.tagName));
    return boot.idle_seconds * (typing ? 3 : 1);
  }

  function tick() {
    if (screen === "thanks" && person.thanksAt && Date.now() - person.thanksAt > THANKS_SECONDS * 1000) {
      wipe();
      return;
    }
    if (["start", "pair", "preparing", "inactive"].indexOf(screen) >= 0) {
      hideIdle();
      return;
    }
    var onReceipt = screen === "receipt";
    var limit = onReceipt ? boot.receipt_seconds : idleLimit();
    var left = Math.ceil(limit - (Date.now() - lastTouch) / 1000);
    if (left <= 0) { wipe(); return; }
    var box = document.getElementById("idle");
    if (left <= (onReceipt ? RECEIPT_COUNTDOWN : COUNTDOWN)) {
      var words = onReceipt ? "receipt_idle_" : "idle_";
      document.getElementById("idle-title").textContent = t(words + "title");
      document.getElementById("idle-seconds").textContent = String(left);
      document.getElementById("idle-help").textContent = t(words + "help", {seconds: left});
      document.getElementById("idle-continue").textContent = t(words + "continue");
      if (box.hidden) {
        box.hidden = false;
        document.getElementById("idle-continue").focus();
      }
    } else if (!box.hidden) {
      box.hidden = true;
    }
  }

  // For staff: a tap on the dot in the top bar shows when the server last answered.
  document.getElementById("link-wrap").addEventListener("click", function () {
    var time = document.getElementById("link-time");
    time.textContent = document.getElementById("link-state").getAttribute("title");
    time.hidden = false;
    clearTimeout(timers.linkTime);
    timers.linkTime = setTimeout(function () { time.hidden = true; }, 5000);
  });

  function touched() { lastTouch = Date.now(); }
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (type) {
    document.addEventListener(type, touched, {capture: true, passive: true});
  });
  document.getElementById("idle-continue").addEventListener("click", function () {
    touched();
    hideIdle();
  });

  // A repeated tap on the same control within a few seconds counts once (a double send, two
  // screens skipped by one impatient finger).
  var lastTap = {id: "", at: 0};
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button") : null;
    if (!target) return;
    var id = target.getAttribute("data-tap") || "";
    var now = Date.now();
    if (id && id === lastTap.id && now - lastTap.at < TAP_GUARD && id.indexOf("ikm-") !== 0) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    lastTap = {id: id, at: now};
  }, true);
  // No context menu, no pinch-zoom left behind for the next person.
  document.addEventListener("contextmenu", function (event) { event.preventDefault(); });

  // -- start ------------------------------------------------------------------------------
  loadDevice().then(function (stored) {
    device = stored || {};
    held = device.held || {};
    Object.keys(held).forEach(function (kind) {
      if (held[kind] > Date.now()) wakeAt(held[kind]);  // told before the reload: still waits
    });
    return refreshQueueCount();
  }).then(function () {
    if (device.inactive) { showInactive(); return; }
    if (!device.credential) { screens.pair(); return; }
    return prepare();
  }).catch(function (error) {
    // IndexedDB refused (a private window, storage switched off): nothing can be kept.
    main.replaceChildren(h("p", {"class": "error", text: String(error && error.message)}));
  });
  setInterval(tick, 1000);
  setInterval(function () { if (!offline) sendQueue(); }, SEND_INTERVAL);
  // The browser's word that the network is back is worth a look at once; its word that it is
  // gone saves the requests that would fail.
  window.addEventListener("online", function () {
    if (!offline) return;
    failures = 0;
    cancelWake();
    attempt();
  });
  window.addEventListener("offline", function () {
    offline = true;
    renderBar();
    wakeAt(Date.now() + PROBE_MAX);
  });
  setInterval(heartbeat, HEARTBEAT_INTERVAL);
  setInterval(checkForUpdate, UPDATE_INTERVAL);
  setTimeout(heartbeat, 2000);
}());
