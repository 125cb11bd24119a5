/**
 * RFC 9457 problem details: the one shape every API error takes.
 *
 * One error handler and one not-found handler produce `application/problem+json`
 * for everything: validation failures, bad JSON, oversize bodies, auth, scope,
 * FiscusErrors raised by the engine, rate limits. A 5xx never carries the
 * underlying message or stack (they go to the log, with the request id).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { FiscusError } from '../engine/errors.ts';

export const PROBLEM_TYPE_BASE = 'https://fiscus.invalid/problems/';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  errors?: { path: string; message: string }[];
  [k: string]: unknown;
}

/** Titles per code, zh-CN and English (chosen by Accept-Language). */
const TITLES: Record<string, [zh: string, en: string]> = {
  UNAUTHORIZED: ['未认证', 'Unauthorized'],
  FORBIDDEN: ['无权访问', 'Forbidden'],
  NOT_FOUND: ['未找到', 'Not found'],
  VALIDATION: ['请求参数无效', 'Invalid request'],
  CONFLICT: ['与当前状态冲突', 'Conflict with the current state'],
  ILLEGAL_TRANSITION: ['当前状态不允许此操作', 'Action not allowed in the current state'],
  BAD_JSON: ['请求体不是有效的 JSON', 'Malformed JSON body'],
  BODY_TOO_LARGE: ['请求体过大', 'Request body too large'],
  UNSUPPORTED_MEDIA_TYPE: ['不支持的内容类型', 'Unsupported media type'],
  RATE_LIMITED: ['请求过于频繁', 'Too many requests'],
  SQL_REJECTED: ['查询被拒绝', 'Query rejected'],
  QUERY_TIMEOUT: ['查询超时', 'Query timed out'],
  QUERY_FAILED: ['查询执行失败', 'Query failed'],
  QUERY_BUSY: ['并发查询过多', 'Too many concurrent queries'],
  QUERY_TOO_LARGE: ['查询结果过大', 'Query result too large'],
  NOT_ACCEPTABLE: ['不支持请求的响应格式', 'Not acceptable'],
  METHOD_NOT_ALLOWED: ['方法不允许', 'Method not allowed'],
  BAD_REQUEST: ['请求格式错误', 'Malformed request'],
  BAD_URL: ['请求地址编码无效', 'Malformed URL encoding'],
  URI_TOO_LONG: ['请求地址过长', 'URI too long'],
  HEADERS_TOO_LARGE: ['请求头过大', 'Request header fields too large'],
  REQUEST_TIMEOUT: ['请求超时', 'Request timeout'],
  EXPECTATION_FAILED: ['不支持的 Expect 请求头', 'Expectation failed'],
  SERVICE_UNAVAILABLE: ['服务暂不可用', 'Service unavailable'],
  INTERNAL: ['服务器内部错误', 'Internal server error'],
};

export function wantsEnglish(req: FastifyRequest): boolean {
  const al = req.headers['accept-language'];
  return typeof al === 'string' && /^\s*en\b/i.test(al);
}

export function problem(
  req: FastifyRequest,
  status: number,
  code: string,
  detail?: string,
  extra: Record<string, unknown> = {},
): Problem {
  // A code without a title of its own is titled by its status (a 409 is a conflict, not "invalid request").
  const t = TITLES[code] ?? (status === 400 ? TITLES.VALIDATION! : TITLES[codeForStatus(status)]!);
  return {
    type: `${PROBLEM_TYPE_BASE}${code.toLowerCase().replaceAll('_', '-')}`,
    title: wantsEnglish(req) ? t[1] : t[0],
    status,
    ...(detail !== undefined ? { detail } : {}),
    instance: req.url.split('?')[0],
    code,
    ...extra,
  };
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(p));
}

/** An error a handler throws to produce a specific problem. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

function fastifyCodeToProblem(e: FastifyError): [number, string] | undefined {
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [400, 'BAD_JSON'];
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, 'BODY_TOO_LARGE'];
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return [400, 'BAD_REQUEST'];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return [415, 'UNSUPPORTED_MEDIA_TYPE'];
    default:
      return undefined;
  }
}

/** The problem code of a bare HTTP status (errors that carry no code of their own). */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400: return 'BAD_REQUEST';
    case 401: return 'UNAUTHORIZED';
    case 403: return 'FORBIDDEN';
    case 404: return 'NOT_FOUND';
    case 405: return 'METHOD_NOT_ALLOWED';
    case 406: return 'NOT_ACCEPTABLE';
    case 408: return 'REQUEST_TIMEOUT';
    case 409: return 'CONFLICT';
    case 413: return 'BODY_TOO_LARGE';
    case 414: return 'URI_TOO_LONG';
    case 415: return 'UNSUPPORTED_MEDIA_TYPE';
    case 417: return 'EXPECTATION_FAILED';
    case 429: return 'RATE_LIMITED';
    case 431: return 'HEADERS_TOO_LARGE';
    case 503: return 'SERVICE_UNAVAILABLE';
    default: return status >= 500 ? 'INTERNAL' : 'VALIDATION';
  }
}

