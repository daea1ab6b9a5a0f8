// Canned replies in the reply box (#reply-text): typing "/" and the start of a code offers the
// site's replies (GET /console/api/sites/{site}/replies); ArrowUp/ArrowDown pick, Enter or Tab
// (or a click) puts the text in place of "/code", Escape closes the list. Text only (textContent).
const LANG = document.documentElement.lang === "ja" ? "ja" : "en";
const main = document.getElementById("console-main");
const site = main && main.dataset.site;
let replies = null; // loaded on first use
let conversationLanguage = "";
let box = null;
let list = null;
let matches = [];
let active = 0;

if (!document.querySelector('link[href="/console/static/context.css"]')) {
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = "/console/static/context.css";
  document.head.appendChild(css);
}

async function load() {
  if (replies !== null || !site) return replies || [];
  try {
    const answer = await fetch("/console/api/sites/" + encodeURIComponent(site) + "/replies",
      { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = answer.ok ? await answer.json() : { replies: [] };
    replies = body.replies.map((reply) => ({ ...reply, fallback: body.language }));
  } catch (error) {
    return [];
  }
  return replies;
}

function textOf(reply) {
  const language = conversationLanguage || LANG;
  return reply.text[language] || reply.text[reply.fallback] || Object.values(reply.text)[0];
}

function typedCode(textarea) {
  // "/code" right before the caret, at the start or after a space or newline.
  const before = textarea.value.slice(0, textarea.selectionStart);
  const found = /(^|\s)\/([a-z0-9_-]*)$/.exec(before);
  return found ? { code: found[2], start: before.length - found[2].length - 1 } : null;
}

function close() {
  if (list) list.hidden = true;
  matches = [];
  if (box) {
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }
}

function draw() {
  list.replaceChildren();
  matches.forEach((reply, index) => {
    const item = document.createElement("li");
    item.id = "reply-option-" + index;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", index === active ? "true" : "false");
    const code = document.createElement("span");
    code.className = "reply-code";
    code.textContent = "/" + reply.code;
    const text = document.createElement("span");
    text.className = "reply-text";
    text.textContent = textOf(reply);
    item.append(code, text);
    item.addEventListener("mousedown", (event) => {
      event.preventDefault(); // keep the focus in the reply box
      insert(reply);
    });
    list.appendChild(item);
  });
  list.hidden = matches.length === 0;
  box.setAttribute("aria-expanded", matches.length ? "true" : "false");
  if (matches.length) box.setAttribute("aria-activedescendant", "reply-option-" + active);
}

function insert(reply) {
  const typed = typedCode(box);
  if (!typed) return close();
  const text = textOf(reply);
  const end = box.selectionStart;
  box.value = box.value.slice(0, typed.start) + text + box.value.slice(end);
  const caret = typed.start + text.length;
  box.setSelectionRange(caret, caret);
  box.dispatchEvent(new Event("input", { bubbles: true }));
  close();
}

async function offer() {
  const typed = typedCode(box);
  if (!typed) return close();
  const all = await load();
  const again = typedCode(box); // the operator may have typed on while the list loaded
  if (!again) return close();
  matches = all.filter((reply) => reply.code.startsWith(again.code)).slice(0, 8);
  active = 0;
  draw();
}

function attach(textarea) {
  if (box === textarea) return;
  box = textarea;
  list = document.createElement("ul");
  list.id = "reply-suggestions";
  list.className = "reply-suggestions";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  textarea.insertAdjacentElement("afterend", list);
  textarea.setAttribute("aria-controls", list.id);
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-expanded", "false");
  textarea.addEventListener("input", offer);
  textarea.addEventListener("blur", close);
  textarea.addEventListener("keydown", (event) => {
    if (!matches.length || list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      draw();
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      event.stopImmediatePropagation(); // Enter picks the reply; it does not send the message
      insert(matches[active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
}

function find() {
  const textarea = document.getElementById("reply-text");
  if (textarea) attach(textarea);
}

document.addEventListener("console:conversation", (event) => {
  conversationLanguage = (event.detail && event.detail.language) || "";
  find();
});
find();
new MutationObserver(find).observe(document.body, { childList: true, subtree: true });
