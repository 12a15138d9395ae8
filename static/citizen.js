// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // On 2G a report with photos takes minutes. Where this file runs, the form is sent by
  // XMLHttpRequest so the button can say how much has gone ("Mengirim… 42%"), and its photos
  // are shrunk on the phone first: the server re-encodes every photo to LAPOR_PHOTO_MAX_SIDE
  // anyway, so the extra pixels a phone camera takes only cost the citizen time and credit.
  // The side and the number of photos come from the server (the photo input's data-max-side
  // and data-max-photos), so they cannot drift from its settings. Without this file the form
  // posts as it is, full-size photos and all, and the server checks and re-encodes either way.
  var QUALITY = 0.8;
  // Below this a photo no longer than the server keeps is sent as it is: re-encoding it would
  // gain little.
  var SMALL_ENOUGH = 300 * 1024;

  function jpegName(name) {
    return (name.replace(/\.[^.]*$/, "") || "foto") + ".jpg";
  }

  // The photo as the server would keep it, or the file itself when that fails or is not smaller:
  // a photo is never dropped for the sake of shrinking it.
  function shrink(file, maxSide) {
    if (!window.createImageBitmap || !/^image\/(jpeg|png|webp)$/.test(file.type) ||
        !(maxSide > 0)) {
      return Promise.resolve(file);
    }
    return window.createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size <= SMALL_ENOUGH) {
        bitmap.close();
        return file;
      }
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      var context = canvas.getContext("2d");
      // JPEG has no transparency: a PNG's clear parts become white, not black.
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob && blob.size < file.size
            ? new File([blob], jpegName(file.name), {type: "image/jpeg"}) : file);
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  // One at a time: a decoded 12-megapixel photo takes about 50 MB of a cheap phone's memory.
  function shrinkAll(files, maxSide, done) {
    var out = [];
    var next = function (i) {
      if (i === files.length) { done(out); return; }
      shrink(files[i], maxSide).then(function (small) { out.push(small); next(i + 1); });
    };
    next(0);
  }

  // The answer replaces the page as a normal submission's would: the form again with its
  // errors (and the photos the server holds), or a refusal.
  // Its address too: a language switch's answer is at "?lang=en", as after a normal post.
  function show(html, url) {
    document.open();
    document.write(html);
    document.close();
    if (url) { window.history.replaceState(null, "", url); }
  }

  // A second tap while a slow upload is running would only re-send the same token; the server
  // stores one report either way, but a disabled button tells the citizen it is on its way.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    var button = form.querySelector("button[type=submit].send") ||
      form.querySelector("button[type=submit]");
    var label = button ? button.textContent : "";
    var failed = document.getElementById("send-failed");
    var sending = false;
    var canUpload = !!(window.FormData && window.XMLHttpRequest &&
      "upload" in new XMLHttpRequest() && button && button.hasAttribute("data-progress"));
    var shrunk = new Map();  // the same photo is not shrunk again after a lost connection

    var say = function (percent) {
      if (percent === null) {
        button.textContent = button.getAttribute("data-sending");
      } else {
        button.textContent = button.getAttribute("data-progress")
          .replace("{percent}", String(percent));
      }
    };
    var reset = function () {
      sending = false;
      if (button) {
        button.disabled = false;
        button.textContent = label;
        button.removeAttribute("aria-busy");
      }
    };
    // Back from the receipt, a page restored from the browser's cache still says "Mengirim".
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { reset(); }
    });

    var send = function (submitter, reporting) {
      var action = (submitter && submitter.getAttribute("formaction")) ||
        form.getAttribute("action") || window.location.href;
      action = new URL(action, window.location.href).href;
      var data = new FormData(form);
      if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
      var input = form.querySelector("input[type=file][name=photos]");
      var files = input && input.files ? Array.prototype.slice.call(input.files) : [];
      var upload = function (photos) {
        if (files.length) {
          data.delete("photos");
          photos.forEach(function (photo) { data.append("photos", photo, photo.name); });
        }
        var xhr = new XMLHttpRequest();
        var left = false;
        var leave = function () {
          // Post/Redirect/Get: the answer is the receipt's address; the browser goes there
          // itself rather than this request downloading the page a second time.
          if (left || !xhr.responseURL || xhr.responseURL.split("#")[0] === action) {
            return false;
          }
          left = true;
          var receipt = xhr.responseURL;  // abort() empties it
          xhr.abort();
          window.location.assign(receipt);
          return true;
        };
        xhr.open("POST", action);
        xhr.upload.addEventListener("progress", function (event) {
          if (reporting && event.lengthComputable && event.total > 0) {
            say(Math.min(100, Math.floor(100 * event.loaded / event.total)));
          }
        });
        xhr.addEventListener("readystatechange", function () {
          if (xhr.readyState === 2) { leave(); }
        });
        xhr.addEventListener("load", function () {
          if (!leave() && !left) { show(xhr.responseText, xhr.responseURL); }
        });
        var lost = function () {
          if (left) { return; }
          reset();
          if (failed) {
            failed.setAttribute("role", "alert");  // only now: the form has no alert before
            failed.hidden = false;
            failed.focus();
          }
        };
        xhr.addEventListener("error", lost);
        xhr.addEventListener("timeout", lost);
        xhr.send(data);
      };
      if (!files.length) { upload([]); return; }
      var todo = files.filter(function (file) { return !shrunk.has(file); });
      var maxSide = input ? Number(input.getAttribute("data-max-side")) : 0;
      shrinkAll(todo, maxSide, function (smaller) {
        todo.forEach(function (file, i) { shrunk.set(file, smaller[i]); });
        upload(files.map(function (file) { return shrunk.get(file); }));
      });
    };

    // More photos than the server takes: said at once, beside the field, rather than after
    // minutes of uploading what the server would refuse.
    var photos = form.querySelector("input[type=file][name=photos]");
    var tooMany = function () {
      if (!photos || !photos.files || !photos.hasAttribute("data-max-photos")) { return false; }
      var held = form.querySelectorAll("input[name=photo_ref]:checked").length;
      return photos.files.length + held > Number(photos.getAttribute("data-max-photos"));
    };
    var photoError = null;
    var sayTooMany = function (show) {
      if (!photos) { return; }
      if (show && !photoError) {
        photoError = document.createElement("p");
        photoError.className = "error";
        photoError.id = "photos-too-many";
        photoError.textContent = photos.getAttribute("data-too-many");
        photos.insertAdjacentElement("afterend", photoError);
      }
      if (photoError) { photoError.hidden = !show; }
      if (show) {
        photos.setAttribute("aria-invalid", "true");
        photos.setAttribute("aria-describedby", "photos-hint photos-too-many");
      } else if (photoError) {
        photos.removeAttribute("aria-invalid");
        photos.setAttribute("aria-describedby", "photos-hint");
      }
    };
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target === photos || (target && target.name === "photo_ref")) {
        sayTooMany(tooMany());
      }
    });

    form.addEventListener("submit", function (event) {
      var switching = event.submitter && event.submitter !== button;
      if (!switching && tooMany()) {
        event.preventDefault();
        sayTooMany(true);
        photos.focus();
        return;
      }
      if (!canUpload) {
        if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
        return;
      }
      event.preventDefault();
      if (sending) { return; }
      sending = true;
      if (failed) { failed.hidden = true; }
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      var submitter = event.submitter || null;
      // The language switch re-posts the form too, but the citizen is not sending anything.
      var reporting = !submitter || submitter === button;
      if (reporting) { say(null); }
      send(submitter, reporting);
    });
  });
  // A form that came back with a mistake by XMLHttpRequest replaced the page (document.write):
  // the browser then keeps nothing of it, and a refresh loads a fresh, empty form. So what is
  // typed is kept in this tab's sessionStorage while the form is open, put back on a reload
  // (or back) into the fresh form, and dropped once the report is sent. Photos cannot be kept;
  // the token, the honeypot and the photos already received are the server's.
  var KEEP = "lapor-form:";
  var store = null;
  try { store = window.sessionStorage; } catch (e) { store = null; }
  var keptFields = function (form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && !/^(token|website|photo_ref|photos)$/.test(field.name) &&
        field.type !== "hidden" && field.type !== "file" && field.type !== "checkbox" &&
        field.type !== "submit" && field.type !== "button";
    });
  };
  if (store) {
    if (document.querySelector(".receipt")) {
      // Sent: nothing typed is kept any longer than it must be.
      Object.keys(store).forEach(function (key) {
        if (key.indexOf(KEEP) === 0) { store.removeItem(key); }
      });
    }
    var nav = window.performance && performance.getEntriesByType ?
      performance.getEntriesByType("navigation")[0] : null;
    var returned = !!nav && (nav.type === "reload" || nav.type === "back_forward");
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      var key = KEEP + new URL(form.getAttribute("action") || "", window.location.href).pathname;
      var fields = keptFields(form);
      var saved = null;
      try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
      var fresh = fields.every(function (field) {
        return field.type === "radio" || field.type === "select-one" || !field.value;
      });
      if (saved && returned && fresh) {
        fields.forEach(function (field) {
          if (!(field.name in saved)) { return; }
          if (field.type === "radio") {
            field.checked = field.value === saved[field.name];
            if (field.checked) { field.dispatchEvent(new Event("change", {bubbles: true})); }
          } else {
            field.value = saved[field.name];
          }
        });
      }
      var keep = function () {
        var values = {};
        fields.forEach(function (field) {
          if (field.type !== "radio") { values[field.name] = field.value; }
          else if (field.checked) { values[field.name] = field.value; }
        });
        try { store.setItem(key, JSON.stringify(values)); } catch (e) { /* full or blocked */ }
      };
      form.addEventListener("input", keep);
      form.addEventListener("change", keep);
      // A page the server gave back with what was typed: kept from the start.
      if (!fresh) { keep(); }
    });
  }
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
