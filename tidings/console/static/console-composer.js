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
