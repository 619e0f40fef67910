/* stepup's "Call me instead" button: held (disabled) with a live countdown until its
   workflow step is due, then enabled. Rendered enabled, with the seconds left in its label,
   so without this script a press that comes too early is told by the server how long is
   left. No framework and no inline script, so a Content-Security-Policy of
   script-src 'self' allows it. */
(function () {
  "use strict";

  var button = document.getElementById("next-step");
  if (!button) { return; }
  var wait = parseInt(button.getAttribute("data-wait"), 10) || 0;
  var due = Date.now() + 1000 * wait;
  var pattern = button.getAttribute("data-pattern"), label = button.getAttribute("data-label");
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function tick() {
    var left = Math.ceil((due - Date.now()) / 1000);
    if (left <= 0) {
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = pattern.replace("{seconds}", numbers.format(left));
    setTimeout(tick, 250);
  }

  tick();
})();
