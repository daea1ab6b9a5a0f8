// The visitor panel: fills <aside id="visitor-panel"> from /console/api/sites/{site}/visitors/{visitor}
// when the inbox opens a conversation (the `console:conversation` event) or the live visitors page
// picks a visitor (showVisitor). Every value goes into the page as text (textContent), never HTML.
const LANG = document.documentElement.lang === "ja" ? "ja" : "en";
const WORDS = {
  ja: {
    loading: "読み込み中…", failed: "訪問者の情報を読み込めませんでした", verified: "本人確認済み",
    unverified: "未確認（ページからの申告）", anonymous: "匿名の訪問者", online: "オンライン", offline: "オフライン",
    now: "現在のページ", pages: "閲覧したページ", sessions: "セッション", device: "デバイス", language: "言語",
    cart: "カート金額", attributes: "属性", engagements: "判定したメッセージ", coupons: "受け取ったクーポン",
    conversations: "過去の会話", none: "なし", clicked: "クリック", shown: "表示", dismissed: "閉じた",
    heldOut: "対照群（表示せず）", converted: "成果あり",
    landing: "入口", referrer: "参照元", direct: "直接", views: "回", redeemed: "利用済み", visits: "訪問",
    first: "初回訪問", returning: "リピーター", new: "新規",
    line: "LINE", lineUser: "LINEユーザー", following: "友だち", blocked: "ブロック中", linkedTo: "連携先",
    webVisitor: "Web訪問者",
    status: { bot: "ボット", waiting: "待機中", open: "対応中", resolved: "解決済み" },
  },
  en: {
    loading: "Loading…", failed: "Could not load the visitor", verified: "Verified",
    unverified: "Unverified (the page says so)", anonymous: "Anonymous visitor", online: "Online", offline: "Offline",
    now: "Current page", pages: "Pages viewed", sessions: "Sessions", device: "Device", language: "Language",
    cart: "Cart value", attributes: "Attributes", engagements: "Engagements", coupons: "Coupons received",
    conversations: "Earlier conversations", none: "None", clicked: "clicked", shown: "shown", dismissed: "dismissed",
    heldOut: "held out (control group, not shown)", converted: "converted",
    landing: "Landing", referrer: "Referrer", direct: "direct", views: "views", redeemed: "redeemed", visits: "visits",
    first: "First seen", returning: "Returning", new: "New",
    line: "LINE", lineUser: "LINE user", following: "friend", blocked: "blocked", linkedTo: "Linked to",
    webVisitor: "web visitor",
    status: { bot: "bot", waiting: "waiting", open: "open", resolved: "resolved" },
  },
};
export const words = WORDS[LANG];
export const lang = LANG;

const css = document.createElement("link");
css.rel = "stylesheet";
css.href = "/console/static/context.css";
if (!document.querySelector('link[href="/console/static/context.css"]')) document.head.appendChild(css);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

const relative = new Intl.RelativeTimeFormat(LANG, { numeric: "auto" });
export function ago(seconds) {
  const delta = Math.round(Date.now() / 1000 - seconds);
  if (delta < 60) return relative.format(-Math.max(delta, 0), "second");
  if (delta < 3600) return relative.format(-Math.round(delta / 60), "minute");
  if (delta < 86400) return relative.format(-Math.round(delta / 3600), "hour");
  return relative.format(-Math.round(delta / 86400), "day");
}

export function money(value) {
  if (value === null || value === undefined || value === "") return "";
  const number = Number(value);
  return Number.isFinite(number) ? "¥" + number.toLocaleString(LANG === "ja" ? "ja-JP" : "en-US") : String(value);
}

function section(panel, title, items) {
  const box = el("section", "panel-section");
  box.appendChild(el("h3", "", title));
  if (!items.length) {
    box.appendChild(el("p", "muted", words.none));
  } else {
    const list = el("ul", "panel-list");
    for (const item of items) list.appendChild(item);
    box.appendChild(list);
  }
  panel.appendChild(box);
}

function row(main, detail) {
  const item = el("li");
  item.appendChild(el("span", "item-main", main));
  if (detail) item.appendChild(el("span", "item-detail", detail));
  return item;
}

function fact(list, label, value) {
  if (value === "" || value === null || value === undefined) return;
  list.appendChild(el("dt", "", label));
  list.appendChild(el("dd", "", value));
}

