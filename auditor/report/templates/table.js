// Filter and sort a findings table in place: no library, nothing fetched. Rows carry their
// status and reasons in data attributes; the count line says how many rows are shown.
(function () {
  "use strict";
  document.querySelectorAll("table[data-filterable]").forEach(function (table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var form = document.getElementById(table.getAttribute("data-controls"));
    var count = document.getElementById(table.getAttribute("data-count"));
    var status = form.querySelector("[name=status]");
    var reason = form.querySelector("[name=reason]");
    var search = form.querySelector("[name=search]");

    function apply() {
      var s = status.value, r = reason.value, q = search.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var reasons = (row.getAttribute("data-reasons") || "").split(";");
        var ok = (!s || row.getAttribute("data-status") === s) &&
                 (!r || reasons.indexOf(r) >= 0) &&
                 (!q || row.textContent.toLowerCase().indexOf(q) >= 0);
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count.textContent = shown.toLocaleString("en-US") + " of " +
        rows.length.toLocaleString("en-US") + " lines shown";
    }

    function sortBy(th, index) {
      var numeric = th.classList.contains("num");
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th[aria-sort]").forEach(function (h) {
        h.setAttribute("aria-sort", "none");
      });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = a.cells[index].getAttribute("data-value") || a.cells[index].textContent;
        var y = b.cells[index].getAttribute("data-value") || b.cells[index].textContent;
        var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return ascending ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    }

    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = th.querySelector("button");
      if (button) { button.addEventListener("click", function () { sortBy(th, index); }); }
    });
    [status, reason].forEach(function (el) { el.addEventListener("change", apply); });
    search.addEventListener("input", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    apply();
  });
})();
