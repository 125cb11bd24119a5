/**
 * RFC 9457 problem details: the one shape every API error takes.
 *
 * One error handler and one not-found handler produce `application/problem+json`
 * for everything: validation failures, bad JSON, oversize bodies, auth, scope,
 * FiscusErrors raised by the engine, rate limits. A 5xx never carries the
 * underlying message or stack (they go to the log, with the request id).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
  BAD_JSON: ['请求体不是有效的 JSON', 'Malformed JSON body'],
  BODY_TOO_LARGE: ['请求体过大', 'Request body too large'],
  UNSUPPORTED_MEDIA_TYPE: ['不支持的内容类型', 'Unsupported media type'],
  RATE_LIMITED: ['请求过于频繁', 'Too many requests'],
  SQL_REJECTED: ['查询被拒绝', 'Query rejected'],
  QUERY_TIMEOUT: ['查询超时', 'Query timed out'],
  QUERY_FAILED: ['查询执行失败', 'Query failed'],
  QUERY_BUSY: ['并发查询过多', 'Too many concurrent queries'],
  NOT_ACCEPTABLE: ['不支持请求的响应格式', 'Not acceptable'],
  METHOD_NOT_ALLOWED: ['方法不允许', 'Method not allowed'],
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
  const t = TITLES[code] ?? TITLES[status >= 500 ? 'INTERNAL' : 'VALIDATION']!;
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

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).header('content-type', 'application/problem+json; charset=utf-8').send(JSON.stringify(p));
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
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return [413, 'BODY_TOO_LARGE'];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return [415, 'UNSUPPORTED_MEDIA_TYPE'];
    default:
      return undefined;
  }
}

export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => {
    sendProblem(reply, problem(req, 404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
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
      const code = status === 404 ? 'NOT_FOUND' : status === 405 ? 'METHOD_NOT_ALLOWED' : status === 406 ? 'NOT_ACCEPTABLE' : status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : 'VALIDATION';
      return sendProblem(reply, problem(req, status, code, fe.message));
    }
    req.log.error({ err }, 'unhandled error');
    return sendProblem(reply, problem(req, status >= 500 && status < 600 ? status : 500, status === 503 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL'));
  });
}
