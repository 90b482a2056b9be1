// What every page's script shares: drawing text and lists in place (only what changed is
// touched, so a page can be redrawn many times a second), following the server's event
// stream, and sending an action with the session's CSRF token.
"use strict";
var Qms = (function () {
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

  // Calls onState with each state of the stream at url; onLost when the stream breaks
  // (EventSource then reconnects by itself).
  function follow(url, name, onState, onLost) {
    var events = new EventSource(url);
    events.addEventListener(name, function (e) { onState(JSON.parse(e.data)); });
    events.onerror = onLost;
    return events;
  }

  // Sends an action; calls done with the server's answer, or with {error} in words.
  function send(url, body, done) {
    var request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("Content-Type", "application/json");
    request.setRequestHeader("X-QMS-CSRF", document.body.dataset.csrf);
    request.onload = function () {
      var answer;
      try { answer = JSON.parse(request.responseText); } catch (e) { answer = {}; }
      if (request.status === 401) { location.reload(); return; }
      if (request.status !== 200 && !answer.error) answer.error = "Máy chủ trả lời " + request.status;
      done(answer);
    };
    request.onerror = function () { done({ error: "Không gửi được tới máy chủ; hãy bấm lại." }); };
    request.send(JSON.stringify(body));
  }

  var LOST = "MẤT KẾT NỐI — thông tin trên màn hình có thể chưa cập nhật";

  return { $: $, text: text, list: list, line: line, follow: follow, send: send, LOST: LOST };
})();