/**
 * Path parameters up to this length reach the route (and its schema: a flag id of
 * 201–2048 characters is a 400 from the params schema, not fastify's default 414 at 101).
 */
export const MAX_PARAM_LENGTH = 2048;

/**
 * Fastify and Node options that turn the errors produced before our handlers run into
 * problems: malformed percent-encoding (FST_ERR_BAD_URL) and over-long path parameters
 * (FST_ERR_MAX_PARAM_LENGTH) through `frameworkErrors`; parser-level errors (bad request
 * line, bad chunking, 431 header overflow, 408 header timeout) through `clientErrorHandler`;
 * a missing Host header is answered by our onRequest hook instead of Node's empty 400.
 * Spread into the `Fastify({...})` options.
 */
export function problemServerOptions(): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler' | 'routerOptions'> & {
  http: { requireHostHeader: boolean };
} {
  return {
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (err, req, reply) => {
      if (err.code === 'FST_ERR_BAD_URL') {
        sendProblem(reply as FastifyReply, problem(req as FastifyRequest, 400, 'BAD_URL', 'the URL path is not valid percent-encoded UTF-8'));
      } else if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        sendProblem(reply as FastifyReply, problem(req as FastifyRequest, 414, 'URI_TOO_LONG', `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`));
      } else {
        (req as FastifyRequest).log.error({ err }, 'framework error');
        sendProblem(reply as FastifyReply, problem(req as FastifyRequest, 500, 'INTERNAL'));
      }
    },
    clientErrorHandler: onClientError,
    http: { requireHostHeader: false },
  };
}

/**
 * A complete HTTP/1.1 response carrying a problem, for places that have a socket and no
 * request: the request could not be parsed, so there is no Accept-Language (zh-CN title
 * with the English one in `title_en`) and no instance.
 */
function rawProblemResponse(status: number, code: string, detail: string): string {
  const t = TITLES[code] ?? TITLES[status >= 500 ? 'INTERNAL' : 'BAD_REQUEST']!;
  const body = JSON.stringify({
    type: `${PROBLEM_TYPE_BASE}${code.toLowerCase().replaceAll('_', '-')}`,
    title: t[0],
    title_en: t[1],
    status,
    detail,
    code,
  });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * Node's `clientError`: the parser rejected the bytes (bad request line, bad chunked
 * encoding, Content-Length with Transfer-Encoding, an unknown method, headers over
 * --max-http-header-size, headers not received in time). The problem is written on the
 * socket, which then closes. A response still being produced for an earlier, complete,
 * pipelined request on the same socket is let finish first, so its client gets it (Node's
 * own handler would cut it off); the problem then answers the bad request, in order. An
 * error inside the body of the request being answered gets the problem at once, unless
 * that answer has started (then the socket just closes, as in Node).
 */
const answeredClientErrors = new WeakSet<Socket>();
function onClientError(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || answeredClientErrors.has(socket)) return;
  answeredClientErrors.add(socket);
  let status = 400;
  let code = 'BAD_REQUEST';
  let detail = `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})`;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    code = 'HEADERS_TOO_LARGE';
    detail = 'the request line and headers are larger than the server accepts (16 KiB)';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    code = 'REQUEST_TIMEOUT';
    detail = 'the request was not received in time';
  }
  this.log.debug({ err: { code: err.code, message: err.message } }, 'client error');
  const answer = () => {
    if (socket.writable) socket.end(rawProblemResponse(status, code, detail));
    // end() flushes the answer; a peer that never closes its side is cut off shortly after.
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && inFlight.req.complete && !inFlight.writableFinished && !inFlight.destroyed) {
    // The error is in a later request than the one being answered: answer that one first.
    inFlight.once('finish', answer);
    inFlight.once('close', () => setImmediate(() => socket.destroy()));
  } else if (!inFlight?.headersSent) {
    // The error is in this request (e.g. its chunked body): nothing of its answer has gone out.
    answer();
  } else socket.destroy();
}

