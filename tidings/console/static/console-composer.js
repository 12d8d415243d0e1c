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
