// The rating tablet: shows what the desk's screen says (welcome, the three faces, thanks)
// and sends one tap. The server's model times the screens out.
"use strict";
(function () {
  var $ = Qms.$, text = Qms.text;
  var counter = document.body.dataset.counter;
  var shown = null;
  var lost = false;

  function draw(view) {
    shown = view;
    text($("office"), view.office);
    text($("label"), view.label || "");
    ["idle", "ask", "thanks"].forEach(function (name) { $(name).hidden = view.screen !== name; });
    showStale();
  }

  function showStale() {
    var band = $("stale");
    var words = lost ? Qms.LOST : "";
    text(band, words);
    band.hidden = words === "";
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-rating]");
    if (!b || !shown || shown.screen !== "ask") return;
    // The thank-you shows at once; the server keeps the one rating.
    draw({ screen: "thanks", office: shown.office, label: shown.label });
    Qms.send("/rating/" + counter + "/press", { rating: b.dataset.rating }, function () {});
  });

  Qms.follow("/rating/" + counter + "/events", "screen", function (view) {
    lost = false;
    draw(view);
  }, function () {
    lost = true;
    showStale();
  });
})();
