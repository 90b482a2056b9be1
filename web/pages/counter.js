// The officer's console: draws the desk's screen as the server pushes it and sends each
// press, naming the screen it was made on. While an action waits for the authority every
// button waits too; the server drops a repeat, so a double click calls one citizen.
"use strict";
(function () {
  var $ = Qms.$, text = Qms.text, list = Qms.list, line = Qms.line;
  var counter = document.body.dataset.counter;
  var screen = null;
  var sending = false;
  var lost = false;

  // The dossier code typed goes with the press that ends the service, then clears.
  var endsService = { call_next: true, complete: true };
  var chosenOfficer = null;

  function press(body) {
    if (!screen || sending || screen.busy || !screen.online) return;
    body.turn = screen.turn;
    if (endsService[body.action] && screen.serving) {
      body.dossier = $("dossier").value.trim() || null;
      $("dossier").value = "";
    }
    sending = true;
    enable();
    Qms.send("/counter/" + counter + "/press", body, function (answer) {
      sending = false;
      if (answer.error) showResult(answer.error, true);
      enable();
    });
  }

  function showResult(words, error) {
    text($("result"), words);
    $("result").classList.toggle("error", error);
  }

  function enable() {
    var waiting = sending || !screen || screen.busy || !screen.online;
    var serving = !!(screen && screen.serving);
    document.querySelectorAll("button[data-action], button[data-ticket], button[data-target], #pin-form button").forEach(function (b) {
      b.disabled = waiting || (b.hasAttribute("data-needs-serving") && !serving);
    });
    document.body.classList.toggle("busy", waiting);
  }

  function ticketRow(action, words) {
    return function (li, t) {
      var waited = t.priority ? "Chờ " + t.waited + " · Ưu tiên: " + t.priority : "Chờ " + t.waited;
      line(li, [["label", t.label], ["procedure", t.procedure], ["waited", waited]]);
      var button = li.querySelector("button") || li.appendChild(document.createElement("button"));
      button.dataset.ticket = t.id;
      button.dataset.act = action;
      text(button, words);
    };
  }

  function choices(el, items, key) {
    el.textContent = "";
    items.forEach(function (item) {
      var b = document.createElement("button");
      b.dataset.target = item[0];
      b.dataset.kind = key;
      b.textContent = item[1];
      el.appendChild(b);
    });
  }

  function drawSignIn(s) {
    text($("officer"), s.officer ? "Cán bộ: " + s.officer : "");
    $("officer").hidden = !s.officer;
    $("sign_out").hidden = !s.officer;
    var dialog = $("officer-sign-in");
    if (s.sign_in && !dialog.open) {
      choices($("officers"), s.officers, "officer");
      dialog.showModal();
      $("pin").focus();
    } else if (!s.sign_in && dialog.open) {
      dialog.close();
    }
    if (s.sign_in) {
      text($("sign-in-result"), s.busy ? "Đang chờ máy chủ hàng đợi trả lời…" : s.result ? s.result.text : "");
      $("sign-in-result").classList.toggle("error", !s.busy && !!s.result && s.result.error);
    }
    document.querySelectorAll("#officers button").forEach(function (b) {
      b.classList.toggle("primary", b.dataset.target === chosenOfficer);
    });
  }

  function draw(s) {
    screen = s;
    drawSignIn(s);
    $("dossier-field").hidden = !s.serving;
    text($("procedures"), s.procedures);
    text($("clock"), s.clock);
    text($("state"), s.sign_in ? "Chưa có cán bộ" : s.paused ? "Đang tạm dừng" : "Đang nhận công dân");
    $("state").classList.toggle("paused", s.paused);
    var serving = s.serving;
    // The words of the Slint console, so that both consoles read the same.
    text($("serving-title"), s.paused ? "Quầy đang tạm dừng" : serving ? "Đang phục vụ" : "Quầy đang trống");
    text($("serving-label"), serving ? serving.label : "—");
    text($("serving-procedure"), serving ? serving.procedure + " · đã " + serving.served_for : "Bấm F1 để gọi công dân tiếp theo");
    text($("serving-priority"), serving && serving.priority ? "Ưu tiên: " + serving.priority : "");
    $("pause_or_resume").firstChild.textContent = s.paused ? "Tiếp tục " : "Tạm dừng ";
    text($("waiting-count"), "(" + s.waiting.length + ")");
    list($("waiting"), s.waiting, ticketRow("call", "Gọi"));
    list($("absent"), s.absent, ticketRow("reactivate", "Vào lại hàng"));
    list($("alerts"), s.alerts, function (li, a) { text(li, "⚠ " + a); });
    list($("unprinted"), s.unprinted, function (li, u) {
      line(li, [["procedure", "⚠ Phiếu số " + u.label + " có thể chưa in ra"]]);
      var button = li.querySelector("button") || li.appendChild(document.createElement("button"));
      button.dataset.ticket = u.ticket;
      button.dataset.printer = u.printer;
      button.dataset.act = "reprint";
      text(button, "In lại");
    });
    if (s.busy) showResult("Đang chờ máy chủ hàng đợi trả lời…", false);
    else if (s.result) showResult(s.result.text, s.result.error);
    else if (!sending) showResult("", false);
    var dialog = $("transfer");
    if (s.transfer && !dialog.open) {
      text($("transfer-title"), "Chuyển số " + (serving ? serving.label : "") + " sang");
      choices($("transfer-procedures"), s.transfer.procedures, "procedure");
      choices($("transfer-counters"), s.transfer.counters, "counter");
      if (!s.transfer.counters.length) text($("transfer-counters"), "Không có quầy khác phục vụ thủ tục này");
      dialog.showModal();
    } else if (!s.transfer && dialog.open) {
      dialog.close();
    }
    showStale();
    enable();
  }

  function showStale() {
    var band = $("stale");
    var words = lost ? Qms.LOST : screen && !screen.online ? "MẤT KẾT NỐI với máy chủ hàng đợi — chưa gọi được" : "";
    text(band, words);
    band.hidden = words === "";
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (!b || b.disabled || b.form) return;
    if (b.dataset.action) press({ action: b.dataset.action });
    else if (b.dataset.act === "reprint") press({ action: "reprint", ticket: b.dataset.ticket, printer: b.dataset.printer });
    else if (b.dataset.act) press({ action: b.dataset.act, ticket: b.dataset.ticket });
    else if (b.dataset.kind === "procedure") press({ action: "transfer_to_procedure", procedure: b.dataset.target });
    else if (b.dataset.kind === "counter") press({ action: "transfer_to_counter", counter: Number(b.dataset.target) });
    else if (b.dataset.kind === "officer") {
      chosenOfficer = b.dataset.target;
      drawSignIn(screen);
      $("pin").focus();
    }
  });

  $("pin-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!chosenOfficer || !$("pin").value) return;
    press({ action: "sign_in", officer: chosenOfficer, pin: $("pin").value });
    $("pin").value = "";
  });
  // A scanner ends the code with Enter: it stays in the field for the officer's press.
  $("dossier").addEventListener("keydown", function (e) {
    if (e.key === "Enter") e.preventDefault();
  });

  // The native console's keys. The browser's own use of F1–F6 (help, find, reload) is
  // stopped on this page so that a key never reloads the console mid-call.
  var keys = { F1: "call_next", F2: "recall", F3: "no_show", F4: "open_transfer", F5: "complete", F6: "pause_or_resume" };
  document.addEventListener("keydown", function (e) {
    var action = keys[e.key];
    if (screen && screen.sign_in) return;
    if (e.key === "Escape" && screen && screen.transfer) {
      e.preventDefault();
      press({ action: "close_transfer" });
    } else if (action) {
      e.preventDefault();
      var b = $(action);
      if (!b.disabled) press({ action: action });
    }
  });
  $("transfer").addEventListener("cancel", function (e) { e.preventDefault(); });
  $("officer-sign-in").addEventListener("cancel", function (e) { e.preventDefault(); });

  Qms.follow("/counter/" + counter + "/events", "screen", function (s) {
    lost = false;
    draw(s);
  }, function () {
    lost = true;
    showStale();
  });
  enable();
})();
