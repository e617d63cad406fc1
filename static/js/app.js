// Small progressive enhancements; every page works without JavaScript.
// htmx sends the CSRF token with every request it makes.
document.addEventListener("htmx:configRequest", function (event) {
  var token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (token) { event.detail.headers["X-CSRFToken"] = token.value; }
});
// Buttons with data-confirm ask before submitting (no inline script: CSP forbids it).
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
});
// The idle logout warns first (等保 登录超时). The server is the clock: it ends a session after
// SESSION_IDLE_SECONDS without the user's activity (an autosave or poll with nothing new does
// not count) and tells every response how long is left (X-Idle-Remaining). Before the end this
// page asks the server again (another tab may have been used), shows the warning with a
// countdown, and at the end lets the page keep its unsent input on the device ("idle:logout")
// and logs out, coming back to this page after the next login.
(function () {
  "use strict";
  var box = document.getElementById("idle-warning");
  if (!box) { return; }
  var warnBefore = parseInt(box.getAttribute("data-idle-warning"), 10) || 120;
  var statusUrl = box.getAttribute("data-status-url");
  var countdown = document.getElementById("idle-countdown");
  var deadline = 0, timer = null, ticker = null, ended = false;

  function hide() { box.classList.add("is-hidden"); clearInterval(ticker); ticker = null; }

  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    countdown.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
  }

  function show() {
    box.classList.remove("is-hidden");
    tick();
    if (!ticker) { ticker = setInterval(tick, 1000); }
  }

  function schedule(remaining) {
    if (ended) { return; }
    deadline = Date.now() + remaining * 1000;
    clearTimeout(timer);
    if (remaining > warnBefore) {
      hide();
      timer = setTimeout(check, (remaining - warnBefore) * 1000);
    } else {
      show();
      timer = setTimeout(check, remaining * 1000 + 1000);
    }
  }

  function end() {
    if (ended) { return; }
    ended = true;
    clearTimeout(timer);
    document.dispatchEvent(new CustomEvent("idle:logout"));
    var form = document.querySelector("form[action$='/accounts/logout/']");
    if (!form) { window.location.reload(); return; }
    [["reason", "idle"], ["next", window.location.pathname + window.location.search]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden"; input.name = pair[0]; input.value = pair[1];
      form.appendChild(input);
    });
    form.submit();
  }

  function ask(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("json") !== -1;
        if (response.redirected || !json) { return 0; }  // sent to the login page: already ended
        return response.json().then(function (body) { return body.idle_remaining; });
      });
  }

  function check() {
    ask(statusUrl).then(function (remaining) {
      if (remaining <= 0) { end(); } else { schedule(remaining); }
    }).catch(function () { timer = setTimeout(check, 10000); });  // offline: ask again soon
  }

  document.getElementById("idle-continue").addEventListener("click", function () {
    ask(statusUrl + "?touch=1").then(function (remaining) {
      if (remaining <= 0) { end(); } else { schedule(remaining); }
    });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var left = xhr && xhr.getResponseHeader("X-Idle-Remaining");
    if (left !== null && left !== undefined && left !== "") { schedule(parseInt(left, 10)); }
  });
  schedule(parseInt(box.getAttribute("data-idle-seconds"), 10) || 1800);
})();
