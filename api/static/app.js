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

// The quote with the answer span marked: the span is quote[start - quote_start, end - quote_start].
function highlightedQuote(citation) {
  const from = citation.start - citation.quote_start;
  const to = citation.end - citation.quote_start;
  const quote = citation.quote;
  return el("blockquote", { class: "quote" },
    quote.slice(0, from), el("mark", {}, quote.slice(from, to)), quote.slice(to));
}

function renderTurn(question, response) {
  const item = el("li", { class: "turn" });
  item.append(el("p", { class: "question" }, question));
  if (response.resolved_question && response.resolved_question !== response.question) {
    item.append(el("p", { class: "resolved" }, "Answered as: ", el("q", {}, response.resolved_question)));
  }
  const reply = el("div", { class: "reply" });
  item.append(reply);
  if (response.abstained || response.answers.length === 0) {
    reply.classList.add("abstained");
    reply.append(el("p", {}, response.message || "I could not find that in the documents."));
    return item;
  }
  // Sources are numbered once per turn: the same sentence cited twice keeps its number.
  const numbers = new Map();
  const sources = [];
  for (const answer of response.answers) {
    const marks = [];
    for (const citation of answer.citations) {
      const key = `${citation.doc_id}:${citation.quote_start}`;
      if (!numbers.has(key)) {
        numbers.set(key, numbers.size + 1);
        sources.push(citation);
      }
      marks.push(numbers.get(key));
    }
    const first = answer.citations[0];
    reply.append(el("div", { class: "answer" },
      el("p", { class: "answer-text" }, answer.text,
        ...[...new Set(marks)].map((n) => el("sup", { class: "mark" }, `[${n}]`))),
      first ? highlightedQuote(first) : null));
  }
  const list = el("ol", { class: "sources" });
  sources.forEach((citation, i) => {
    const publisher = el("span", { class: "publisher" });
    describeSource(citation.doc_id, publisher);
    list.append(el("li", {},
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

function showTurn(question, response) {
  $("empty").hidden = true;
  const item = renderTurn(question, response);
  $("turns").append(item);
  item.scrollIntoView({ block: "end", behavior: "smooth" });
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
  // Offsets point into exactly this text, so slicing it places the marks.
  const text = doc.text;
  const body = $("document-text");
  body.replaceChildren(
    text.slice(0, citation.quote_start),
    el("span", { class: "quoted" },
      text.slice(citation.quote_start, citation.start),
      el("mark", { id: "cited-span" }, text.slice(citation.start, citation.end)),
      text.slice(citation.end, citation.quote_end)),
    text.slice(citation.quote_end));
  $("document-panel").hidden = false;
  document.body.classList.add("with-document");
  $("cited-span").scrollIntoView({ block: "center" });
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

async function submitQuestion(event) {
  event.preventDefault();
  const input = $("message");
  const message = input.value.trim();
  if (!message) return;
  const idempotencyKey = newIdempotencyKey();
  const send = async () => {
    showError("");
    $("send").disabled = true;
    document.body.classList.add("busy");
    try {
      const response = await ask(message, idempotencyKey);
      setSession(response.session_id);
      showTurn(message, response);
      input.value = "";
    } catch (error) {
      handleError(error, send);
    } finally {
      $("send").disabled = false;
      document.body.classList.remove("busy");
      input.focus();
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
      for (const turn of page.turns) showTurn(turn.question, turn.response);
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
$("key-form").addEventListener("submit", saveKey);
$("close-document").addEventListener("click", closeDocument);
$("new-conversation").addEventListener("click", newConversation);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeDocument();
});
restoreSession();
