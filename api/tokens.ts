/**
 * API tokens: who is calling and what they may see.
 *
 * The tokens file is a JSON array of `{ token | token_sha256, role, agency_code?, name? }`.
 * Only SHA-256 digests are kept in memory after loading; a presented bearer token is hashed
 * and compared with every known digest in constant time, so neither the comparison nor an
 * early exit tells an attacker how close a guess was.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FiscusError } from '../engine/errors.ts';

export const ROLES = ['admin', 'supervisor', 'analyst', 'agency', 'portal'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  name: string;
  role: Role;
  /** Set for `agency` tokens: the agency (or department) whose flags the caller may see. */
  agencyCode?: string;
  /** Hex SHA-256 of the token: the rate-limit key and the only token-derived value ever logged. */
  tokenHash: string;
}

const entrySchema = z
  .object({
    token: z.string().min(16, 'token must be at least 16 characters').optional(),
    token_sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'token_sha256 must be 64 hex digits').optional(),
    role: z.enum(ROLES),
    agency_code: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
  })
  .strict()
  .refine((e) => (e.token === undefined) !== (e.token_sha256 === undefined), {
    message: 'give exactly one of token or token_sha256',
  })
  .refine((e) => e.role !== 'agency' || e.agency_code !== undefined, {
    message: 'an agency token needs agency_code',
  });

export const tokensFileSchema = z.array(entrySchema).min(1, 'the tokens file lists no tokens');
export type TokenEntry = z.input<typeof entrySchema>;

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

export class TokenStore {
  private readonly entries: { digest: Buffer; principal: Principal }[];

  constructor(entries: readonly TokenEntry[]) {
    const parsed = tokensFileSchema.parse(entries);
    this.entries = parsed.map((e, i) => {
      const hex = (e.token_sha256 ?? sha256Hex(e.token!)).toLowerCase();
      return {
        digest: Buffer.from(hex, 'hex'),
        principal: {
          name: e.name ?? `${e.role}#${i + 1}`,
          role: e.role,
          ...(e.agency_code !== undefined ? { agencyCode: e.agency_code } : {}),
          tokenHash: hex,
        },
      };
    });
  }

  get size(): number {
    return this.entries.length;
  }

  /** The principal of a presented bearer token, or undefined. Always walks every entry. */
  authenticate(token: string): Principal | undefined {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: Principal | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(digest, e.digest) && found === undefined) found = e.principal;
    }
    return found;
  }
}

export function loadTokensFile(path: string): TokenStore {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new FiscusError(`cannot read tokens file ${path}: ${err instanceof Error ? err.message : String(err)}`, {
      code: 'TOKENS_FILE',
    });
  }
  const res = tokensFileSchema.safeParse(raw);
  if (!res.success) {
    const issues = res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new FiscusError(`tokens file ${path} is invalid: ${issues}`, { code: 'TOKENS_FILE' });
  }
  return new TokenStore(res.data);
}
