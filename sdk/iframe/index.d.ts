// Types for the Extensions iframe SDK (index.js).

export interface Theme {
  mode: 'light' | 'dark';
  /** CSS custom properties (e.g. "--ext-bg") applied to the document element. */
  tokens: Record<string, string>;
}

export interface Context {
  tenant: string;
  user: { id: string; name: string; kind: string };
  locale: string;
  extensionId: string;
  theme: Theme;
}

export interface ApiInit {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Strings are sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  ok: boolean;
  /** The headers the gateway lets through (content-type, etag, x-…). */
  headers: Record<string, string>;
  text(): string;
  json<T = unknown>(): T;
}

/** Completes the handshake with the console; resolves with the context. */
export function ready(options?: { timeoutMs?: number }): Promise<Context>;
export function context(): Context | null;
/** Calls this extension's own endpoint (path relative to /api/ext/{id}) through the console. */
export function api(path: string, init?: ApiInit): Promise<ApiResponse>;
export function navigate(path: string): void;
export function resize(height?: number): void;
export function onTheme(listener: (theme: Theme) => void): () => void;
export function onContext(listener: (context: Context) => void): () => void;
