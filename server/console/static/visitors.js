// The live visitors page: the site's visitors now, from /console/api/sites/{site}/visitors every
// POLL_MS, and the proactive message to a picked visitor (POST …/visitors/{visitor}/message with
// the session's CSRF token). Text only in the DOM (textContent). The page keeps the console's
// stream open as the inbox does: it is what keeps the operator online (server/console/presence.py),
// and only while an operator is online do visitors' widgets listen for proactive messages.
import { el, lang, money, showVisitor } from "./visitor.js";

const POLL_MS = 5000;
const WORDS = {
  ja: {
    returning: "リピーター", new: "新規", verified: "確認済み", pick: "メッセージ", to: "宛先: ",
    anonymous: "匿名", sent: "送信しました", failed: "送信できませんでした: ", sending: "送信中…", count: "人",
  },
  en: {
    returning: "Returning", new: "New", verified: "verified", pick: "Message", to: "To: ",
    anonymous: "Anonymous", sent: "Sent", failed: "Not sent: ", sending: "Sending…", count: " online",
  },
}[lang];

const main = document.getElementById("console-main");
const site = main.dataset.site;
const csrf = main.dataset.csrf;
const rows = document.getElementById("visitors-rows");
const table = document.getElementById("visitors-table");
const empty = document.getElementById("visitors-empty");
const count = document.getElementById("visitors-count");
const form = document.getElementById("proactive-form");
const to = document.getElementById("proactive-to");
const text = document.getElementById("proactive-text");
const status = document.getElementById("proactive-status");
const panel = document.getElementById("visitor-panel");
let picked = "";

function duration(seconds) {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return seconds + (lang === "ja" ? "秒" : " s");
  if (minutes < 60) return minutes + (lang === "ja" ? "分" : " min");
  return Math.floor(minutes / 60) + (lang === "ja" ? "時間" : " h") + " " + (minutes % 60) + (lang === "ja" ? "分" : " min");
}

function label(visitor) {
  return visitor.name ? visitor.name : WORDS.anonymous + " · " + visitor.visitor.slice(0, 6);
}

function draw(visitors) {
  count.textContent = visitors.length ? "(" + visitors.length + (lang === "ja" ? WORDS.count : WORDS.count) + ")" : "";
  empty.hidden = visitors.length > 0;
  table.hidden = visitors.length === 0;
  const fresh = visitors.map((visitor) => {
    const tr = el("tr");
    tr.dataset.visitor = visitor.visitor;
    if (visitor.visitor === picked) tr.setAttribute("aria-selected", "true");
    const who = el("td", "who");
    who.appendChild(el("span", "who-name", label(visitor)));
    if (visitor.name) who.appendChild(el("span", "badge verified", WORDS.verified));
    who.appendChild(el("span", visitor.returning ? "badge" : "badge muted", visitor.returning ? WORDS.returning : WORDS.new));
    tr.appendChild(who);
    const page = el("td", "page");
    page.appendChild(el("span", "page-title", visitor.title || visitor.page));
    if (visitor.title) page.appendChild(el("span", "page-path", visitor.page));
    tr.appendChild(page);
    tr.appendChild(el("td", "", duration(visitor.time_on_site)));
    tr.appendChild(el("td", "", visitor.device));
    tr.appendChild(el("td", "num", money(visitor.cart_value)));
    const action = el("td");
    const button = el("button", "secondary pick", WORDS.pick);
    button.type = "button";
    button.setAttribute("aria-label", WORDS.pick + ": " + label(visitor));
    button.addEventListener("click", () => pick(visitor));
    action.appendChild(button);
    tr.appendChild(action);
    return tr;
  });
  rows.replaceChildren(...fresh);
}

function pick(visitor) {
  picked = visitor.visitor;
  for (const tr of rows.children) tr.setAttribute("aria-selected", String(tr.dataset.visitor === picked));
  form.hidden = false;
  to.textContent = WORDS.to + label(visitor);
  status.textContent = "";
  text.focus();
  showVisitor(panel, site, picked);
}

async function poll() {
  try {
    const answer = await fetch("/console/api/sites/" + encodeURIComponent(site) + "/visitors",
      { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (answer.ok) draw((await answer.json()).visitors);
  } catch (error) {
    // The next poll tries again; the list stays as it was.
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!picked || !text.value.trim()) return;
  status.textContent = WORDS.sending;
  try {
    const answer = await fetch("/console/api/sites/" + encodeURIComponent(site) + "/visitors/" +
      encodeURIComponent(picked) + "/message", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ text: text.value }),
    });
    if (answer.ok) {
      status.textContent = WORDS.sent;
      text.value = "";
    } else {
      const body = await answer.json().catch(() => ({}));
      status.textContent = WORDS.failed + (body.error || answer.status);
    }
  } catch (error) {
    status.textContent = WORDS.failed + String(error);
  }
});

document.getElementById("proactive-cancel").addEventListener("click", () => {
  picked = "";
  form.hidden = true;
  panel.hidden = true;
  for (const tr of rows.children) tr.removeAttribute("aria-selected");
});

poll();
setInterval(poll, POLL_MS);
const away = sessionStorage.getItem("irasshai-away") === "1";
new EventSource("/console/sites/" + encodeURIComponent(site) + "/stream" + (away ? "?away=1" : ""));