export function render(panel, data) {
  panel.replaceChildren();
  const head = el("header", "panel-head");
  const line = data.line;
  const isLine = Boolean(line && line.visitor === data.visitor); // a LINE user's own panel
  if (isLine) head.appendChild(el("span", "channel-badge", words.line));
  head.appendChild(el("h2", "panel-name", isLine ? (line.name || words.lineUser) : (data.customer || words.anonymous)));
  if (data.customer) {
    head.appendChild(el("span", data.verified ? "badge verified" : "badge unverified", data.verified ? words.verified : words.unverified));
  }
  if (!isLine || line.web) { // whether they are on the shop's site: unknown of a LINE user not linked to one
    head.appendChild(el("span", data.online ? "badge online" : "badge", data.online ? words.online : words.offline));
  }
  panel.appendChild(head);

  const facts = el("dl", "panel-facts");
  if (line) {
    const state = line.follows === "1" ? words.following : line.follows === "0" ? words.blocked : "";
    fact(facts, words.line, [isLine ? "" : line.name || words.lineUser, state, line.follow_at ? ago(line.follow_at) : ""]
      .filter(Boolean).join(" · "));
    if (isLine && line.web) fact(facts, words.linkedTo, [line.customer, words.webVisitor + " " + line.web.slice(0, 6), ago(line.linked)]
      .filter(Boolean).join(" · "));
  }
  fact(facts, words.now, data.page ? (data.title ? data.title + " — " + data.page : data.page) : "");
  fact(facts, words.cart, money(data.cart_value));
  fact(facts, words.device, data.device);
  fact(facts, words.language, data.language);
  if (data.sessions) fact(facts, words.visits, (data.sessions > 1 ? words.returning : words.new) + " · " + data.sessions);
  fact(facts, words.first, data.first_seen ? ago(data.first_seen) : "");
  panel.appendChild(facts);

  if (isLine && !line.web) { // nothing is known of them on the shop's site until LINE's account link
    section(panel, words.conversations, data.conversations.map((c) =>
      row((words.status[c.status] || c.status) + " · " + ago(c.started), c.assignee || "")));
    return;
  }
  const attributes = Object.entries(data.attributes || {}).filter(([name]) => name !== "cart_value");
  section(panel, words.attributes, attributes.map(([name, value]) =>
    row(name, typeof value === "object" ? JSON.stringify(value) : String(value))));
  section(panel, words.pages, data.pages.map((page) =>
    row(page.title || page.path, page.path + " · " + page.views + " " + words.views + " · " + ago(page.last))));
  section(panel, words.sessions, data.session_log.map((s) => {
    const utm = Object.entries(s.utm || {}).map(([k, v]) => k + "=" + v).join(" ");
    const detail = [words.landing + " " + (s.landing || "/"), words.referrer + " " + (s.referrer || words.direct), utm]
      .filter(Boolean).join(" · ");
    return row("#" + s.number + " · " + ago(s.start), detail);
  }));
  // A held-out decision was never shown: say so, never "shown" (docs/insights.md).
  section(panel, words.engagements, data.engagements.map((e) =>
    row(e.rule, [e.held_out ? words.heldOut : words.shown, e.clicked ? words.clicked : "",
      e.dismissed ? words.dismissed : "", e.converted ? words.converted : "", ago(e.ts)]
      .filter(Boolean).join(" · "))));
  section(panel, words.coupons, data.coupons.map((c) =>
    row(c.code, c.pool + (c.redeemed ? " · " + words.redeemed + " " + ago(c.redeemed) : ""))));
  section(panel, words.conversations, data.conversations.map((c) =>
    row((words.status[c.status] || c.status) + " · " + ago(c.started), c.assignee || "")));
}

let latest = 0; // only the newest request's answer is shown when an operator clicks quickly
export async function showVisitor(panel, site, visitor) {
  const ticket = ++latest;
  panel.hidden = false;
  panel.dataset.visitor = visitor;
  panel.setAttribute("aria-busy", "true");
  panel.replaceChildren(el("p", "muted", words.loading));
  try {
    const answer = await fetch("/console/api/sites/" + encodeURIComponent(site) + "/visitors/" + encodeURIComponent(visitor),
      { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (ticket !== latest) return;
    if (!answer.ok) throw new Error(String(answer.status));
    render(panel, await answer.json());
  } catch (error) {
    if (ticket === latest) panel.replaceChildren(el("p", "error", words.failed));
  } finally {
    if (ticket === latest) panel.removeAttribute("aria-busy");
  }
}

document.addEventListener("console:conversation", (event) => {
  const panel = document.getElementById("visitor-panel");
  const detail = event.detail || {};
  if (panel && detail.site && detail.visitor) showVisitor(panel, detail.site, detail.visitor);
});
