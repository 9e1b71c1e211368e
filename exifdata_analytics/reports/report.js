// report.html's own script (inlined; no library): tables sort by any column and filter by typed
// text, numeric parameters switch between value and count order, example thumbnails are filled in.
(function () {
  "use strict";
  function key(td) {
    var v = td.getAttribute("data-v");
    return v !== null ? parseFloat(v) : td.textContent.trim().toLowerCase();
  }
  function sortTable(table, col, dir) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      if (typeof x === "number" && typeof y === "number") return dir * (x - y);
      return dir * String(x).localeCompare(String(y), undefined, {numeric: true});
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.setAttribute("aria-sort", i === col ? (dir > 0 ? "ascending" : "descending") : "none");
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.data"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (th.classList.contains("x")) return;
      th.tabIndex = 0;
      th.title = "sort by " + (th.textContent || "this column");
      function sort() {
        var numeric = th.classList.contains("n");
        var now = th.getAttribute("aria-sort");
        var dir = now === "ascending" ? -1 : now === "descending" ? 1 : (numeric ? -1 : 1);
        sortTable(table, i, dir);
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (ev) { if (ev.key === "Enter") sort(); });
    });
    var n = table.tBodies[0].rows.length;
    if (n > 8) {
      var input = document.createElement("input");
      input.type = "search";
      input.className = "filter";
      input.placeholder = "Filter " + n.toLocaleString() + " rows";
      input.addEventListener("input", function () {
        var q = input.value.trim().toLowerCase();
        Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
          r.hidden = q !== "" && r.textContent.toLowerCase().indexOf(q) < 0;
        });
      });
      table.parentNode.insertBefore(input, table);
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("button[data-order]"), function (button) {
    button.addEventListener("click", function () {
      var table = button.parentNode.nextElementSibling;
      while (table && !(table.tagName === "TABLE" && table.classList.contains("data"))) table = table.nextElementSibling;
      if (!table) return;
      if (button.getAttribute("data-order") === "value") sortTable(table, 0, 1);
      else sortTable(table, 1, -1);
    });
  });
  var block = document.getElementById("thumbs");
  var thumbs = block ? JSON.parse(block.textContent) : {};
  Array.prototype.forEach.call(document.querySelectorAll("img[data-thumb]"), function (img) {
    var src = thumbs[img.getAttribute("data-thumb")];
    if (src) img.src = src; else img.remove();
  });
})();
