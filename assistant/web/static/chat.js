// The chat page: streams answers from the JSON API (fetch POST + a ReadableStream reader of
// its Server-Sent Events; EventSource cannot POST), renders them from Markdown safely, and
// turns citations into chips that open the cited RO beside the chat.
import { Marked } from "./vendor/marked-15.0.12.esm.js";
import DOMPurify from "./vendor/purify-3.5.0.es.mjs";
import { attachEstimate } from "./estimate.js";

const main = document.getElementById("main");
const thread = document.getElementById("thread");
const form = document.getElementById("composer");
const input = document.getElementById("question");
const sendButton = document.getElementById("send");
const stopButton = document.getElementById("stop");
const status = document.getElementById("chat-status");
const panel = document.getElementById("ro-panel");
const panelBody = document.getElementById("ro-panel-body");
const csrf = document.body.dataset.csrf;
const canReveal = main.dataset.canReveal === "true";
let conversationId = main.dataset.conversation || null;
let controller = null;
let lastFocus = null;

const CITATION = /\[RO (\d+)(?: line ([A-Z]+))?\]/g;
const PLACEHOLDER = /\[\[pii:([A-Za-z0-9-]{1,20}):([a-z_]{2,20})\]\]/g;

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Raw HTML in an answer is shown as text, never parsed.
const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    html(token) { return escapeHtml(token.text); },
    // No image is ever fetched: its description stands in for it.
    image(token) { return escapeHtml(token.text || ""); },
  },
});

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") || "";
    // Links only to this app's own pages.
    if (!href.startsWith("/") || href.startsWith("//") || href.startsWith("/\\")) {
      node.removeAttribute("href");
    }
    node.removeAttribute("target");
  }
});

function renderMarkdown(text) {
  return DOMPurify.sanitize(marked.parse(text), {
    FORBID_TAGS: ["img", "picture", "source", "video", "audio", "iframe", "object", "embed", "form", "input", "button", "style", "svg", "math"],
    FORBID_ATTR: ["style", "srcset"],
    ALLOW_DATA_ATTR: false,
  });
}

function citationKey(ro, line) { return `${ro}:${line || ""}`; }

// Citation markers become chips only when the answer really cites that RO line; anything
// else is left as plain text marked as not one of the sources.
function decorate(container, citations) {
  const cited = new Map();
  for (const c of citations || []) {
    if (c.ro_number) cited.set(citationKey(c.ro_number, c.line), c);
  }
  const byRo = new Map();
  for (const c of citations || []) if (c.ro_number && !byRo.has(c.ro_number)) byRo.set(c.ro_number, c);
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const text = node.nodeValue;
    if (!text.includes("[RO ") && !text.includes("[[pii:")) continue;
    const pattern = new RegExp(`${CITATION.source}|${PLACEHOLDER.source}`, "g");
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (const m of text.matchAll(pattern)) {
      fragment.append(text.slice(last, m.index));
      last = m.index + m[0].length;
      if (m[1]) {
        const c = cited.get(citationKey(m[1], m[2])) || cited.get(citationKey(m[1], null));
        if (c) {
          fragment.append(chip(c, m[2]));
        } else {
          const span = document.createElement("span");
          span.className = "uncited";
          span.title = "Not one of this answer's sources";
          span.textContent = m[0];
          fragment.append(span);
        }
      } else {
        fragment.append(piiSlot(m[3], m[4], byRo.get(m[3])));
      }
    }
    fragment.append(text.slice(last));
    node.replaceWith(fragment);
  }
}

function chip(c, line) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "chip";
  button.dataset.roId = c.ro_id;
  button.dataset.line = line || c.line || "";
  button.textContent = `RO ${c.ro_number}` + (line || c.line ? ` · line ${line || c.line}` : "");
  return button;
}

