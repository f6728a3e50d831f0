"""GET /chat: a page to talk to the official account's bot as a follower, without WeChat.

It sends through POST mp/send and shows everything exchanged (replies, and customer-service
messages arriving later: it asks mp/messages every two seconds). URLs are relative, so it works
at /chat and under a mount (/_sim/chat). Self-contained: no external assets; every text shown
goes through textContent."""

from __future__ import annotations

from aiohttp import web

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>公众号聊天模拟</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; background: #ededed; color: #111; }
  header, .tools, #compose, #status { padding: 8px 12px; background: #f7f7f7; }
  header { display: flex; gap: 12px; flex-wrap: wrap; align-items: center; border-bottom: 1px solid #ddd; }
  #window { color: #576b95; }
  #log { height: calc(100vh - 230px); min-height: 200px; overflow-y: auto; padding: 12px; }
  .msg { max-width: 75%; margin: 6px 0; padding: 6px 10px; border-radius: 6px; background: #fff;
         white-space: pre-wrap; word-break: break-word; }
  .msg.in { margin-left: auto; background: #95ec69; }
  .msg.custom { border-left: 3px solid #576b95; }
  .msg small { display: block; color: #888; }
  #compose { display: flex; gap: 8px; border-top: 1px solid #ddd; }
  #compose input { flex: 1; }
  .tools { display: flex; gap: 6px; flex-wrap: wrap; }
  #status { margin: 0; color: #666; min-height: 1.5em; }
</style>
</head>
<body>
<header>
  <label>用户 <input id="user" value="alice" maxlength="64" required></label>
  <label>模式
    <select id="mode">
      <option value="">按公众号配置</option>
      <option value="safe">安全模式（加密）</option>
      <option value="compatible">兼容模式（明文和密文）</option>
      <option value="plain">明文模式</option>
    </select>
  </label>
  <span id="window"></span>
</header>
<main id="log" aria-live="polite"></main>
<form id="compose">
  <input id="text" placeholder="输入消息，回车发送" autocomplete="off" maxlength="2048">
  <button type="submit">发送</button>
</form>
<div class="tools">
  <button type="button" id="subscribe">关注</button>
  <button type="button" id="unsubscribe">取消关注</button>
  <input id="scene" placeholder="二维码场景值" size="12"><button type="button" id="scan">扫码</button>
  <input id="key" placeholder="菜单 key" size="12"><button type="button" id="click">点击菜单</button>
  <button type="button" id="location">发送位置</button>
</div>
<p id="status" role="status"></p>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const WHO = { in: "我", reply: "公众号回复", custom: "客服消息" };
let shown = 0;

function user() { return $("user").value.trim(); }

async function send(payload) {
  const mode = $("mode").value;
  const body = Object.assign({ user: user() }, payload);
  if (mode) body.mode = mode;
  $("status").textContent = "发送中…";
  try {
    const response = await fetch("mp/send", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) {
      $("status").textContent = "没有发出：" + data.error;
    } else if (data.error) {
      const tried = `HTTP ${data.status}，${data.attempts} 次`;
      $("status").textContent = `公众号没有正常回答（${tried}）：${data.error}`;
    } else {
      const tried = `HTTP ${data.status}，${data.attempts} 次`;
      $("status").textContent = `已送达（${tried}）` + (data.reply ? "" : "，没有回复");
    }
  } catch (err) {
    $("status").textContent = "网络错误：" + err;
  }
  await refresh();
}

function describe(m) {
  const b = m.body || {};
  if (m.direction === "in") {
    if (m.msgtype === "text") return b.Content;
    if (m.msgtype === "location") return `[位置] ${b.Label || ""} (${b.Location_X}, ${b.Location_Y})`;
    if (m.msgtype === "event") return `[事件] ${b.Event}${b.EventKey ? " " + b.EventKey : ""}`;
    return `[${m.msgtype}]`;
  }
  if (m.msgtype === "text") return b.Content || b.content;
  if (m.msgtype === "news") {
    const articles = b.Articles || b.articles || [];
    return articles.map((a) => `[图文] ${a.Title || a.title} ${a.Url || a.url || ""}`).join("\\n");
  }
  if (m.msgtype === "link") return `[链接] ${b.title} ${b.url}`;
  if (m.msgtype === "miniprogrampage") return `[小程序] ${b.title} ${b.pagepath}`;
  if (m.msgtype === "transfer_customer_service") return "[转人工客服]";
  return `[${m.msgtype}]`;
}

function render(messages) {
  const log = $("log");
  if (messages.length < shown) { log.replaceChildren(); shown = 0; }
  for (const m of messages.slice(shown)) {
    const row = document.createElement("div");
    row.className = "msg " + m.direction;
    const meta = document.createElement("small");
    meta.textContent = `${WHO[m.direction] || m.direction} · ${m.at.slice(0, 19).replace("T", " ")}`;
    const text = document.createElement("div");
    text.textContent = describe(m);
    row.append(meta, text);
    log.append(row);
    log.scrollTop = log.scrollHeight;
  }
  shown = messages.length;
}

async function refresh() {
  const name = user();
  if (!name) return;
  try {
    const response = await fetch("mp/messages?user=" + encodeURIComponent(name));
    if (!response.ok || name !== user()) return;
    const data = await response.json();
    render(data.messages);
    const w = data.window;
    const follows = data.subscribed === false ? "未关注" : "已关注";
    const left = w.remaining === null ? "不限" : w.remaining;
    const open = w.open ? `客服消息窗口开放，还可发 ${left} 条` : "客服消息窗口关闭";
    $("window").textContent = `${follows} · ${open}`;
  } catch (err) {
    // the next poll tries again
  }
}

$("compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value;
  if (!text) return;
  $("text").value = "";
  send({ type: "text", content: text });
});
$("subscribe").addEventListener("click", () => send({ type: "event", event: "subscribe" }));
$("unsubscribe").addEventListener("click", () => send({ type: "event", event: "unsubscribe" }));
$("scan").addEventListener("click", () =>
  send({ type: "event", event: "subscribe", scene: $("scene").value }));
$("click").addEventListener("click", () =>
  send({ type: "event", event: "CLICK", event_key: $("key").value }));
$("location").addEventListener("click", () =>
  send({ type: "location", location: { x: 39.908823, y: 116.39747, label: "北京市东城区东长安街" } }));
$("user").addEventListener("change", () => { $("log").replaceChildren(); shown = 0; refresh(); });
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
"""


async def page(request: web.Request) -> web.Response:
    return web.Response(
        text=PAGE,
        content_type="text/html",
        charset="utf-8",
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"},
    )
