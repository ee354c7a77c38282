// The chat page: asks POST /chat within a session, shows each answer highlighted inside its
// quote with numbered sources, and opens a source document beside the conversation.
"use strict";

const SESSION_KEY = "qa.session_id";   // sessionStorage: one conversation per tab
const API_KEY = "qa.api_key";          // localStorage: asked for only after a 401

const $ = (id) => document.getElementById(id);
const state = { sessionId: sessionStorage.getItem(SESSION_KEY), needsKey: false, pending: null };
const titles = new Map();              // doc_id -> document (publisher etc.), fetched on demand

class ApiKeyNeeded extends Error {}

// --- talking to the server ------------------------------------------------------------------

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const key = localStorage.getItem(API_KEY);
  // The key is sent only once the server has asked for one (a 401), never by default.
  if (state.needsKey && key) headers["Authorization"] = `Bearer ${key}`;
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && !state.needsKey && key) {
    state.needsKey = true;
    return api(path, options);
  }
  if (response.status === 401) {
    state.needsKey = true;
    throw new ApiKeyNeeded(await errorMessage(response));
  }
  if (!response.ok) {
    const error = new Error(await errorMessage(response));
    error.status = response.status;
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    return body.error ? body.error.message : `${response.status} ${response.statusText}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

// --- rendering ------------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// Where in its document a citation is: "p. 2, § Finances" (a section that repeats the title is left out).
function citationPlace(citation) {
  const parts = citation.page ? [`p. ${citation.page}`] : [];
  const section = (citation.section || "").trim();
  if (section && section.toLowerCase() !== (citation.title || "").trim().toLowerCase()) parts.push(`§ ${section}`);
  return parts.join(", ");
}

// The quote with every answer span in it marked (list items often share one sentence): each
// span is quote[start - quote_start, end - quote_start].
function highlightedQuote(citations) {
  const quote = citations[0].quote;
  const spans = citations
    .map((c) => [c.start - citations[0].quote_start, c.end - citations[0].quote_start])
    .sort((a, b) => a[0] - b[0]);
  const parts = [];
  let at = 0;
  for (const [from, to] of spans) {
    if (from < at) continue;  // overlapping spans: the first one is marked
    parts.push(quote.slice(at, from), el("mark", {}, quote.slice(from, to)));
    at = to;
  }
  parts.push(quote.slice(at));
  return el("blockquote", { class: "quote" }, ...parts);
}

const citationKey = (citation) => `${citation.doc_id}:${citation.quote_start}`;
let turnCount = 0;

// "Answered as" only when the standalone question says more than the one asked (not for a
// change of capitals, which restoring a name's case makes).
function answeredAs(response) {
  const resolved = response.resolved_question || "";
  return resolved && resolved.toLowerCase() !== (response.question || "").toLowerCase() ? resolved : null;
}

// A turn shown the moment it is asked: the question, then a typing indicator until the reply.
function pendingTurn(question) {
  const item = el("li", { class: "turn pending", "aria-busy": "true" });
  item.append(el("p", { class: "question" }, question),
    el("div", { class: "typing", role: "status" },
      el("span", { class: "visually-hidden" }, "Finding an answer…"),
      el("span", { class: "dot" }), el("span", { class: "dot" }), el("span", { class: "dot" })));
  return item;
}

function fillTurn(item, response) {
  item.classList.remove("pending", "failed");
  item.removeAttribute("aria-busy");
  item.querySelectorAll(".typing, .reply, .resolved").forEach((node) => node.remove());
  const resolved = answeredAs(response);
  if (resolved) item.append(el("p", { class: "resolved" }, "Answered as: ", el("q", {}, resolved)));
  const reply = el("div", { class: "reply" });
  item.append(reply);
  const question = item.querySelector(".question").textContent;
  if (response.abstained || response.answers.length === 0) {
    reply.classList.add("abstained");
    reply.append(el("p", {}, response.message || "I could not find that in the documents."),
      el("button", {
        type: "button", class: "quiet retry",
        onclick: () => rephrase(question),
      }, "Rephrase the question"));
    return item;
  }
  const turnId = ++turnCount;
  // Sources are numbered once per turn: the same sentence cited twice keeps its number.
  const numbers = new Map();
  const sources = [];
  // Answers whose first citation is the same sentence are shown together, under one quote.
  const groups = new Map();
  for (const answer of response.answers) {
    const marks = [];
    for (const citation of answer.citations) {
      if (!numbers.has(citationKey(citation))) {
        numbers.set(citationKey(citation), numbers.size + 1);
        sources.push(citation);
      }
      marks.push(numbers.get(citationKey(citation)));
    }
    const first = answer.citations[0];
    const key = first ? citationKey(first) : `answer:${groups.size}`;
    if (!groups.has(key)) groups.set(key, { answers: [], citations: [] });
    groups.get(key).answers.push({ answer, marks: [...new Set(marks)] });
    if (first) groups.get(key).citations.push(first);
  }
  const marker = (n) => el("a", {
    class: "mark", href: `#source-${turnId}-${n}`,
    "aria-label": `source ${n}: ${sources[n - 1].title}`,
    onclick: (event) => { event.preventDefault(); openDocument(sources[n - 1]); },
  }, `[${n}]`);
  for (const group of groups.values()) {
    reply.append(el("div", { class: "answer" },
      ...group.answers.map(({ answer, marks }) =>
        el("p", { class: "answer-text" }, answer.text, ...marks.map(marker))),
      group.citations.length ? highlightedQuote(group.citations) : null));
  }
  const list = el("ol", { class: "sources" });
  sources.forEach((citation, i) => {
    const publisher = el("span", { class: "publisher" });
    describeSource(citation.doc_id, publisher);
    list.append(el("li", { id: `source-${turnId}-${i + 1}` },
      el("button", {
        type: "button", class: "source", "data-doc": citation.doc_id,
        onclick: () => openDocument(citation),
      }, el("span", { class: "number" }, `${i + 1}`), el("span", { class: "title" }, citation.title),
        citationPlace(citation) ? el("span", { class: "place" }, `, ${citationPlace(citation)}`) : null),
      publisher));
  });
  reply.append(el("p", { class: "sources-label" }, "Sources"), list);
  return item;
}