function piiSlot(roNumber, field, citation) {
  const label = field.replace(/_/g, " ");
  if (!canReveal || !citation) {
    const span = document.createElement("span");
    span.className = "redacted";
    span.textContent = "[redacted]";
    return span;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "reveal-slot";
  button.dataset.roId = citation.ro_id;
  button.dataset.reveal = "true";
  button.textContent = `Reveal ${label}`;
  // The visible words come first in the name: speech input users say what they see.
  button.setAttribute("aria-label", `Reveal ${label} of the customer on RO ${roNumber}`);
  return button;
}

function sources(citations) {
  const seen = new Set();
  const list = document.createElement("ul");
  for (const c of citations || []) {
    if (!c.ro_number) continue;
    const key = citationKey(c.ro_number, c.line);
    if (seen.has(key)) continue;
    seen.add(key);
    const item = document.createElement("li");
    item.append(chip(c, c.line));
    if (c.vehicle) item.append(` ${c.vehicle}`);
    if (c.date) {
      const when = document.createElement("span");
      when.className = "when";
      when.textContent = c.date;
      item.append(c.vehicle ? ", " : " ", when);
    }
    list.append(item);
  }
  if (!seen.size) return null;
  const wrap = document.createElement("details");
  wrap.className = "sources";
  wrap.open = true;
  const summary = document.createElement("summary");
  summary.textContent = `Sources (${seen.size})`;
  wrap.append(summary, list);
  return wrap;
}

function plainText(text) {
  return text.replace(PLACEHOLDER, "[redacted]");
}

function messageItem(role) {
  const item = document.createElement("li");
  item.className = `message ${role}`;
  const body = document.createElement("div");
  body.className = "body";
  item.append(body);
  thread.append(item);
  return item;
}

function showQuestion(text) {
  const item = messageItem("user");
  item.querySelector(".body").textContent = text;
  return item;
}

function finishAnswer(item, message) {
  const body = item.querySelector(".body");
  body.innerHTML = renderMarkdown(message.content || "");
  decorate(body, message.citations);
  item.querySelector(".meta")?.remove();
  item.querySelector(".sources")?.remove();
  const meta = document.createElement("div");
  meta.className = "meta";
  if (message.model) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = message.model === "extractive" ? "Extractive: quoted from records" : `Model: ${message.model}`;
    meta.append(badge);
  }
  if (message.status === "failed") {
    const failed = document.createElement("p");
    failed.className = "error";
    failed.setAttribute("role", "alert");
    failed.textContent = message.error?.message || message.error?.detail || (typeof message.error === "string" ? message.error : "The answer failed.");
    item.append(failed);
    if (message.question) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "retry";
      retry.textContent = "Retry";
      retry.addEventListener("click", () => { if (!controller) ask(message.question); });
      meta.append(retry);
    }
  } else if (message.content) {
    const copy = document.createElement("button");
    copy.type = "button";
    copy.textContent = "Copy";
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(plainText(message.content));
        announce("Answer copied");
      } catch { announce("Copy is not available here"); }
    });
    meta.append(copy);
    if (message.id && main.dataset.readOnly !== "true") meta.append(feedbackControls(message.id));
  }
  item.append(meta);
  if (message.model === "estimate-draft" && message.id) {
    const box = document.createElement("div");
    box.className = "estimate-in-chat";
    item.append(box);
    attachEstimate(box, message.id);
  }
  const src = sources(message.citations);
  if (src) item.append(src);
}

function feedbackControls(messageId) {
  const wrap = document.createElement("form");
  wrap.className = "feedback";
  wrap.setAttribute("aria-label", "Was this answer useful?");
  for (const [value, label] of [["up", "Helpful"], ["down", "Not helpful"]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "icon";
    button.dataset.rating = value;
    button.setAttribute("aria-label", label);
    button.title = label;
    button.append(thumb(value === "down"));
    wrap.append(button);
  }
  wrap.addEventListener("click", async (event) => {
    const rating = event.target.closest("button")?.dataset.rating;
    if (!rating) return;
    let reason = "";
    if (rating === "down") {
      reason = await askReason();
      if (reason === null) return;
    }
    const response = await fetch(`/api/v1/messages/${messageId}/feedback`, {
      method: "PUT",
      headers: { "content-type": "application/json", "x-csrftoken": csrf },
      body: JSON.stringify({ rating, reason: reason || null }),
    });
    if (response.ok) {
      wrap.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.rating === rating)));
      announce("Thanks for the feedback");
    }
  });
  return wrap;
}

