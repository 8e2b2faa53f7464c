// The console's only script: the live message list (new rows at the
// top, changed rows redrawn, gone ones removed), and a confirmation
// before a form that deletes. Every page works without it.
(function () {
  "use strict";
  var list = document.getElementById("messages");
  var url = list && list.getAttribute("data-live");
  if (url && window.EventSource) {
    var es = new EventSource(url);
    var note = document.getElementById("live");
    if (note) { note.hidden = false; }
    es.onopen = function () { document.body.setAttribute("data-live", "open"); };
    es.onerror = function () { document.body.setAttribute("data-live", "reconnecting"); };
    // A row is HTML the console rendered with html/template.
    var parse = function (html) {
      var tmp = document.createElement("tbody");
      tmp.innerHTML = html;
      return tmp.firstElementChild;
    };
    es.addEventListener("delivery", function (e) {
      var row = parse(e.data);
      if (!row || !row.id || document.getElementById(row.id)) { return; }
      list.tBodies[0].insertBefore(row, list.tBodies[0].firstChild);
      var empty = document.getElementById("empty");
      if (empty) { empty.parentNode.removeChild(empty); }
    });
    // A change (flags, a deletion, a move away) redraws or removes the row.
    es.addEventListener("mail-change", function (e) {
      var row = parse(e.data);
      var old = row && row.id && document.getElementById(row.id);
      if (!old) { return; }
      if (row.hasAttribute("data-gone")) {
        old.parentNode.removeChild(old);
      } else {
        old.parentNode.replaceChild(row, old);
      }
    });
  }
  document.addEventListener("submit", function (e) {
    var q = e.target.getAttribute("data-confirm");
    if (q && !window.confirm(q)) { e.preventDefault(); }
  });
})();