// 👍/👎 under an answer (and an optional comment), kept with the turn on the server.
function addFeedback(item, sessionId, position, existing) {
  if (!sessionId || position === undefined || position === null) return;
  const path = `/sessions/${encodeURIComponent(sessionId)}/turns/${position}/feedback`;
  const status = el("span", { class: "feedback-status", role: "status" });
  const comment = el("input", { type: "text", class: "feedback-comment", maxlength: "2000",
    "aria-label": "What was wrong or right about it (optional)", placeholder: "Add a comment (optional)" });
  const commentForm = el("form", { class: "feedback-form" }, comment,
    el("button", { type: "submit", class: "quiet" }, "Send comment"));
  commentForm.hidden = true;
  const buttons = {};
  const send = async (rating, text) => {
    status.textContent = "Saving…";
    try {
      await api(path, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ rating, comment: text }) });
      for (const [name, button] of Object.entries(buttons)) button.setAttribute("aria-pressed", String(name === rating));
      status.textContent = text ? "Thanks: your rating and comment are saved." : "Thanks: your rating is saved.";
      commentForm.hidden = Boolean(text);
      if (!text) comment.focus();
    } catch (error) {
      status.textContent = `Your rating could not be saved: ${error.message || "the server could not be reached"}.`;
    }
  };
  // Words beside the symbols: they say what a click means, also where no emoji font is.
  for (const [rating, symbol, word, label] of [
    ["up", "👍", "Right", "Good answer"], ["down", "👎", "Wrong", "Wrong answer"]]) {
    buttons[rating] = el("button", { type: "button", class: `quiet rate rate-${rating}`,
      "aria-label": label, title: label, "aria-pressed": String(Boolean(existing && existing.rating === rating)),
      onclick: () => send(rating, "") }, el("span", { "aria-hidden": "true" }, symbol), ` ${word}`);
  }
  commentForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const rating = buttons.up.getAttribute("aria-pressed") === "true" ? "up" : "down";
    send(rating, comment.value.trim());
  });
  item.querySelector(".reply").append(
    el("div", { class: "feedback" }, buttons.up, buttons.down, status, commentForm));
}

// What went wrong, in words a reader can act on, with a button that asks again.
function failTurn(item, error, retry) {
  item.classList.remove("pending");
  item.classList.add("failed");
  item.removeAttribute("aria-busy");
  item.querySelectorAll(".typing, .reply").forEach((node) => node.remove());
  let text;
  if (error.status === undefined) text = "The server could not be reached. Check that it is running, then try again.";
  else if (error.status >= 500) text = `The server failed to answer (${error.status}): ${error.message}`;
  else text = `The question was refused (${error.status}): ${error.message}`;
  const button = el("button", { type: "button", class: "retry", onclick: retry }, "Try again");
  item.append(el("div", { class: "reply error-reply", role: "alert" }, el("p", {}, text), button));
  return button;
}

function rephrase(question) {
  const input = $("message");
  input.value = question;
  checkLength();
  input.focus();
  input.select();
}