// Drawn rather than an emoji: not every system has an emoji font.
function thumb(down) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "18");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  if (down) svg.setAttribute("transform", "rotate(180)");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M2 10h4v11H2zM8 10l4.2-7.2c1.6-.3 2.7.9 2.3 2.6L13.8 9H20c1.3 0 2.2 1.2 1.9 2.4l-2 7.8c-.3 1-1.1 1.8-2.2 1.8H8z");
  svg.append(path);
  return svg;
}

function askReason() {
  return new Promise((resolve) => {
    const dialog = document.getElementById("feedback-dialog");
    const field = dialog.querySelector("textarea");
    field.value = "";
    dialog.returnValue = "";
    dialog.showModal();
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "send" ? field.value.trim() : null);
    }, { once: true });
  });
}

function announce(text) { status.textContent = text; }

function busy(on) {
  input.disabled = on;
  sendButton.disabled = on;
  stopButton.hidden = !on;
  if (!on) input.focus();
}

async function ensureConversation(question) {
  if (conversationId) return conversationId;
  const response = await fetch("/api/v1/conversations", {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrftoken": csrf },
    body: JSON.stringify({ title: question.slice(0, 80) }),
  });
  if (!response.ok) throw new Error("Could not start a conversation");
  conversationId = (await response.json()).id;
  main.dataset.conversation = conversationId;
  history.replaceState(null, "", `/chat/${conversationId}`);
  refreshSidebar();
  return conversationId;
}

function refreshSidebar() {
  if (window.htmx) {
    window.htmx.ajax("GET", `/ui/conversations?current=${conversationId || ""}`, { target: "#conversation-list", swap: "outerHTML" });
  }
}

// One SSE event per blank-line-separated block: "event: name" and "data: json" lines.
async function* serverEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) yield { name, data: JSON.parse(data.join("\n")) };
    }
  }
}

