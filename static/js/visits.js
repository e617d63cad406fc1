// The visit recording page (inspections/visit_record.html): autosave bookkeeping, a local
// backup of unsent input, result-category rules, the signing-form toggle and the signature pad.
// Loaded only on that page; no inline script (CSP).
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function currentVersion() {
    var input = document.getElementById("visit-version");
    return input ? input.value : "";
  }

  function syncVersions() {
    var version = currentVersion();
    $all("input.js-version").forEach(function (el) { el.value = version; });
  }

  function backupKey(form) { return "visit-draft-" + form.getAttribute("data-visit"); }

  function formEntries(form) {
    var out = [];
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrfmiddlewaretoken" && key !== "version") { out.push([key, value]); }
    });
    return out;
  }

  function saveBackup(form) {
    try {
      window.localStorage.setItem(backupKey(form), JSON.stringify({
        version: currentVersion(), at: Date.now(), entries: formEntries(form)
      }));
    } catch (e) { /* storage full or disabled: the server autosave still runs */ }
  }

  function clearBackup(form) {
    try { window.localStorage.removeItem(backupKey(form)); } catch (e) { /* ignore */ }
  }

  function restoreBackup(form, backup) {
    var byName = {};
    backup.entries.forEach(function (pair) {
      (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]);
    });
    $all("input, select, textarea", form).forEach(function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name === "version") { return; }
      var values = byName[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) !== -1 || (el.value === "on" && values.length > 0);
      } else if (values.length) {
        el.value = values[0];
      }
    });
    form.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function setupBackup(form) {
    var banner = document.getElementById("local-restore");
    var raw = null;
    try { raw = window.localStorage.getItem(backupKey(form)); } catch (e) { raw = null; }
    if (raw && banner) {
      var backup = JSON.parse(raw);
      // Only a backup made on the version now on screen can be restored without overwriting
      // someone else's later save.
      if (backup.version === banner.getAttribute("data-version")) {
        banner.classList.remove("is-hidden");
        $("#local-restore-btn").addEventListener("click", function () {
          restoreBackup(form, backup);
          banner.classList.add("is-hidden");
        });
        $("#local-discard-btn").addEventListener("click", function () {
          clearBackup(form);
          banner.classList.add("is-hidden");
        });
      } else {
        clearBackup(form);
      }
    }
  }

  function setupCategories(form) {
    form.addEventListener("change", function (event) {
      var box = event.target;
      if (!box.matches || !box.matches(".cat-tree input[type=checkbox]")) { return; }
      var tree = box.closest(".cat-tree");
      if (!box.checked) {
        // Unticking a parent unticks its sub-reasons.
        $all("input[data-parent='" + box.value + "']", tree).forEach(function (c) { c.checked = false; });
        return;
      }
      if (box.hasAttribute("data-exclusive")) {
        $all("input[type=checkbox]", tree).forEach(function (c) { if (c !== box) { c.checked = false; } });
      } else {
        $all("input[data-exclusive]", tree).forEach(function (c) { c.checked = false; });
        var parent = box.getAttribute("data-parent");
        if (parent) {
          var p = $("input[value='" + parent + "']:not([data-parent])", tree);
          if (p) { p.checked = true; }
        }
      }
    });
  }

  function setupSigning(form) {
    function update() {
      var chosen = $("input[name=signing_form]:checked", form);
      var unsigned = chosen && chosen.value === "unsigned";
      $all(".unsigned-only", form).forEach(function (el) { el.classList.toggle("is-dim", !unsigned); });
    }
    $all("input[name=signing_form]", form).forEach(function (el) { el.addEventListener("change", update); });
    update();
  }

  function setupSubmitGuard(form) {
    var submitForm = document.getElementById("submit-form");
    if (!submitForm) { return; }
    var pending = false;
    submitForm.addEventListener("submit", function (event) {
      if (form.dataset.dirty === "1") {
        // Save what is on screen first, then submit with the new version.
        event.preventDefault();
        pending = true;
        window.htmx.trigger(form, "change");
      }
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      if (pending && form.dataset.dirty !== "1" && !$(".autosave-conflict") && !$(".autosave-error")) {
        pending = false;
        syncVersions();
        submitForm.submit();
      }
    });
  }

  function setupAutosave(form) {
    form.addEventListener("input", function () { form.dataset.dirty = "1"; saveBackup(form); });
    form.addEventListener("change", function () { form.dataset.dirty = "1"; saveBackup(form); });
    form.addEventListener("htmx:beforeSwap", function (event) {
      var url = event.detail.xhr && event.detail.xhr.responseURL || "";
      if (url.indexOf("/accounts/login") !== -1 || event.detail.xhr.status === 403) {
        event.detail.shouldSwap = false;
        var status = document.getElementById("autosave-status");
        if (status) {
          status.className = "autosave autosave-error";
          status.textContent = "登录已超时或无权保存：您的输入已暂存在本机。请在新窗口重新登录后刷新本页，选择“恢复本机输入”。";
        }
      }
    });
    form.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.successful && !$(".autosave-conflict") && !$(".autosave-error")) {
        form.dataset.dirty = "0";
        clearBackup(form);
      }
    });
    document.body.addEventListener("htmx:afterSettle", syncVersions);
    document.body.addEventListener("htmx:oobAfterSwap", syncVersions);
    // The idle logout (static/js/app.js) is about to leave the page: what the server has not
    // saved stays on this device, offered again by the banner after the next login.
    document.addEventListener("idle:logout", function () {
      if (form.dataset.dirty === "1") { saveBackup(form); }
    });
  }

  function setupSignaturePad() {
    var canvas = document.getElementById("signature-pad");
    if (!canvas) { return; }
    var ctx = canvas.getContext("2d");
    var drawing = false, drawn = false, last = null;
    function reset() {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.strokeStyle = "#000"; ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round";
      drawn = false;
    }
    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - rect.left) * canvas.width / rect.width,
        y: (event.clientY - rect.top) * canvas.height / rect.height
      };
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true; last = point(event); canvas.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var p = point(event);
      ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
      last = p; drawn = true; event.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    reset();
    $("#signature-clear").addEventListener("click", reset);
    $("#signature-save").addEventListener("click", function () {
      var status = document.getElementById("signature-status");
      if (!drawn) { status.textContent = "请先在框内签名。"; return; }
      canvas.toBlob(function (blob) {
        var data = new FormData();
        data.append("signature", blob, "signature.png");
        data.append("version", currentVersion());
        data.append("csrfmiddlewaretoken", $("input[name=csrfmiddlewaretoken]").value);
        fetch(canvas.getAttribute("data-url"), { method: "POST", body: data, credentials: "same-origin" })
          .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
          .then(function (result) {
            var ok = result[0], body = result[1];
            if (!ok) { status.textContent = body.error || "签名未保存。"; return; }
            document.getElementById("visit-version").value = body.version;
            syncVersions();
            var img = document.getElementById("signature-current");
            img.src = body.url; img.classList.remove("is-hidden");
            var signature = document.querySelector("input[name=signing_form][value=signature]");
            if (signature && !document.querySelector("input[name=signing_form]:checked")) { signature.checked = true; }
            status.textContent = body.message;
            reset();
          })
          .catch(function () { status.textContent = "网络异常，签名未保存，请重试。"; });
      }, "image/png");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("visit-form");
    if (form) {
      setupBackup(form);
      setupCategories(form);
      setupSigning(form);
      setupAutosave(form);
      setupSubmitGuard(form);
    }
    setupSignaturePad();
  });
})();