export function installProblemHandlers(app: FastifyInstance): void {
  // Node answers `Expect: <anything but 100-continue>` with a bodiless 417 unless someone listens.
  app.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const detail = `Expect: ${String(req.headers.expect)} is not supported (only 100-continue)`;
    const body = JSON.stringify({
      type: `${PROBLEM_TYPE_BASE}expectation-failed`,
      title: /^\s*en\b/i.test(String(req.headers['accept-language'] ?? '')) ? TITLES.EXPECTATION_FAILED![1] : TITLES.EXPECTATION_FAILED![0],
      status: 417,
      detail,
      instance: (req.url ?? '/').split('?')[0],
      code: 'EXPECTATION_FAILED',
    });
    res.writeHead(417, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
  });
  // CONNECT is not a method of this API; without a listener Node drops the socket without a word.
  app.server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    if (socket.writable) socket.end(rawProblemResponse(405, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported'));
    socket.destroy();
  });

  // HTTP/1.1 requires Host (RFC 9112 §3.2); Node's own check (disabled above) answers an empty 400.
  app.addHook('onRequest', async (req, reply) => {
    if (req.raw.httpVersion === '1.1' && req.headers.host === undefined) {
      reply.header('connection', 'close');
      return sendProblem(reply, problem(req, 400, 'BAD_REQUEST', 'an HTTP/1.1 request must carry a Host header'));
    }
  });

  // The safety net: an error response that did not come from sendProblem (a plugin's own
  // reply, e.g. @fastify/sse's 406 for `Accept: text/html`) is rewritten as a problem. A 4xx
  // keeps the plugin's message as detail; a 5xx never carries it.
  app.addHook('onSend', async (req, reply, payload) => {
    const status = reply.statusCode;
    if (status < 400) return payload;
    if (String(reply.getHeader('content-type') ?? '').startsWith('application/problem+json')) return payload;
    let detail: string | undefined;
    if (status < 500 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
      try {
        const m = (JSON.parse(payload.toString()) as { message?: unknown }).message;
        if (typeof m === 'string') detail = m;
      } catch {
        /* not JSON: no detail */
      }
    }
    if (payload && typeof (payload as { destroy?: unknown }).destroy === 'function') (payload as { destroy: () => void }).destroy();
    if (status >= 500) req.log.error({ status }, 'non-problem error response replaced');
    reply.header('content-type', PROBLEM_CONTENT_TYPE);
    reply.removeHeader('content-length');
    return JSON.stringify(problem(req, status, codeForStatus(status), detail));
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    // A path that exists with other methods is a 405 with Allow (fastify itself answers 404). A route
    // of this very method that answered "not found" itself (reply.callNotFound) stays a 404.
    const routed = app.findRoute({ method: req.method as 'GET', url: path });
    const allow = routed ? [] : ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => m !== req.method && app.findRoute({ method: m as 'GET', url: path }));
    if (allow.length > 0) {
      reply.header('allow', allow.join(', '));
      return sendProblem(reply, problem(req, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}; allowed: ${allow.join(', ')}`));
    }
    sendProblem(reply, problem(req, 404, 'NOT_FOUND', `no route ${req.method} ${path}`));
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (reply.sent || reply.raw.headersSent) {
      req.log.warn({ err }, 'error after the response started');
      return;
    }
    if (err instanceof HttpProblem) {
      return sendProblem(reply, problem(req, err.status, err.code, err.message, err.extra));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const errors = err.validation.map((v) => ({
        path: `${err.validationContext ?? ''}${v.instancePath || ''}`.replace(/^body\/?/, 'body/') || '(root)',
        message: v.message ?? 'invalid',
      }));
      return sendProblem(
        reply,
        problem(req, 400, 'VALIDATION', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors }),
      );
    }
    if (err instanceof FiscusError) {
      const status = err.httpStatus;
      if (status >= 500) {
        req.log.error({ err }, 'engine error');
        return sendProblem(reply, problem(req, status, 'INTERNAL'));
      }
      return sendProblem(reply, problem(req, status, err.code, err.message));
    }
    const fe = err as FastifyError;
    const mapped = fastifyCodeToProblem(fe);
    if (mapped) return sendProblem(reply, problem(req, mapped[0], mapped[1], fe.message));
    if ((fe as { validation?: unknown }).validation) {
      return sendProblem(reply, problem(req, 400, 'VALIDATION', fe.message));
    }
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (status === 429) {
      if (fe.message) reply.header('retry-after', reply.getHeader('retry-after') ?? '60');
      return sendProblem(reply, problem(req, 429, 'RATE_LIMITED', fe.message));
    }
    if (status >= 400 && status < 500) {
      return sendProblem(reply, problem(req, status, codeForStatus(status), fe.message));
    }
    req.log.error({ err }, 'unhandled error');
    return sendProblem(reply, problem(req, status >= 500 && status < 600 ? status : 500, status === 503 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL'));
  });
}