// Fills in the publisher from the document, once per document.
async function describeSource(docId, target) {
  try {
    if (!titles.has(docId)) titles.set(docId, api(`/documents/${encodeURIComponent(docId)}`));
    const doc = await titles.get(docId);
    const parts = [doc.publisher, doc.published].filter(Boolean);
    target.textContent = parts.join(" · ");
  } catch {
    titles.delete(docId);
  }
}

const reducedMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// The newest turn wholly above the fixed input bar (its top, when it is taller than the screen).
function reveal(item) {
  const bar = $("ask-form").getBoundingClientRect().height;
  const room = window.innerHeight - bar;
  const fits = item.getBoundingClientRect().height + 16 <= room;
  item.scrollIntoView({ block: fits ? "end" : "start", behavior: reducedMotion() ? "auto" : "smooth" });
}

function showTurn(turn) {
  $("empty").hidden = true;
  const item = fillTurn(pendingTurn(turn.question), turn.response);
  addFeedback(item, state.sessionId, turn.position, turn.feedback);
  $("turns").append(item);
  reveal(item);
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

// --- the document panel ---------------------------------------------------------------------

async function openDocument(citation) {
  let doc;
  try {
    if (!titles.has(citation.doc_id)) {
      titles.set(citation.doc_id, api(`/documents/${encodeURIComponent(citation.doc_id)}`));
    }
    doc = await titles.get(citation.doc_id);
  } catch (error) {
    titles.delete(citation.doc_id);
    return handleError(error, () => openDocument(citation));
  }
  $("document-title").textContent = doc.title;
  $("document-meta").textContent = [doc.publisher, doc.published].filter(Boolean).join(" · ");
  $("document-place").textContent = citationPlace(citation);
  const body = $("document-text");
  body.replaceChildren(...documentBlocks(doc));
  markCitation(body, citation);
  $("document-panel").hidden = false;
  document.body.classList.add("with-document");
  $("cited-span").scrollIntoView({ block: "center" });
}

// The document's text as nodes whose text is exactly doc.text (offsets point into it), with
// its headings (doc.headings, from the document's own structure) drawn as headings, and
// Markdown heading lines left in plain text ("## Fees") drawn so too, their marks hidden.
function documentBlocks(doc) {
  const text = doc.text;
  const headings = (doc.headings || []).map((h) => ({ start: h.start, end: h.end, level: h.level, hashes: 0 }));
  for (const match of text.matchAll(/^(#{1,6}) +[^\n]*/gm)) {
    headings.push({ start: match.index, end: match.index + match[0].length, level: match[1].length,
      hashes: match[0].match(/^#+ +/)[0].length });
  }
  headings.sort((a, b) => a.start - b.start);
  const nodes = [];
  let at = 0;
  for (const h of headings) {
    if (h.start < at) continue;
    if (h.start > at) nodes.push(document.createTextNode(text.slice(at, h.start)));
    // The heading's own line break goes inside it, where white-space collapses it.
    const end = text[h.end] === "\n" ? h.end + 1 : h.end;
    nodes.push(el(`h${Math.min(h.level + 2, 6)}`, { class: "doc-heading" },
      h.hashes ? el("span", { class: "md-hash", "aria-hidden": "true" }, text.slice(h.start, h.start + h.hashes)) : null,
      text.slice(h.start + h.hashes, end)));
    at = end;
  }
  nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

// A DOM range over character offsets [from, to) of the text inside root.
function rangeAt(root, from, to) {
  const range = document.createRange();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let seen = 0;
  let started = false;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const length = node.textContent.length;
    if (!started && from <= seen + length) { range.setStart(node, from - seen); started = true; }
    if (started && to <= seen + length) { range.setEnd(node, to - seen); return range; }
    seen += length;
  }
  return range;
}

function markCitation(body, citation) {
  const span = rangeAt(body, citation.start, citation.end);
  const mark = el("mark", { id: "cited-span" });
  mark.append(span.extractContents());
  span.insertNode(mark);
  try {  // the quote around it, where it lies within one block
    rangeAt(body, citation.quote_start, citation.quote_end).surroundContents(el("span", { class: "quoted" }));
  } catch {
    // a quote across a heading keeps only its span marked
  }
}

function closeDocument() {
  $("document-panel").hidden = true;
  document.body.classList.remove("with-document");
}

// --- asking ---------------------------------------------------------------------------------

// One key per message, kept across its retries: the server then records the turn once, however
// often a lost response makes the page send it again.
function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));  // also where randomUUID is not
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function ask(message, idempotencyKey) {
  const body = { message, session_id: state.sessionId };
  try {
    return await api("/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
      body: JSON.stringify(body),
    });
  } catch (error) {
    if ((error.status === 404 || error.status === 409) && state.sessionId) {
      // The session is gone (expired, deleted, another server's database) or full: start a
      // new one, under a new key since the request is another one.
      setSession(null);
      return ask(message, newIdempotencyKey());
    }
    throw error;
  }
}

function setSession(sessionId) {
  state.sessionId = sessionId;
  if (sessionId) sessionStorage.setItem(SESSION_KEY, sessionId);
  else sessionStorage.removeItem(SESSION_KEY);
}

function handleError(error, retry) {
  if (error instanceof ApiKeyNeeded) {
    state.pending = retry;
    $("key-form").hidden = false;
    $("key").focus();
    showError(localStorage.getItem(API_KEY) ? "That API key was refused." : "");
    return;
  }
  showError(error.message);
}

// Too long is said, never cut: the limit is the server's (QA_MAX_QUESTION_CHARS).
function checkLength() {
  const input = $("message");
  const limit = Number(input.dataset.maxChars) || 1000;
  const over = input.value.length > limit;
  input.setAttribute("aria-invalid", over ? "true" : "false");
  $("input-hint").classList.toggle("too-long", over);
  $("input-hint").textContent = over
    ? `The question is ${input.value.length} characters long; the limit is ${limit}. Shorten it to send.`
    : "Enter sends, Shift+Enter starts a new line.";
  $("send").disabled = over || document.body.classList.contains("busy");
  // Grow with the text, up to a third of the screen.
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight + 2, window.innerHeight / 3)}px`;
  return !over;
}

async function submitQuestion(event) {
  event.preventDefault();
  const input = $("message");
  const message = input.value.trim();
  if (!message || !checkLength() || document.body.classList.contains("busy")) return;
  const idempotencyKey = newIdempotencyKey();
  $("empty").hidden = true;
  const item = pendingTurn(message);
  $("turns").append(item);
  input.value = "";
  checkLength();
  reveal(item);
  const send = async () => {
    showError("");
    if (!item.classList.contains("pending")) {
      // Asked again in the same place in the conversation.
      const fresh = pendingTurn(message);
      item.replaceChildren(...fresh.childNodes);
      item.className = fresh.className;
      item.setAttribute("aria-busy", "true");
    }
    $("send").disabled = true;
    document.body.classList.add("busy");
    try {
      const response = await ask(message, idempotencyKey);
      setSession(response.session_id);
      fillTurn(item, response);
      addFeedback(item, response.session_id, response.turn_position, null);
    } catch (error) {
      if (error instanceof ApiKeyNeeded) {
        handleError(error, send);
      } else {
        failTurn(item, error, send);
      }
    } finally {
      document.body.classList.remove("busy");
      checkLength();
      reveal(item);
      if (!item.classList.contains("failed")) input.focus();
      else item.querySelector(".retry").focus();
    }
  };
  await send();
}

function saveKey(event) {
  event.preventDefault();
  const key = $("key").value.trim();
  if (!key) return;
  localStorage.setItem(API_KEY, key);
  state.needsKey = true;
  $("key").value = "";
  $("key-form").hidden = true;
  const retry = state.pending;
  state.pending = null;
  if (retry) retry();
}

async function restoreSession() {
  if (!state.sessionId) return;
  try {
    // The turns come a page at a time; next_start is null on the last page.
    let start = 0;
    while (start !== null) {
      const path = `/sessions/${encodeURIComponent(state.sessionId)}?start=${start}&limit=100`;
      const page = await api(path);
      for (const turn of page.turns) showTurn(turn);
      start = page.next_start;
    }
  } catch (error) {
    if (error.status === 404) setSession(null);
    else handleError(error, restoreSession);
  }
}

function newConversation() {
  setSession(null);
  $("turns").replaceChildren();
  $("empty").hidden = false;
  closeDocument();
  showError("");
  $("message").focus();
}

$("ask-form").addEventListener("submit", submitQuestion);
$("message").addEventListener("input", checkLength);
$("message").addEventListener("keydown", (event) => {
  // Enter sends; Shift+Enter (and Enter while an input method composes) breaks the line.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("ask-form").requestSubmit();
  }
});
$("key-form").addEventListener("submit", saveKey);
$("close-document").addEventListener("click", closeDocument);
$("new-conversation").addEventListener("click", newConversation);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeDocument();
});
checkLength();
$("message").focus();
restoreSession();

// The input bar's height, for the room kept under the conversation and for scrolling.
new ResizeObserver(() => {
  document.documentElement.style.setProperty("--bar", `${$("ask-form").offsetHeight}px`);
}).observe($("ask-form"));
