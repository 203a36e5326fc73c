// camaudit report: search the device appendix, open a device a link points to.
// Reads text only (textContent), never parses or inserts HTML, so device strings stay text.
(function () {
  "use strict";
  var list = document.getElementById("device-list");
  if (!list) { return; }
  var entries = list.getElementsByClassName("dev");
  var filter = document.getElementById("device-filter");
  var only = document.getElementById("only-findings");
  var shown = document.getElementById("device-shown");
  var expand = document.getElementById("expand");
  var texts = null; // lower-cased text of each entry, read on the first search
  var timer = null;
  var OPEN_AT_MOST = 10; // a search this narrow opens its matches (a hash is inside them)
  var EXPAND_AT_MOST = 1000; // opening more at once would stall the page

  function apply() {
    var needle = filter.value.trim().toLowerCase();
    if (needle && texts === null) {
      texts = Array.prototype.map.call(entries, function (e) {
        return e.textContent.toLowerCase();
      });
    }
    var count = 0;
    var matches = [];
    for (var i = 0; i < entries.length; i += 1) {
      var entry = entries[i];
      var match = !needle || texts[i].indexOf(needle) !== -1;
      if (only.checked && entry.getAttribute("data-f") === "0") { match = false; }
      entry.hidden = !match;
      if (match) { count += 1; matches.push(entry); }
    }
    if (needle && matches.length <= OPEN_AT_MOST) {
      matches.forEach(function (e) { e.open = true; });
    }
    shown.textContent = count + " of " + entries.length + " devices shown";
  }
  function later() {
    if (timer !== null) { clearTimeout(timer); }
    timer = setTimeout(apply, 120);
  }
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (target && target.classList.contains("dev")) {
      if (target.hidden) { filter.value = ""; only.checked = false; apply(); }
      target.open = true;
      target.scrollIntoView();
    }
  }
  filter.addEventListener("input", later);
  only.addEventListener("change", apply);
  expand.addEventListener("click", function () {
    var visible = Array.prototype.filter.call(entries, function (e) { return !e.hidden; });
    if (visible.length > EXPAND_AT_MOST) {
      shown.textContent = visible.length + " devices shown: search to narrow them to "
        + EXPAND_AT_MOST + " or fewer before expanding";
      return;
    }
    visible.forEach(function (e) { e.open = true; });
  });
  window.addEventListener("hashchange", reveal);
  apply();
  reveal();
  document.documentElement.setAttribute("data-ready", "1");
}());
