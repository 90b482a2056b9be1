// The citizen's ticket on their phone: drawn from what the server pushes. When the ticket
// is called, the phone vibrates and chimes once the citizen has allowed it with one tap
// (browsers allow sound and vibration only after a tap on the page).
"use strict";
(function () {
  var $ = Qms.$, text = Qms.text;
  // "/t/{token}" at the office, "/{site}/t/{token}" at the city.
  var base = document.body.dataset.base;
  var lastCall = null;
  var audio = null;
  var lost = false;

  function chime() {
    if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
    if (!audio) return;
    [660, 880].forEach(function (hz, i) {
      var tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, audio.currentTime + i * 0.35);
      gain.gain.exponentialRampToValueAtTime(0.5, audio.currentTime + i * 0.35 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + i * 0.35 + 0.3);
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + i * 0.35);
      tone.stop(audio.currentTime + i * 0.35 + 0.32);
    });
  }

  function draw(t) {
    // When the ticket first showed, for anyone timing the page.
    if (!performance.getEntriesByName("ticket-shown").length) performance.mark("ticket-shown");
    document.body.className = "ticket " + t.state;
    if (t.label) text($("label"), t.label);
    text($("procedure"), t.procedure || "");
    text($("headline"), t.headline || "Phiếu đã hết hạn");
    text($("detail"), t.detail || "");
    $("rating").hidden = !t.ask_rating;
    if (t.call && t.call !== lastCall && lastCall !== undefined) chime();
    lastCall = t.call;
    $("stale").hidden = true;
  }

  $("alerts").addEventListener("click", function () {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (Context) { audio = new Context(); audio.resume(); }
    if (navigator.vibrate) navigator.vibrate(50);
    text($("alerts"), "Đã bật âm thanh và rung");
    $("alerts").disabled = true;
  });

  $("rating").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-rating]");
    if (!b) return;
    $("rating").hidden = true;
    var request = new XMLHttpRequest();
    request.open("POST", base + "/rate");
    request.setRequestHeader("Content-Type", "application/json");
    request.send(JSON.stringify({ rating: b.dataset.rating }));
    text($("detail"), "Cảm ơn ông/bà đã đánh giá.");
  });

  // The first state only sets what was already called: no chime for an old call.
  lastCall = undefined;
  Qms.follow(base + "/events", "ticket", function (t) {
    lost = false;
    if (lastCall === undefined) { lastCall = t.call || null; }
    draw(t);
  }, function () {
    lost = true;
    text($("stale"), "Mất kết nối — đang thử lại…");
    $("stale").hidden = false;
  });
})();
