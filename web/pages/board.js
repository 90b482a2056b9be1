// The hall board: draws each state the server pushes. Every word comes from the server;
// nothing here decides anything about the queue. EventSource reconnects by itself.
"use strict";
(function () {
  var shownSeq = -1;
  var lost = false;
  var $ = Qms.$, text = Qms.text, list = Qms.list, line = Qms.line;

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
    if (lost) words = Qms.LOST;
    text(band, words);
    band.hidden = words === "";
  }

  Qms.follow("/board/events", "board", function (view) {
    lost = false;
    // A state older than the one shown (a stream of an earlier connection) is ignored.
    if (view.seq < shownSeq) return;
    shownSeq = view.seq;
    draw(view);
  }, function () {
    lost = true;
    showStale("");
  });
})();
