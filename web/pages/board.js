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

  // The voice: each call once, in order, a new one only after the one playing ended.
  // A browser that plays no sound before a tap (autoplay blocked) gets one button, once.
  var spoken = null, queue = [], playing = false, blocked = false;
  Qms.spoken = [];

  function speak(calls) {
    if (spoken === null) {
      // Calls made before the page opened are shown, not spoken.
      spoken = calls.length ? calls[calls.length - 1].n : 0;
      return;
    }
    calls.forEach(function (c) {
      if (c.n > spoken) { queue.push(c); spoken = c.n; }
    });
    playNext();
  }

  function play(url, ended, refused) {
    var audio = new Audio(url);
    audio.onended = ended;
    audio.onerror = ended;
    var started = audio.play();
    if (started && started.catch) started.catch(function (e) {
      if (e && e.name === "NotAllowedError") refused(); else ended();
    });
  }

  function playNext() {
    if (playing || blocked || !queue.length) return;
    playing = true;
    var call = queue[0];
    play(call.url, function () {
      queue.shift();
      Qms.spoken.push(call.n);
      playing = false;
      playNext();
    }, function () {
      playing = false;
      askForSound();
    });
  }

  function askForSound() {
    blocked = true;
    $("sound").hidden = false;
  }

  $("sound").addEventListener("click", function () {
    blocked = false;
    $("sound").hidden = true;
    playNext();
  });
  play("/board/voice/silence.wav", function () {}, askForSound);

  Qms.follow("/board/events", "board", function (view) {
    lost = false;
    // A state older than the one shown (a stream of an earlier connection) is ignored.
    if (view.seq < shownSeq) return;
    shownSeq = view.seq;
    draw(view);
    speak(view.voice);
  }, function () {
    lost = true;
    showStale("");
  });
})();