async function ask(question) {
  busy(true);
  showQuestion(question);
  const item = messageItem("assistant");
  item.setAttribute("aria-busy", "true");
  const body = item.querySelector(".body");
  const answer = { content: "", citations: [], question, status: "streaming" };
  announce("Answering…");
  controller = new AbortController();
  let frame = 0;
  const paint = () => {
    frame = 0;
    body.innerHTML = renderMarkdown(answer.content);
    decorate(body, answer.citations);
    item.dataset.paints = String(Number(item.dataset.paints || 0) + 1);
  };
  try {
    const cid = await ensureConversation(question);
    fetch("/session/keepalive", { credentials: "same-origin" }).catch(() => {});
    const response = await fetch(`/api/v1/conversations/${cid}/messages?placeholders=keep`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", "x-csrftoken": csrf },
      body: JSON.stringify({ content: question }),
      signal: controller.signal,
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || problem.message || `The question was refused (${response.status})`);
    }
    for await (const event of serverEvents(response)) {
      if (event.name === "retrieval") {
        answer.citations = event.data.citations || [];
        answer.id = event.data.message_id;
      } else if (event.name === "delta") {
        answer.content += event.data.text;
        if (!frame) frame = requestAnimationFrame(paint);
      } else if (event.name === "citations") {
        answer.citations = event.data;
      } else if (event.name === "done") {
        answer.status = "complete";
        answer.model = event.data.model;
        answer.id = event.data.message_id;
      } else if (event.name === "error") {
        answer.status = "failed";
        answer.error = { message: event.data.detail };
      }
    }
    if (answer.status === "streaming") {
      answer.status = "failed";
      answer.error = { message: "The answer was cut off." };
    }
  } catch (error) {
    answer.status = "failed";
    answer.error = {
      message: error.name === "AbortError" ? "Stopped. Your question is kept." : error.message,
    };
    if (error.name === "AbortError") item.classList.add("stopped");
  } finally {
    if (frame) cancelAnimationFrame(frame);
    controller = null;
    item.removeAttribute("aria-busy");
    finishAnswer(item, answer);
    announce(answer.status === "complete" ? "Answer complete" : "Answer stopped or failed");
    busy(false);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const question = input.value.trim();
  if (!question || controller) return;
  input.value = "";
  ask(question);
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

stopButton.addEventListener("click", () => controller?.abort());

async function openPanel(roId, line, focusReveal) {
  lastFocus = document.activeElement;
  const url = `/ui/repair-orders/${roId}` + (line ? `?line=${encodeURIComponent(line)}` : "");
  const response = await fetch(url, { headers: { "hx-request": "true" } });
  if (!response.ok) {
    panelBody.textContent = "This repair order could not be opened.";
  } else {
    panelBody.innerHTML = await response.text();
    window.htmx?.process(panelBody);
  }
  panel.hidden = false;
  coverPage(true);
  const cited = panelBody.querySelector(".line.cited");
  cited?.scrollIntoView({ block: "nearest" });
  const target = focusReveal ? panelBody.querySelector(".reveal input") : panelBody.querySelector("h2");
  (target || panel).focus();
}

// On a phone the panel covers the page: what is behind it leaves the tab order meanwhile.
const phone = window.matchMedia("(max-width: 800px)");

function coverPage(covered) {
  for (const behind of [document.querySelector(".topbar"), document.getElementById("sidebar"), main]) {
    if (behind) behind.inert = covered && phone.matches;
  }
}

function closePanel() {
  coverPage(false);
  panel.hidden = true;
  panelBody.textContent = "";
  lastFocus?.focus();
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.chip, button.reveal-slot");
  if (button) openPanel(button.dataset.roId, button.dataset.line, button.dataset.reveal === "true");
});
document.getElementById("ro-panel-close").addEventListener("click", closePanel);
// htmx swaps no 4xx answer; a refused reveal (no purpose given) comes back as the form
// with the reason, so it is shown like any other.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const { target, xhr } = event.detail;
  const html = (xhr.getResponseHeader("content-type") || "").startsWith("text/html");
  if (xhr.status === 422 && html && panelBody.contains(target)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  if (!panel.hidden) {
    closePanel();
  } else if (drawer && drawerOpen() && !sidebar.querySelector(".menu[open]")) {
    setDrawer(false);
    drawer.focus();
  }
});

// Below 800 px the sidebar is a drawer: the toggle opens it and moves focus into it. A tap
// beside it only closes it; Esc closes it and gives focus back to the toggle; tabbing out
// of it closes it rather than moving focus behind it.
const drawer = document.getElementById("drawer-toggle");
const sidebar = document.getElementById("sidebar");

function setDrawer(open) {
  document.body.classList.toggle("drawer-open", open);
  drawer.setAttribute("aria-expanded", String(open));
  if (open) sidebar.querySelector("a, button, input")?.focus();
}

function drawerOpen() { return document.body.classList.contains("drawer-open"); }

function beside(target) { return drawerOpen() && !sidebar.contains(target) && !drawer.contains(target); }

drawer?.addEventListener("click", () => setDrawer(!drawerOpen()));
document.addEventListener("mousedown", (event) => { if (beside(event.target)) event.preventDefault(); }, true);
document.addEventListener("click", (event) => {
  if (beside(event.target)) {
    event.preventDefault();
    event.stopPropagation();
    setDrawer(false);
  }
}, true);
sidebar?.addEventListener("focusout", (event) => {
  if (event.relatedTarget && beside(event.relatedTarget)) setDrawer(false);
});

for (const message of JSON.parse(document.getElementById("messages-data").textContent)) {
  if (message.role === "user") {
    showQuestion(message.content);
  } else {
    const previous = thread.querySelector(".message.user:last-of-type .body");
    finishAnswer(messageItem("assistant"), { ...message, question: previous?.textContent });
  }
}
thread.lastElementChild?.scrollIntoView({ block: "end" });
