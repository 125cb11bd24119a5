/**
 * Documents of a flag (api/documents.ts): upload (multipart, field `file`), list, download.
 *
 * Scope first: the flag must be visible to the caller (the same SQL scope as every flag
 * read), so another agency's document answers 404 exactly like a missing one. Uploading
 * needs a role that may act on flags; downloading needs one that may read them. A download
 * is always an attachment, with the sniffed type, nosniff and a sandboxing CSP.
 */
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.ts';
import { attachmentDisposition, DocumentTooLarge, type DocumentArchive } from '../documents.ts';
import { getFlag } from '../flags-repo.ts';
import { HttpProblem } from '../problem.ts';
import { CAN } from '../scope.ts';
import { problemResponses } from './schemas.ts';

const metaSchema = z
  .object({ sha256: z.string(), name: z.string(), bytes: z.number().int(), content_type: z.string(), uploaded_by: z.string(), role: z.string(), at: z.string() })
  .meta({ id: 'Document' });

export async function documentRoutes(app: FastifyInstance, ctx: ApiContext, archive: DocumentArchive): Promise<void> {
  const visible = async (req: { principal: Parameters<typeof getFlag>[1] }, id: string) => {
    const f = await getFlag(ctx.pool, req.principal, id);
    if (!f) throw new HttpProblem(404, 'NOT_FOUND', `no flag ${id}`);
    return f;
  };

  // Multipart only here (its own plugin scope): every other route keeps refusing it with 415.
  await app.register(async (sub) => {
    await sub.register(fastifyMultipart, {
      limits: { fileSize: archive.maxBytes, files: 1, fields: 5, fieldSize: 1024, parts: 6, headerPairs: 100 },
      throwFileSizeLimit: true,
    });
    sub.withTypeProvider<ZodTypeProvider>().post('/v1/flags/:id/documents', {
      config: { roles: CAN.act },
      schema: {
        tags: ['documents'],
        summary: 'Upload one document to a flag (multipart/form-data, field "file"); archived by SHA-256',
        consumes: ['multipart/form-data'],
        params: z.object({ id: z.string().min(1).max(200) }),
        response: { 201: metaSchema, ...problemResponses, 413: problemResponses[400] },
      },
    }, async (req, reply) => {
      await visible(req, req.params.id);
      if (!req.isMultipart()) throw new HttpProblem(415, 'UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data with one file in the field "file"');
      let part;
      try {
        part = await req.file();
      } catch (err) {
        throw multipartProblem(err, archive.maxBytes);
      }
      if (!part || part.fieldname !== 'file') throw new HttpProblem(400, 'VALIDATION', 'send one file in the multipart field "file"');
      try {
        const meta = await archive.store(req.params.id, part.file, part.filename, { name: req.principal.name, role: req.principal.role });
        req.log.info({ flag: req.params.id, sha256: meta.sha256, bytes: meta.bytes, actor: req.principal.name }, 'document archived');
        return reply.code(201).send(meta);
      } catch (err) {
        throw multipartProblem(err, archive.maxBytes);
      }
    });
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/v1/flags/:id/documents', {
    config: { roles: CAN.readFlags },
    schema: {
      tags: ['documents'],
      summary: 'The documents uploaded to a flag',
      params: z.object({ id: z.string().min(1).max(200) }),
      response: { 200: z.object({ items: z.array(metaSchema) }), ...problemResponses },
    },
  }, async (req) => {
    await visible(req, req.params.id);
    return { items: archive.list(req.params.id) };
  });

  r.get('/v1/flags/:id/documents/:sha256', {
    config: { roles: CAN.readFlags },
    schema: {
      tags: ['documents'],
      summary: 'Download a document of a flag (always an attachment)',
      params: z.object({ id: z.string().min(1).max(200), sha256: z.string().max(64) }),
    },
  }, async (req, reply) => {
    await visible(req, req.params.id);
    const doc = archive.open(req.params.id, req.params.sha256);
    if (!doc) throw new HttpProblem(404, 'NOT_FOUND', `flag ${req.params.id} has no document ${req.params.sha256.slice(0, 64)}`);
    return reply
      .type(doc.meta.content_type)
      .header('content-length', String(doc.meta.bytes))
      .header('content-disposition', attachmentDisposition(doc.meta.name))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('cache-control', 'private, no-store')
      .header('digest', `sha-256=${Buffer.from(doc.meta.sha256, 'hex').toString('base64')}`)
      .send(doc.stream);
  });
}

function multipartProblem(err: unknown, limit: number): unknown {
  if (err instanceof DocumentTooLarge) return new HttpProblem(413, 'BODY_TOO_LARGE', `the document is larger than the limit of ${limit} bytes`);
  const code = (err as { code?: string }).code ?? '';
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new HttpProblem(413, 'BODY_TOO_LARGE', `the document is larger than the limit of ${limit} bytes`);
  if (code.startsWith('FST_') && /MULTIPART|FILES_LIMIT|PARTS_LIMIT|FIELDS_LIMIT|INVALID/.test(code)) return new HttpProblem(400, 'VALIDATION', `malformed upload: ${(err as Error).message}`);
  if (/Unexpected end of form|Malformed|boundary/i.test(String((err as Error)?.message))) return new HttpProblem(400, 'VALIDATION', `malformed upload: ${(err as Error).message}`);
  return err;
}
