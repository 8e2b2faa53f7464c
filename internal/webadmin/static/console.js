// The console's only script: the live message list, and a confirmation
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
    es.addEventListener("delivery", function (e) {
      // The row is HTML the console rendered with html/template.
      var tmp = document.createElement("tbody");
      tmp.innerHTML = e.data;
      var row = tmp.firstElementChild;
      if (!row || (row.id && document.getElementById(row.id))) { return; }
      list.tBodies[0].insertBefore(row, list.tBodies[0].firstChild);
      var empty = document.getElementById("empty");
      if (empty) { empty.parentNode.removeChild(empty); }
    });
  }
  document.addEventListener("submit", function (e) {
    var q = e.target.getAttribute("data-confirm");
    if (q && !window.confirm(q)) { e.preventDefault(); }
  });
})();
