// The hall board: draws each state the server pushes. Every word comes from the server;
// nothing here decides anything about the queue. EventSource reconnects by itself.
"use strict";
(function () {
  var shownSeq = -1;
  var lost = false;
  var $ = function (id) { return document.getElementById(id); };

  function text(el, value) {
    if (el.textContent !== value) el.textContent = value;
  }

  function list(el, items, make) {
    while (el.children.length > items.length) el.removeChild(el.lastChild);
    items.forEach(function (item, i) {
      var li = el.children[i];
      if (!li) { li = document.createElement("li"); el.appendChild(li); }
      make(li, item);
    });
  }

  function line(li, parts) {
    while (li.children.length > parts.length) li.removeChild(li.lastChild);
    parts.forEach(function (part, i) {
      var span = li.children[i];
      if (!span) { span = document.createElement("span"); li.appendChild(span); }
      if (span.className !== part[0]) span.className = part[0];
      text(span, part[1]);
    });
  }

  function draw(view) {
    text($("office"), view.office);
    text($("date"), view.date);
    text($("clock"), view.clock);
    var calling = view.calling;
    text($("heading"), calling ? calling.heading : "XIN MỜI SỐ");
    text($("number"), calling ? calling.label : "—");
    text($("to"), calling ? "→ " + calling.counter : "");
    $("calling").classList.toggle("flash", !!view.highlight);
    list($("recent"), view.recent, function (li, c) {
      line(li, [["label", c.label], ["counter", c.counter]]);
    });
    list($("counters"), view.counters, function (li, c) {
      li.className = c.state;
      line(li, [["name", c.name], ["shows", c.shows]]);
    });
    list($("waiting"), view.waiting, function (li, w) {
      line(li, [["name", w.name], ["line", w.line]]);
    });
    list($("notices"), view.notices, function (li, n) { text(li, "⚠ " + n); });
    text($("notice"), view.notice);
    showStale(view.stale);
  }

  function showStale(words) {
    var band = $("stale");
    if (lost) words = "MẤT KẾT NỐI — thông tin trên bảng có thể chưa cập nhật";
    text(band, words);
    band.hidden = words === "";
  }

  var events = new EventSource("/board/events");
  events.addEventListener("board", function (e) {
    var view = JSON.parse(e.data);
    lost = false;
    // A state older than the one shown (a stream of an earlier connection) is ignored.
    if (view.seq < shownSeq) return;
    shownSeq = view.seq;
    draw(view);
  });
  events.onerror = function () {
    lost = true;
    showStale("");
  };
})();
