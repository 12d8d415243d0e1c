// Autosave for the composer: every few seconds, if the form changed, POST it to the save
// endpoint. Without JavaScript the "Save draft" button does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) return;
  var status = document.getElementById("autosave-status");
  var url = form.getAttribute("data-autosave");
  var busy = false;
  function snapshot() {
    var data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    return new URLSearchParams(data).toString();
  }
  var last = snapshot();
  function say(text) { if (status) status.textContent = text; }
  function save() {
    var now = snapshot();
    if (busy || now === last) return;
    busy = true;
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (result) {
        if (!result.ok) { say("Not saved yet: " + (result.data.error || "check the form.")); return; }
        last = now;
        if (result.data.autosave_url && result.data.autosave_url !== url) {
          // The first save created the draft: from now on the form edits it.
          url = result.data.autosave_url;
          form.setAttribute("data-autosave", url);
          form.setAttribute("action", result.data.edit_url);
          if (window.history && history.replaceState) history.replaceState(null, "", result.data.edit_url);
        }
        say("Draft saved at " + result.data.saved_at + ".");
      })
      .catch(function () { say("Not saved: the server could not be reached."); })
      .then(function () { busy = false; });
  }
  setInterval(save, 5000);
})();

// The text message's length and segments, as the network counts them (lib/segments.py): GSM-7
// when every character is in the GSM alphabet (the extension table's count two), else UCS-2.
(function () {
  "use strict";
  var field = document.querySelector("textarea[data-segments]");
  if (!field) return;
  var out = document.getElementById(field.getAttribute("data-segments"));
  var basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var extension = "\f^{}\\[~]|€";
  function count(text) {
    // Each character's width (septets, or UTF-16 code units); a segment never splits one.
    var widths = [], gsm = true, i, c;
    for (i = 0; i < text.length; i++) {
      c = text.charAt(i);
      if (basic.indexOf(c) >= 0) widths.push(1);
      else if (extension.indexOf(c) >= 0) widths.push(2);
      else { gsm = false; break; }
    }
    if (!gsm) {
      widths = [];
      for (i = 0; i < text.length; i++) {
        var code = text.charCodeAt(i);
        if (code >= 0xD800 && code <= 0xDBFF && i + 1 < text.length) { widths.push(2); i++; }
        else widths.push(1);
      }
    }
    var length = widths.reduce(function (a, b) { return a + b; }, 0);
    var single = gsm ? 160 : 70, part = gsm ? 153 : 67, segments = length ? 1 : 0;
    if (length > single) {
      var used = 0;
      widths.forEach(function (w) {
        if (used + w > part) { segments += 1; used = 0; }
        used += w;
      });
    }
    return { length: length, segments: segments, coding: gsm ? "GSM-7" : "UCS-2" };
  }
  function show() {
    var text = field.value.trim();
    if (!text) { out.textContent = "No text written: the title and the web copy's address are sent."; return; }
    var c = count(text);
    out.textContent = c.length + " characters, " + c.segments + " segment" +
      (c.segments === 1 ? "" : "s") + " (" + c.coding + ").";
  }
  field.addEventListener("input", show);
  show();
})();

// The Markdown toolbar and the live preview (the server renders and sanitizes the body exactly
// as the email will show it). Without JavaScript the toolbar stays hidden and Preview works.
(function () {
  "use strict";
  var form = document.querySelector("form.composer");
  var body = document.getElementById("id_body");
  if (!form || !body || !window.fetch) return;
  var toolbar = document.querySelector(".md-toolbar");
  var preview = document.getElementById("live-preview");
  var format = document.getElementById("id_body_format");
  function markdown() { return !format || format.value === "markdown"; }
  function wrap(before, after, placeholder) {
    var start = body.selectionStart, end = body.selectionEnd;
    var chosen = body.value.slice(start, end) || placeholder;
    body.setRangeText(before + chosen + after, start, end, "select");
    body.setSelectionRange(start + before.length, start + before.length + chosen.length);
    body.focus();
    body.dispatchEvent(new Event("input"));
  }
  function prefixLines(prefix) {
    var start = body.value.lastIndexOf("\n", body.selectionStart - 1) + 1;
    var end = body.selectionEnd;
    var lines = body.value.slice(start, end).split("\n").map(function (l) { return prefix + l; });
    body.setRangeText(lines.join("\n"), start, end, "end");
    body.focus();
    body.dispatchEvent(new Event("input"));
  }
  var actions = {
    bold: function () { wrap("**", "**", "bold text"); },
    italic: function () { wrap("_", "_", "italic text"); },
    heading: function () { prefixLines("## "); },
    link: function () { wrap("[", "](https://)", "link text"); },
    list: function () { prefixLines("- "); },
    quote: function () { prefixLines("> "); },
    image: function () { wrap("![", "](paste the address from the media library)", "description"); }
  };
  if (toolbar) {
    toolbar.hidden = !markdown();
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-md]");
      if (button && actions[button.getAttribute("data-md")]) actions[button.getAttribute("data-md")]();
    });
  }
  if (format && toolbar) format.addEventListener("change", function () { toolbar.hidden = !markdown(); });
  if (!preview) return;
  preview.parentNode.hidden = false;
  var url = form.getAttribute("data-render");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]");
  var pending = null, last = null;
  function render() {
    if (body.value === last) return;
    last = body.value;
    var data = new FormData();
    data.append("body", body.value);
    data.append("body_format", format ? format.value : "markdown");
    fetch(url, { method: "POST", body: data, credentials: "same-origin",
                 headers: { "X-CSRFToken": token ? token.value : "" } })
      .then(function (response) { return response.json(); })
      .then(function (result) { preview.innerHTML = result.html; })  // sanitized by the server
      .catch(function () {});
  }
  body.addEventListener("input", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(render, 400);
  });
  if (format) format.addEventListener("change", function () { last = null; render(); });
  render();
})();
