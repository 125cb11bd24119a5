/**
 * Console login: POST /v1/session (token → session cookie), GET /v1/session (who am I,
 * the CSRF token), DELETE /v1/session (logout). See api/session.ts for the cookie's
 * properties and the CSRF rule.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import { clearedSessionCookie, readCookie, sameOrigin, SESSION_COOKIE, sessionCookie, type Session, type SessionStore } from '../session.ts';
import type { TokenStore } from '../tokens.ts';
import { problemResponses } from './schemas.ts';

const sessionOut = z
  .object({
    name: z.string(),
    role: z.string(),
    agency_code: z.string().nullable(),
    agency_name: z.string().nullable(),
    csrf_token: z.string().describe('send it as x-csrf-token on every write made with the cookie'),
    expires_at: z.string().describe('idle expiry (ISO 8601); every request moves it on, up to absolute_expires_at'),
    absolute_expires_at: z.string(),
  })
  .meta({ id: 'Session' });

export function sessionRoutes(app: FastifyInstance, ctx: ApiContext, deps: { tokens: TokenStore; sessions: SessionStore }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const out = async (s: Session) => {
    const code = s.principal.agencyCode ?? null;
    const row = code ? await ctx.pool.one<{ agency_name: string }>('SELECT agency_name FROM ref.agencies WHERE agency_code = $c', { c: code }) : undefined;
    return {
      name: s.principal.name,
      role: s.principal.role,
      agency_code: code,
      agency_name: row?.agency_name ?? null,
      csrf_token: s.csrf,
      expires_at: new Date(s.idleUntil).toISOString(),
      absolute_expires_at: new Date(s.absoluteUntil).toISOString(),
    };
  };

  r.post('/v1/session', {
    // Public: the token in the body is the credential. Rate-limited per client address.
    config: { public: true },
    schema: {
      tags: ['session'],
      summary: 'Log in with a token: sets the httpOnly, SameSite=Strict session cookie of the console',
      body: z.object({ token: z.string().min(1).max(500) }).strict(),
      response: { 200: sessionOut, ...problemResponses },
    },
  }, async (req, reply) => {
    // Login CSRF: another site must not log a victim's browser into the attacker's session.
    if (!sameOrigin(req)) throw new HttpProblem(403, 'FORBIDDEN', 'cross-origin login refused');
    const who = deps.tokens.authenticate(req.body.token.trim());
    if (!who) throw new HttpProblem(401, 'UNAUTHORIZED', 'unknown token');
    // A new id on every login (no session fixation); the old session, if any, ends.
    deps.sessions.destroy(readCookie(req, SESSION_COOKIE));
    const { id, session } = deps.sessions.create(who);
    reply.header('set-cookie', sessionCookie(req, id, Math.floor(deps.sessions.absoluteMs / 1000)));
    reply.header('cache-control', 'no-store');
    req.log.info({ actor: who.name, role: who.role }, 'console login');
    return out(session);
  });

  r.get('/v1/session', {
    config: { roles: ['admin', 'supervisor', 'analyst', 'agency', 'portal'] },
    schema: { tags: ['session'], summary: 'The current session (role, agency, CSRF token)', response: { 200: sessionOut, ...problemResponses } },
  }, async (req, reply) => {
    const s = deps.sessions.touch(readCookie(req, SESSION_COOKIE));
    if (!s || s.principal.tokenHash !== req.principal.tokenHash) throw new HttpProblem(401, 'UNAUTHORIZED', 'no console session: POST /v1/session with a token');
    reply.header('cache-control', 'no-store');
    return out(s);
  });

  r.delete('/v1/session', {
    config: { roles: ['admin', 'supervisor', 'analyst', 'agency', 'portal'] },
    schema: { tags: ['session'], summary: 'Log out: ends the session and clears the cookie', response: { 204: z.null() } },
  }, async (req, reply) => {
    deps.sessions.destroy(readCookie(req, SESSION_COOKIE));
    reply.header('set-cookie', clearedSessionCookie(req));
    return reply.code(204).send(null);
  });
}
