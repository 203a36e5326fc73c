// camaudit report: sort and filter the device table. Reads cell text only (textContent),
// never parses or inserts HTML, so device strings stay text.
(function () {
  "use strict";
  var table = document.getElementById("device-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var filter = document.getElementById("device-filter");
  var only = document.getElementById("only-findings");
  var shown = document.getElementById("device-shown");

  function ipKey(text) {
    var parts = text.trim().split(".");
    if (parts.length !== 4) { return text; }
    return parts.map(function (p) { return ("000" + p).slice(-3); }).join(".");
  }
  function key(row, index, type) {
    var cell = row.cells[index];
    var raw = cell.getAttribute("data-sort");
    if (type === "num") { return parseFloat(raw === null ? cell.textContent : raw) || 0; }
    if (type === "ip") { return ipKey(cell.textContent); }
    return cell.textContent.trim().toLowerCase();
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
    th.addEventListener("click", function () {
      var type = th.getAttribute("data-type") || "text";
      var dir = th.classList.contains("asc") ? -1 : 1;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
        h.classList.remove("asc", "desc");
      });
      th.classList.add(dir === 1 ? "asc" : "desc");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var ka = key(a, index, type), kb = key(b, index, type);
        return (ka < kb ? -1 : ka > kb ? 1 : 0) * dir;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  function apply() {
    var needle = filter.value.trim().toLowerCase();
    var count = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var match = row.textContent.toLowerCase().indexOf(needle) !== -1;
      if (only.checked && row.getAttribute("data-findings") === "0") { match = false; }
      row.hidden = !match;
      if (match) { count += 1; }
    });
    shown.textContent = count + " of " + body.rows.length + " shown";
  }
  filter.addEventListener("input", apply);
  only.addEventListener("change", apply);
  apply();
}());
