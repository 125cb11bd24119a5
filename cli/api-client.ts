/**
 * A small HTTP client for `fiscus … --api URL --token TOKEN` (or env FISCUS_API /
 * FISCUS_TOKEN): while `fiscus serve` owns the database file (DuckDB lets one
 * process hold it), the CLI sends its reads and tracker actions to the server.
 * Problems (RFC 9457) become FiscusErrors with the server's detail.
 */
import { FiscusError, UsageError } from '../engine/errors.ts';

export interface ApiTarget {
  url: string;
  token: string;
}

/** The server to talk to, or undefined to use the database directly. */
export function apiTarget(o: { api?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): ApiTarget | undefined {
  const url = o.api ?? env.FISCUS_API;
  if (!url) return undefined;
  const token = o.token ?? env.FISCUS_TOKEN;
  if (!token) throw new UsageError('--api needs --token (or env FISCUS_TOKEN)');
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--api must be an http(s) URL (got "${url}")`);
  return { url: url.replace(/\/+$/, ''), token };
}

export async function apiCall<T = any>(t: ApiTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${t.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), accept: 'application/json' },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new FiscusError(`cannot reach the fiscus server at ${t.url}: ${err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : String(err)}`, {
      code: 'API_UNREACHABLE',
    });
  }
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const detail = parsed && typeof parsed === 'object' ? [parsed.title, parsed.detail].filter(Boolean).join(': ') : String(parsed).slice(0, 500);
    throw new FiscusError(`server ${res.status}: ${detail || res.statusText}`, {
      code: (parsed && parsed.code) || 'API_ERROR',
      exitCode: res.status === 400 ? 2 : 1,
      httpStatus: res.status,
    });
  }
  return parsed as T;
}
