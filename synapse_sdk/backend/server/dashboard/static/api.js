// The server's JSON API and event streams, as the browser's session (the HttpOnly cookie) sees them.

const CSRF = document.querySelector('meta[name="csrf-token"]')?.content || "";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function answer(reply) {
  if (reply.status === 401) {
    location.assign(`/login?next=${encodeURIComponent("/" + location.hash)}`);
    throw new ApiError(401, "logged out");
  }
  if (!reply.ok) {
    let detail = `HTTP ${reply.status}`;
    try { detail = (await reply.json()).detail || detail; } catch { /* not JSON */ }
    throw new ApiError(reply.status, typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return reply;
}

export async function getJSON(path) {
  const reply = await answer(await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } }));
  return reply.json();
}

// GET returning the body and the headers (the runs list's cursor and change number are headers).
export async function getWithHeaders(path) {
  const reply = await answer(await fetch(path, { credentials: "same-origin" }));
  return { body: await reply.json(), headers: reply.headers };
}

export async function post(path, body) {
  const reply = await answer(await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify(body ?? {}),
  }));
  return reply.json();
}

// An EventSource whose named events call handlers[name](data); onFail() when it cannot open at all.
export function openStream(path, handlers, onFail) {
  const source = new EventSource(path, { withCredentials: true });
  let opened = false;
  source.onopen = () => { opened = true; };
  source.onerror = () => {
    if (!opened && source.readyState === EventSource.CLOSED) {
      source.close();
      if (onFail) onFail();
    }
  };
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch { return; }
      handler(data, event);
    });
  }
  return source;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) value.forEach((v) => search.append(key, v));
    else if (value !== null && value !== undefined && value !== "") search.append(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
