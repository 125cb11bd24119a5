/**
 * Browser sessions for the committee console (issue 13).
 *
 * A browser cannot keep a bearer token safely, and EventSource cannot send one, so the
 * console logs in once with its token (POST /v1/session) and gets a session cookie:
 * httpOnly (script cannot read it), SameSite=Strict (other sites' pages never send it),
 * Path=/, Secure when the request came over TLS. The session lives on the server only:
 * the cookie holds 32 random bytes, the server keeps their SHA-256 (a leaked memory dump
 * or log line does not give a usable cookie), the principal, a per-session CSRF token,
 * an idle expiry and an absolute expiry.
 *
 * Writes made with the cookie must carry the CSRF token in `x-csrf-token` (a header a
 * cross-site form cannot set, and a cross-site script cannot read the token: no CORS)
 * and, when the browser sends one, an Origin equal to the server's own. Bearer tokens
 * are not ambient credentials, so API clients need neither.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Principal } from './tokens.ts';

export const SESSION_COOKIE = 'fiscus_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionOptions {
  /** Idle time after which a session ends (default 30 min). */
  idleMs?: number;
  /** Longest life of a session whatever its use (default 12 h). */
  absoluteMs?: number;
  /** Most sessions kept at once; the oldest go first (default 10,000). */
  maxSessions?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface Session {
  principal: Principal;
  csrf: string;
  createdAt: number;
  idleUntil: number;
  absoluteUntil: number;
}

const digest = (id: string) => createHash('sha256').update(id, 'utf8').digest('hex');

export class SessionStore {
  private readonly byDigest = new Map<string, Session>();
  readonly idleMs: number;
  readonly absoluteMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor(opts: SessionOptions = {}) {
    this.idleMs = opts.idleMs ?? 30 * 60_000;
    this.absoluteMs = opts.absoluteMs ?? 12 * 3600_000;
    this.maxSessions = opts.maxSessions ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** A new session; returns the cookie value (never stored) and the session. */
  create(principal: Principal): { id: string; session: Session } {
    this.sweep();
    while (this.byDigest.size >= this.maxSessions) {
      const oldest = this.byDigest.keys().next().value;
      if (oldest === undefined) break;
      this.byDigest.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const t = this.now();
    const session: Session = {
      principal,
      csrf: randomBytes(32).toString('base64url'),
      createdAt: t,
      idleUntil: t + this.idleMs,
      absoluteUntil: t + this.absoluteMs,
    };
    this.byDigest.set(digest(id), session);
    return { id, session };
  }

  /** The live session of a cookie value (its idle expiry moves on), or undefined. */
  touch(id: string | undefined): Session | undefined {
    if (!id || id.length > 200) return undefined;
    const key = digest(id);
    const s = this.byDigest.get(key);
    if (!s) return undefined;
    const t = this.now();
    if (t >= s.idleUntil || t >= s.absoluteUntil) {
      this.byDigest.delete(key);
      return undefined;
    }
    s.idleUntil = Math.min(t + this.idleMs, s.absoluteUntil);
    return s;
  }

  destroy(id: string | undefined): void {
    if (id) this.byDigest.delete(digest(id));
  }

  /** Ends every session of a token (e.g. when it is revoked). */
  destroyForToken(tokenHash: string): void {
    for (const [k, s] of this.byDigest) if (s.principal.tokenHash === tokenHash) this.byDigest.delete(k);
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, s] of this.byDigest) if (t >= s.idleUntil || t >= s.absoluteUntil) this.byDigest.delete(k);
  }
}

/** Reads one cookie from the Cookie header (no plugin needed for one name). */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const raw = req.headers.cookie;
  if (typeof raw !== 'string') return undefined;
  for (const part of raw.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function sessionCookie(req: FastifyRequest, id: string, maxAgeSec: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${secure}`;
}

export function clearedSessionCookie(req: FastifyRequest): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request's Origin (or, without one, its Referer) names this server. A browser
 * sends Origin on every cross-origin request and on same-origin POSTs; a missing Origin
 * and Referer is accepted only from non-browser clients, which cannot hold the cookie
 * of a logged-in user anyway (SameSite=Strict, httpOnly).
 */
export function sameOrigin(req: FastifyRequest): boolean {
  const host = req.headers.host;
  const origin = req.headers.origin ?? (typeof req.headers.referer === 'string' ? safeOrigin(req.headers.referer) : undefined);
  if (origin === undefined) return req.headers['sec-fetch-site'] === undefined || req.headers['sec-fetch-site'] === 'same-origin';
  if (origin === 'null' || !host) return false;
  const o = safeOrigin(origin);
  return o !== undefined && (o === `http://${host}` || o === `https://${host}`);
}

function safeOrigin(u: string): string | undefined {
  try {
    return new URL(u).origin;
  } catch {
    return undefined;
  }
}

/** Why a cookie-authenticated request must be refused, or null when it may go on. */
export function csrfRefusal(req: FastifyRequest, s: Session): string | null {
  if (SAFE_METHODS.has(req.method)) return null;
  if (!sameOrigin(req)) return 'cross-origin request refused: Origin does not match this server';
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || sent.length !== s.csrf.length) return `missing or wrong ${CSRF_HEADER} header (GET /v1/session returns the session's token)`;
  return timingSafeEqual(Buffer.from(sent), Buffer.from(s.csrf)) ? null : `missing or wrong ${CSRF_HEADER} header (GET /v1/session returns the session's token)`;
}

/**
 * The auth hook's cookie path (requests without an Authorization header): the session's
 * principal, a refusal (CSRF / origin), or nothing (no or expired session).
 */
export function sessionAuth(req: FastifyRequest, sessions: SessionStore): { principal: Principal } | { refused: string } | undefined {
  const id = readCookie(req, SESSION_COOKIE);
  if (id === undefined) return undefined;
  const s = sessions.touch(id);
  if (!s) return undefined;
  const refused = csrfRefusal(req, s);
  return refused ? { refused } : { principal: s.principal };
}
