/* The rater's questionnaire, offline-tolerant (docs/evaluations.md).
 *
 * Every change is kept in localStorage under the code, with an Idempotency-Key made once per
 * code; submitting posts JSON to the API. When the connection is lost, the answers stay in
 * the page and in storage, and are sent again (same key: the server answers the first
 * ballot's receipt, never a second vote) when the browser is back online, every few seconds
 * while it is not, or when the button is pressed again. No inline script (CSP script-src 'self').
 */
(function () {
  "use strict";
  var form = document.querySelector("form.ballot");
  if (!form) { return; }
  var code = form.getAttribute("data-code");
  var endpoint = form.getAttribute("data-endpoint");
  var status = document.getElementById("ballot-status");
  var storeKey = "fw-ballot:" + code;
  var retryTimer = null;
  var sending = false;

  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save(state) {
    try { window.localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode: page only */ }
  }
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function say(kind) {
    status.textContent = kind ? status.getAttribute("data-" + kind) : "";
    status.className = "status " + (kind === "offline" || kind === "refused" ? "warning" : "muted");
  }

  function collect() {
    var answers = {};
    Array.prototype.forEach.call(form.querySelectorAll("fieldset.question"), function (set) {
      var name = set.getAttribute("data-name"), type = set.getAttribute("data-type");
      if (type === "multiple") {
        var picked = Array.prototype.map.call(set.querySelectorAll("input:checked"), function (i) { return i.value; });
        if (picked.length) { answers[name] = picked; }
        return;
      }
      var input = set.querySelector("input[type=radio]:checked") || set.querySelector("textarea, input[type=number]");
      var value = input ? input.value.trim() : "";
      if (!value || (input.type === "radio" && !input.checked)) { return; }
      if (type === "grade5") { answers[name] = parseInt(value, 10); }
      else if (type === "number") { answers[name] = Number(value); }
      else { answers[name] = value; }
    });
    return answers;
  }

  function restore(answers) {
    Object.keys(answers || {}).forEach(function (name) {
      var set = form.querySelector('fieldset.question[data-name="' + name + '"]');
      if (!set) { return; }
      var value = answers[name];
      Array.prototype.forEach.call(set.querySelectorAll("input[type=radio], input[type=checkbox]"), function (i) {
        i.checked = Array.isArray(value) ? value.indexOf(i.value) >= 0 : String(value) === i.value;
      });
      var text = set.querySelector("textarea, input[type=number]");
      if (text) { text.value = value; }
    });
  }

  function showReceipt(receipt) {
    var section = document.getElementById("receipt");
    section.querySelector(".receipt-no").textContent = receipt.receipt_no;
    section.querySelector(".receipt-rectification").hidden = !receipt.rectification;
    form.hidden = true;
    section.hidden = false;
    window.localStorage.removeItem(storeKey);
  }

  function markErrors(problem) {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (e) { e.remove(); });
    (problem.errors || []).forEach(function (err) {
      var name = String(err.field || "").replace(/^answers\./, "");
      var set = form.querySelector('fieldset.question[data-name="' + name + '"]') || form;
      var p = document.createElement("p");
      p.className = "field-error error";
      p.textContent = err.message;
      set.appendChild(p);
    });
  }

  function scheduleRetry() {
    if (retryTimer === null) { retryTimer = window.setInterval(submit, 5000); }
  }
  function stopRetry() {
    if (retryTimer !== null) { window.clearInterval(retryTimer); retryTimer = null; }
  }

  function submit() {
    if (sending) { return; }
    var state = load();
    state.answers = collect();
    state.key = state.key || newKey();
    state.pending = true;
    save(state);
    sending = true;
    say("sending");
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = window.setTimeout(function () { if (controller) { controller.abort(); } }, 15000);
    fetch(endpoint, {
      method: "POST", credentials: "same-origin", signal: controller ? controller.signal : undefined,
      headers: {"Content-Type": "application/json", "Idempotency-Key": state.key, "Accept": "application/json"},
      body: JSON.stringify({code: code, answers: state.answers})
    }).then(function (resp) {
      return resp.json().then(function (body) { return {status: resp.status, body: body}; },
                              function () { return {status: resp.status, body: {}}; });
    }).then(function (answer) {
      sending = false;
      window.clearTimeout(timeout);
      if (answer.status === 200 || answer.status === 201) {
        stopRetry();
        say(null);
        showReceipt(answer.body);
      } else if (answer.status >= 500 || answer.status === 429) {
        say("offline");
        scheduleRetry();
      } else {
        stopRetry();
        state.pending = false;
        save(state);
        say("refused");
        status.textContent = (answer.body && answer.body.detail) || status.textContent;
        markErrors(answer.body || {});
      }
    }, function () {
      sending = false;
      window.clearTimeout(timeout);
      say("offline");
      scheduleRetry();
    });
  }

  var initial = load();
  restore(initial.answers);
  if (initial.answers && Object.keys(initial.answers).length) { say("saved"); }
  form.addEventListener("change", function () {
    var state = load();
    state.answers = collect();
    save(state);
  });
  form.addEventListener("input", function () {
    var state = load();
    state.answers = collect();
    save(state);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });
  window.addEventListener("online", function () { if (load().pending) { submit(); } });
  if (initial.pending) { submit(); }
}());
