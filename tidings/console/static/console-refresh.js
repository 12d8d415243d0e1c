// Pages that change while a send runs reload themselves every few seconds, and say so; a
// button stops it (WCAG 2.2.1: the reader controls anything that moves on its own).
(function () {
  "use strict";
  var box = document.querySelector("[data-refresh-seconds]");
  if (!box) return;
  var seconds = parseInt(box.getAttribute("data-refresh-seconds"), 10) || 5;
  var timer = window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  var button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.textContent = "Stop updating this page";
  button.addEventListener("click", function () {
    window.clearTimeout(timer);
    button.remove();
    box.querySelector(".refresh-note").textContent = "Updates stopped: reload the page to see new figures.";
  });
  box.appendChild(button);
})();
