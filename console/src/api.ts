// Talking to fiscus: same-origin fetch with the session cookie; writes carry the session's
// CSRF token; errors are the server's RFC 9457 problems, shown as they are.
import { reactive } from 'vue';
import { lang } from './i18n.ts';

export interface Me {
  name: string;
  role: 'admin' | 'supervisor' | 'analyst' | 'agency' | 'portal';
  agency_code: string | null;
  agency_name: string | null;
  csrf_token: string;
}

export const session = reactive<{ me: Me | null; checked: boolean; ended: boolean }>({ me: null, checked: false, ended: false });

// Bumped at every login and logout. A request answers for the session it was sent with: a
// 401 to a request of a session that has since been replaced (a dashboard query still
// retrying when someone signs out and in as another role) must not end the new one.
let generation = 0;

export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: { title?: string; detail?: string; code?: string; errors?: { path: string; message: string }[] }) {
    super(problem.detail ? `${problem.title ?? ''}：${problem.detail}`.replace(/^：/, '') : (problem.title ?? `HTTP ${status}`));
  }
}

interface Opts {
  method?: string;
  body?: unknown;
  form?: FormData;
  blob?: boolean;
}

export async function api<T = any>(path: string, opts: Opts = {}): Promise<T> {
  const method = opts.method ?? (opts.body !== undefined || opts.form ? 'POST' : 'GET');
  const sentIn = generation;
  const headers: Record<string, string> = { 'accept-language': lang.value === 'zh' ? 'zh-CN' : 'en' };
  if (method !== 'GET' && session.me) headers['x-csrf-token'] = session.me.csrf_token;
  let body: BodyInit | undefined;
  if (opts.form) body = opts.form;
  else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  // The analysts' query pool is small: a busy answer is retried a few times, shortly after.
  // Not once the session has changed: the retry would go out with the new session's cookie.
  for (let i = 1; res.status === 429 && i <= 6 && !opts.form && sentIn === generation; i++) {
    await new Promise((r) => setTimeout(r, 250 * i));
    res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  }
  if (!res.ok) {
    let p: ApiError['problem'] = {};
    try {
      p = await res.json();
    } catch {
      p = { title: `HTTP ${res.status}` };
    }
    if (res.status === 401 && path !== '/v1/session' && sentIn === generation) {
      session.me = null;
      session.ended = true;
    }
    throw new ApiError(res.status, p);
  }
  if (opts.blob) return (await res.blob()) as T;
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export async function loadSession(): Promise<void> {
  try {
    session.me = await api<Me>('/v1/session');
  } catch {
    session.me = null;
  } finally {
    session.checked = true;
  }
}

export async function login(token: string): Promise<void> {
  const me = await api<Me>('/v1/session', { body: { token } });
  generation++;
  session.me = me;
  session.ended = false;
}

export async function logout(): Promise<void> {
  generation++;
  try {
    await api('/v1/session', { method: 'DELETE' });
  } finally {
    session.me = null;
  }
}

/** Saves a downloaded body under a name (an object URL and a link the user never sees). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Where each role starts and what it may open (the server enforces the same). */
export const NAV: Record<Me['role'], string[]> = {
  admin: ['inbox', 'dashboards', 'query', 'reports', 'projects'],
  supervisor: ['inbox', 'dashboards', 'query', 'reports', 'projects'],
  analyst: ['inbox', 'dashboards', 'query', 'reports', 'projects'],
  agency: ['workspace'],
  portal: ['alerts'],
};
