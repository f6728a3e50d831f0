// The live customer-service inbox (Server-Sent Events). Without this script the pages still
// work by reload. Data from followers and staff is only ever put in as text (textContent),
// never as markup.
(function () {
  "use strict";

  var loadedAt = Date.now();

  // "已等待 N 分钟" keeps counting; rows waiting too long are marked.
  function tickWaits() {
    var passed = Math.floor((Date.now() - loadedAt) / 1000);
    var table = document.getElementById("inbox-table");
    document.querySelectorAll(".waited[data-seconds]").forEach(function (el) {
      var seconds = parseInt(el.dataset.seconds, 10) + passed;
      var longWait = parseInt(el.dataset.longWait || (table && table.dataset.longWait), 10);
      el.textContent = (el.dataset.prefix || "") + Math.floor(seconds / 60) + " 分钟";
      if (isNaN(longWait)) return;
      var row = el.closest("tr");
      (row || el).classList.toggle("late", seconds > longWait);
    });
  }

  function setLiveState(text) {
    var state = document.getElementById("live-state");
    if (state) state.textContent = text;
  }

  function listen(url, handlers) {
    if (!window.EventSource) return null;
    var source = new EventSource(url);
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        handlers[name](data);
      });
    });
    source.addEventListener("error", function () {
      // The browser reconnects by itself (sending Last-Event-ID); CLOSED means it gave up
      // (signed out, or the server refused).
      if (source.readyState === EventSource.CLOSED) setLiveState("实时更新已断开，请刷新页面。");
    });
    return source;
  }

  // --- the inbox ----------------------------------------------------------------------------
  function startInbox(box) {
    var refreshing = false, again = false;
    function refreshRows() {
      if (refreshing) { again = true; return; }
      refreshing = true;
      fetch(box.dataset.rows, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.text();
        })
        .then(function (html) {
          // The server rendered (and escaped) the rows; parsing runs no script.
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("inbox-rows");
          var current = document.getElementById("inbox-rows");
          if (fresh && current) {
            current.replaceWith(document.importNode(fresh, true));
            loadedAt = Date.now();
            tickWaits();
          }
        })
        .catch(function () { setLiveState("列表更新失败，请刷新页面。"); })
        .then(function () {
          refreshing = false;
          if (again) { again = false; refreshRows(); }
        });
    }
    var connected = false;
    listen(box.dataset.stream, {
      inbox: function (data) {
        var count = document.getElementById("waiting-count");
        if (count && typeof data.waiting === "number") count.textContent = String(data.waiting);
        // A greeting after a reconnect: what changed meanwhile was not heard, so refresh.
        if (data.kind !== "hello" || connected) refreshRows();
        if (data.kind === "hello") { connected = true; setLiveState("实时更新中。"); }
      }
    });
  }

  // --- one conversation ---------------------------------------------------------------------
  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function startConversation(timeline) {
    function atBottom() {
      return timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40;
    }
    function add(node) {
      var follow = atBottom();
      timeline.appendChild(node);
      if (follow) timeline.scrollTop = timeline.scrollHeight;
    }
    timeline.scrollTop = timeline.scrollHeight;
    var url = timeline.dataset.stream + "?since=" + encodeURIComponent(timeline.dataset.since || "");
    listen(url, {
      message: function (m) {
        if (timeline.querySelector('.message[data-id="' + Number(m.id) + '"]')) return;
        var box = element("div", "message " + (m.direction === "in" ? "in" : "out"));
        box.dataset.id = String(Number(m.id));
        var meta = element("div", "muted", m.sender + " · " + m.at);
        if (m.failed) {
          meta.appendChild(document.createTextNode(" · "));
          meta.appendChild(element("span", "error", "未送达"));
        }
        box.appendChild(meta);
        box.appendChild(element("div", "body", m.content));
        add(box);
        if (m.direction !== "in" && m.sender.indexOf("客服") === 0 && !m.failed) {
          document.querySelectorAll(".waited").forEach(function (el) { el.remove(); });
        }
      },
      note: function (n) {
        add(element("div", "note", n.at + " " + n.text));
        var status = document.getElementById("conv-status");
        if (status) status.textContent = n.status_text;
        var agent = document.getElementById("conv-agent");
        if (agent) agent.textContent = n.agent || "未接入";
        var note = document.getElementById("live-note");
        if (note) note.hidden = false;
      }
    });
  }

  // Canned replies fill the reply box (the select sends one without JavaScript).
  function startCanned() {
    var text = document.getElementById("reply-text");
    var select = document.getElementById("canned-select");
    document.querySelectorAll(".canned-pick").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!text) return;
        text.value = button.dataset.text;
        if (select) select.value = "";
        text.focus();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var inbox = document.getElementById("inbox");
    if (inbox) startInbox(inbox);
    var timeline = document.getElementById("timeline");
    if (timeline) startConversation(timeline);
    startCanned();
    tickWaits();
    window.setInterval(tickWaits, 30000);
  });
})();
