/**
 * Serves the built committee console (console/dist, made by `npm run build:console`,
 * which `npm ci` runs through the `prepare` script) at `/`.
 *
 * A small handler instead of a static-file plugin: the bundle is a handful of files,
 * read once at start into memory (with a gzip copy), so no request ever touches the
 * file system or a path a client chose. `/assets/*` names carry a content hash and are
 * cached for a year (immutable); `index.html` is revalidated on every load (no-cache),
 * so a new build is picked up at once. Every console response carries a strict CSP.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../console/dist', import.meta.url));

/**
 * No inline script, nothing from another origin. Element Plus positions popovers with
 * inline style attributes, hence 'unsafe-inline' for styles only.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.json': 'application/json; charset=utf-8',
};

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
}

function load(path: string): Asset {
  const body = readFileSync(path);
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  const compressible = /^(text\/|image\/svg|application\/json)/.test(type) && body.length > 1024;
  return { body, gzip: compressible ? gzipSync(body, { level: 9 }) : null, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin');
}

function sendAsset(req: FastifyRequest, reply: FastifyReply, a: Asset, cacheControl: string): FastifyReply {
  securityHeaders(reply).header('cache-control', cacheControl).header('etag', a.etag).header('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  reply.type(a.type);
  const ae = req.headers['accept-encoding'];
  if (a.gzip && typeof ae === 'string' && /\bgzip\b/.test(ae)) return reply.header('content-encoding', 'gzip').send(a.gzip);
  return reply.send(a.body);
}

const NOT_BUILT = `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>fiscus</title>
<body style="font-family:sans-serif;max-width:40rem;margin:3rem auto">
<h1>监督台尚未构建 / The console is not built</h1>
<p>在项目目录运行 <code>npm ci</code>（或 <code>npm run build:console</code>），然后重新启动 <code>fiscus serve</code>。</p>
<p>Run <code>npm ci</code> (or <code>npm run build:console</code>) in the project folder, then restart <code>fiscus serve</code>. The API works meanwhile: <a href="/docs">/docs</a>.</p>
</body></html>`;

/** Whether `npm run build:console` has produced a bundle to serve. */
export function consoleBuilt(dir = DEFAULT_CONSOLE_DIR): boolean {
  return existsSync(join(dir, 'index.html'));
}

export function consoleStaticRoutes(app: FastifyInstance, dir = DEFAULT_CONSOLE_DIR): { built: boolean } {
  const index = join(dir, 'index.html');
  const assets = new Map<string, Asset>();
  const built = existsSync(index);
  const indexAsset = built ? load(index) : null;
  const assetsDir = join(dir, 'assets');
  if (built && existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) {
      const p = join(assetsDir, name);
      if (statSync(p).isFile()) assets.set(name, load(p));
    }
  }
  const icon = built && existsSync(join(dir, 'favicon.svg')) ? load(join(dir, 'favicon.svg')) : null;

  const sendIndex = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!indexAsset) return securityHeaders(reply).code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
    return sendAsset(req, reply, indexAsset, 'no-cache');
  };
  const hidden = { hide: true };
  app.get('/', { config: { public: true }, schema: hidden }, sendIndex);
  app.get('/index.html', { config: { public: true }, schema: hidden }, sendIndex);
  app.get('/favicon.svg', { config: { public: true }, schema: hidden }, async (req, reply) => {
    if (!icon) return reply.callNotFound();
    return sendAsset(req, reply, icon, 'public, max-age=86400');
  });
  app.get<{ Params: { file: string } }>('/assets/:file', { config: { public: true }, schema: hidden }, async (req, reply) => {
    // Only names the build produced: the map is the allow-list, so no path can leave the bundle.
    const a = assets.get(req.params.file);
    if (!a) return reply.callNotFound();
    return sendAsset(req, reply, a, 'public, max-age=31536000, immutable');
  });
  return { built };
}
