// Extensions iframe SDK: the extension side of the console bridge. Plain ES module, no build step.
//
// The console frames the extension's UI on the extension's own origin with a per-load nonce in the URL fragment.
// ready() announces the nonce to the parent; the parent answers once, to this exact origin, with a MessagePort,
// the context and the theme. Everything after that travels over the port, which no other window can reach.

const PROTOCOL = 'ext-bridge-1';
const listeners = { context: new Set(), theme: new Set() };
const pending = new Map();
let port = null;
let current = null;
let readyPromise = null;
let nextId = 1;
let observer = null;
let lastHeight = 0;

function nonceFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  return params.get('ext-nonce');
}

// The parent's origin: the browser's own record of who framed us (frame-ancestors limits it to the console).
function parentOrigin() {
  if (location.ancestorOrigins && location.ancestorOrigins.length > 0) return location.ancestorOrigins[0];
  if (document.referrer) return new URL(document.referrer).origin;
  return null;
}

/**
 * Completes the handshake. Resolves with the context ({ tenant, user, locale, extensionId, theme }).
 * Safe to call more than once.
 */
export function ready({ timeoutMs = 10000 } = {}) {
  if (readyPromise) return readyPromise;
  readyPromise = new Promise((resolve, reject) => {
    const nonce = nonceFromUrl();
    const origin = parentOrigin();
    if (window.parent === window || !nonce || !origin) {
      reject(new Error('not framed by the console (no parent, nonce or parent origin)'));
      return;
    }
    const timer = setTimeout(() => {
      window.removeEventListener('message', onMessage);
      reject(new Error('the console did not answer the handshake'));
    }, timeoutMs);
    function onMessage(event) {
      const data = event.data;
      if (event.source !== window.parent || event.origin !== origin) return;
      if (!data || data.protocol !== PROTOCOL || data.type !== 'bootstrap' || data.nonce !== nonce) return;
      if (!event.ports || event.ports.length !== 1) return;
      window.removeEventListener('message', onMessage);
      clearTimeout(timer);
      port = event.ports[0];
      port.onmessage = onPortMessage;
      current = data.context || {};
      applyTheme(data.theme);
      startAutoResize();
      resolve(current);
    }
    window.addEventListener('message', onMessage);
    window.parent.postMessage({ protocol: PROTOCOL, type: 'ready', nonce }, origin);
  });
  return readyPromise;
}

function onPortMessage(event) {
  const data = event.data || {};
  if (data.type === 'apiproxy_response') {
    const call = pending.get(data.id);
    if (!call) return;
    pending.delete(data.id);
    if (data.error) call.reject(new Error(data.error));
    else call.resolve(makeResponse(data));
  } else if (data.type === 'theme') {
    applyTheme(data.theme);
  } else if (data.type === 'context') {
    current = data.context || {};
    for (const fn of listeners.context) fn(current);
  }
}

function makeResponse(data) {
  const body = typeof data.body === 'string' ? data.body : '';
  return {
    status: data.status,
    ok: data.status >= 200 && data.status < 300,
    headers: data.headers || {},
    text: () => body,
    json: () => JSON.parse(body),
  };
}

function applyTheme(theme) {
  if (!theme) return;
  if (current) current.theme = theme;
  document.documentElement.dataset.theme = theme.mode || 'light';
  for (const [name, value] of Object.entries(theme.tokens || {})) {
    if (/^--[a-z0-9-]+$/.test(name)) document.documentElement.style.setProperty(name, String(value));
  }
  for (const fn of listeners.theme) fn(theme);
}

function send(message) {
  if (!port) throw new Error('call ready() first');
  port.postMessage(message);
}

/** The context pushed by the console, or null before ready(). */
export function context() {
  return current;
}

/** Calls this extension's own endpoint through the console, with the user's session. `path` is relative to /api/ext/{id}. */
// The console is what enforces the route rules; the SDK passes the path through unchanged.
export function api(path, init = {}) {
  const id = nextId++;
  const { method = 'GET', body, headers } = init;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    try {
      send({ type: 'apiproxy', id, path, method, headers: headers || {}, body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body) });
    } catch (error) {
      pending.delete(id);
      reject(error);
    }
  });
}

/** Asks the console to show another page of this extension (path relative to the extension's UI). */
export function navigate(path) {
  send({ type: 'navigate', path: String(path) });
}

/** Reports the content height now; ready() also does it automatically whenever the page's size changes. */
export function resize(height) {
  const h = Math.ceil(height ?? document.documentElement.scrollHeight);
  if (h === lastHeight) return;
  lastHeight = h;
  send({ type: 'resize', height: h });
}

/** Subscribes to theme changes ({ mode: 'light'|'dark', tokens }); returns an unsubscribe function. */
export function onTheme(fn) {
  listeners.theme.add(fn);
  return () => listeners.theme.delete(fn);
}

/** Subscribes to context changes; returns an unsubscribe function. */
export function onContext(fn) {
  listeners.context.add(fn);
  return () => listeners.context.delete(fn);
}

function startAutoResize() {
  if (observer || typeof ResizeObserver === 'undefined') return;
  observer = new ResizeObserver(() => resize());
  observer.observe(document.documentElement);
  resize();
}
