// The console's side of the extension bridge, plus the theme switch. Plain ES module, served from /console/static/.
//
// buildExtUiSrc() makes the iframe URL on the extension's own origin with a per-load nonce in the fragment.
// bootstrapIframe() waits for that iframe's `ready` (checked: source window, exact origin, nonce), then hands it a
// MessagePort with the context and theme. On the port it answers apiproxy calls (only the extension's own
// /api/ext/{id}/... routes, normalised), resizes the frame and follows navigation within the extension's UI.

const PROTOCOL = 'ext-bridge-1';
const EXTENSION_ID = /^[a-z][a-z0-9-]{0,62}\.[a-z][a-z0-9-]{0,62}$/;
const CONTENT_HASH = /^sha256:[0-9a-f]{64}$/;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const REQUEST_HEADERS = ['content-type', 'accept'];
const RESPONSE_HEADERS = ['content-type', 'etag', 'cache-control', 'content-language', 'last-modified'];
const MAX_BODY = 1024 * 1024;
const CSRF_HEADER = 'x-ext-csrf';

/** Decodes each segment once and refuses empty, '.', '..', separators, backslashes and control characters. */
export function safeSegments(path) {
  if (typeof path !== 'string' || path.length === 0 || path.length > 2048) return null;
  const segments = [];
  for (const raw of path.split('/')) {
    let segment;
    try { segment = decodeURIComponent(raw); } catch { return null; }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\\u0000-\u001f\u007f]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

/** The iframe URL for a file of an installed bundle, on the extension's own asset origin. */
export function buildExtUiSrc({ origin, extensionId, contentHash, path, nonce }) {
  const parsed = new URL(origin);
  if (parsed.origin !== origin || !/^https?:$/.test(parsed.protocol)) throw new Error(`not an origin: ${origin}`);
  if (!EXTENSION_ID.test(extensionId)) throw new Error(`not an extension id: ${extensionId}`);
  if (!CONTENT_HASH.test(contentHash)) throw new Error(`not a content hash: ${contentHash}`);
  const segments = safeSegments(path);
  if (!segments) throw new Error(`not a bundle path: ${path}`);
  if (!/^[A-Za-z0-9_-]{16,}$/.test(nonce)) throw new Error('the nonce must be random base64url');
  return `${origin}/ext-ui/${extensionId}/${contentHash}/${segments.map(encodeURIComponent).join('/')}#ext-nonce=${nonce}`;
}

/**
 * Maps an apiproxy path ('/hello/Ada?x=1', relative to the extension) to '/api/ext/{id}/hello/Ada?x=1' on this origin,
 * or null when it would leave the extension's own routes.
 */
export function normaliseApiPath(extensionId, path) {
  if (!EXTENSION_ID.test(extensionId) || typeof path !== 'string' || !path.startsWith('/') || path.includes('#')) return null;
  const q = path.indexOf('?');
  const pathPart = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? '' : path.slice(q);
  const segments = pathPart === '/' ? [] : safeSegments(pathPart.slice(1));
  if (!segments) return null;
  const prefix = `/api/ext/${extensionId}/`;
  const url = new URL(prefix + segments.map(encodeURIComponent).join('/') + query, location.origin);
  if (url.origin !== location.origin || !url.pathname.startsWith(prefix)) return null;
  return url.pathname + url.search;
}

function randomNonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Loads `path` of the extension's UI into `iframe` and runs the handshake. Returns a controller:
 * { nonce, setTheme(theme), destroy() }.
 */
export function bootstrapIframe(iframe, { origin, extensionId, contentHash, path, context, theme, csrf, onResize, onNavigate, onReady }) {
  const nonce = randomNonce();
  let port = null;
  let currentTheme = theme;

  const ignore = reason => console.debug(`[ext-bridge] ignored a message: ${reason}`);

  function onWindowMessage(event) {
    if (event.source !== iframe.contentWindow) return ignore('not from the extension frame');
    if (event.origin !== origin) return ignore(`wrong origin ${event.origin}`);
    const data = event.data;
    if (!data || data.protocol !== PROTOCOL || data.type !== 'ready') return ignore('not a ready message');
    if (data.nonce !== nonce) return ignore('wrong nonce');
    if (port) return ignore('handshake already done');
    const channel = new MessageChannel();
    port = channel.port1;
    port.onmessage = onPortMessage;
    iframe.contentWindow.postMessage(
      { protocol: PROTOCOL, type: 'bootstrap', nonce, context: { ...context, theme: currentTheme }, theme: currentTheme },
      origin, [channel.port2]);
    onReady?.();
  }

  async function onPortMessage(event) {
    const data = event.data || {};
    if (data.type === 'resize' && Number.isFinite(data.height)) onResize?.(Math.min(Math.max(Math.ceil(data.height), 80), 10000));
    else if (data.type === 'navigate') onNavigate?.(String(data.path));
    else if (data.type === 'apiproxy') port.postMessage({ type: 'apiproxy_response', id: data.id, ...await proxy(data) });
  }

  async function proxy(data) {
    const url = normaliseApiPath(extensionId, data.path);
    if (!url) return { error: `refused: '${String(data.path).slice(0, 200)}' is not a route of ${extensionId}` };
    const method = String(data.method || 'GET').toUpperCase();
    if (!METHODS.includes(method)) return { error: `refused: method ${method.slice(0, 20)}` };
    const body = method === 'GET' || data.body == null ? undefined : String(data.body);
    if (body !== undefined && body.length > MAX_BODY) return { error: 'refused: the body is larger than 1 MiB' };
    const headers = { [CSRF_HEADER]: csrf };
    for (const [name, value] of Object.entries(data.headers || {})) {
      if (REQUEST_HEADERS.includes(String(name).toLowerCase())) headers[name] = String(value);
    }
    try {
      const response = await fetch(url, { method, headers, body, credentials: 'same-origin', redirect: 'error', cache: 'no-store' });
      const out = {};
      response.headers.forEach((value, name) => {
        if (RESPONSE_HEADERS.includes(name) || (name.startsWith('x-') && name !== CSRF_HEADER)) out[name] = value;
      });
      return { status: response.status, headers: out, body: await response.text() };
    } catch (error) {
      return { error: `the request failed: ${error.message}` };
    }
  }

  window.addEventListener('message', onWindowMessage);
  iframe.src = buildExtUiSrc({ origin, extensionId, contentHash, path, nonce });

  return {
    nonce,
    setTheme(next) {
      currentTheme = next;
      port?.postMessage({ type: 'theme', theme: next });
    },
    destroy() {
      window.removeEventListener('message', onWindowMessage);
      port?.close();
      port = null;
    },
  };
}

// ---- theme ----

function themeMode() {
  const explicit = document.documentElement.dataset.theme;
  if (explicit === 'light' || explicit === 'dark') return explicit;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const THEME_TOKENS = ['bg', 'surface', 'fg', 'muted', 'accent', 'accent-fg', 'border', 'danger', 'ok', 'warn', 'info', 'focus', 'backdrop'];

function currentTheme() {
  const style = getComputedStyle(document.documentElement);
  const tokens = {};
  // The console's own values of the UI kit's colour tokens: the iframe then matches the console exactly, whatever its kit copy says.
  for (const name of THEME_TOKENS) tokens[`--ext-${name}`] = style.getPropertyValue(`--ext-${name}`).trim();
  return { mode: themeMode(), tokens };
}

const themeListeners = new Set();

function setupThemeToggle() {
  const saved = localStorage.getItem('ext-theme');
  if (saved === 'light' || saved === 'dark') document.documentElement.dataset.theme = saved;
  const toggle = document.getElementById('theme-toggle');
  const render = () => {
    if (!toggle) return;
    const dark = themeMode() === 'dark';
    toggle.setAttribute('aria-pressed', String(dark));
    toggle.textContent = dark ? 'Light theme' : 'Dark theme';
  };
  toggle?.addEventListener('click', () => {
    const next = themeMode() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('ext-theme', next);
    render();
    for (const fn of themeListeners) fn(currentTheme());
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    render();
    for (const fn of themeListeners) fn(currentTheme());
  });
  render();
}

// ---- the extension page ----

function setupExtensionPage(host) {
  const d = host.dataset;
  const status = document.getElementById('ext-status');
  const csrf = document.querySelector('meta[name="ext-csrf"]')?.content ?? '';
  const iframe = document.createElement('iframe');
  // Scripts and forms run; same-origin only because the origin is the extension's own (see DESIGN, UI delivery).
  iframe.setAttribute('sandbox', 'allow-scripts allow-forms allow-same-origin');
  iframe.setAttribute('title', d.title);
  iframe.setAttribute('referrerpolicy', 'strict-origin');
  iframe.className = 'ext-iframe';
  host.append(iframe);

  let controller = null;
  const load = path => {
    controller?.destroy();
    status.textContent = 'Loading…';
    controller = bootstrapIframe(iframe, {
      origin: d.origin,
      extensionId: d.extension,
      contentHash: d.hash,
      path,
      csrf,
      theme: currentTheme(),
      context: {
        tenant: d.tenant,
        user: { id: d.userId, name: d.userName, kind: d.userKind, role: d.userRole },
        locale: d.locale,
        extensionId: d.extension,
      },
      onReady: () => { status.textContent = ''; host.dataset.connected = 'true'; },
      onResize: height => { iframe.style.height = `${height}px`; },
      onNavigate: next => {
        if (safeSegments(next)) load(next);
        else console.debug(`[ext-bridge] ignored navigation to ${next.slice(0, 200)}`);
      },
    });
  };
  themeListeners.add(theme => controller?.setTheme(theme));
  load(d.entry);
}

setupThemeToggle();
const extensionHost = document.getElementById('ext-frame');
if (extensionHost) setupExtensionPage(extensionHost);
