/**
 * Short flag ids, as git shortens a commit: tables print the first 10 of the 32
 * hex characters, and every command that takes a flag id accepts any unique
 * prefix of at least 6. An ambiguous or unknown id is a usage error that says
 * which flags it could be, never a guess.
 */
import type { Store } from '../engine/db.ts';
import { UsageError } from '../engine/errors.ts';

/** Characters of the flag id a table prints. */
export const SHORT_ID_LENGTH = 10;
/** The shortest prefix a command accepts. */
export const MIN_ID_PREFIX = 6;
const FULL_ID_LENGTH = 32;
/** Candidates named in an "ambiguous" message. */
const LISTED = 5;

export const shortFlagId = (flagId: string): string => flagId.slice(0, SHORT_ID_LENGTH);

/** A prefix of a flag id as a command takes it: 6 to 32 hex characters, any case (lower-cased); null when `given` is not one. */
export function idPrefixOf(given: string): string | null {
  const text = given.trim().toLowerCase();
  return text.length >= MIN_ID_PREFIX && text.length <= FULL_ID_LENGTH && /^[0-9a-f]+$/.test(text) ? text : null;
}

function unknown(given: string): UsageError {
  const text = given.trim();
  const hint = /^[0-9a-f]+$/i.test(text) && text.length < MIN_ID_PREFIX
    ? `give at least ${MIN_ID_PREFIX} characters of the id`
    : idPrefixOf(text)
      ? `no flag id starts with "${text.toLowerCase()}"`
      : `a flag id is ${FULL_ID_LENGTH} hex characters, and a unique prefix of at least ${MIN_ID_PREFIX} will do (the id column of fiscus flags / track list)`;
  return new UsageError(`标记不存在 / no flag ${given}: ${hint}`);
}

export type IdCandidate = {
  flag_id: string;
  rule_id?: string;
  title?: string;
};

/**
 * The one flag among `candidates` whose id starts with `given`; a usage error for none or
 * several (`total`: how many there are when `candidates` holds only the first few).
 */
export function pickFlagId(given: string, candidates: readonly IdCandidate[], opts: { total?: number } = {}): string {
  const exact = candidates.find((c) => c.flag_id === given.trim());
  if (exact) return exact.flag_id;
  const prefix = idPrefixOf(given);
  const hits = prefix ? candidates.filter((c) => c.flag_id.startsWith(prefix)) : [];
  if (hits.length === 1) return hits[0]!.flag_id;
  if (hits.length === 0) throw unknown(given);
  const total = Math.max(opts.total ?? 0, hits.length);
  const list = hits
    .slice(0, LISTED)
    .map((c) => `  ${c.flag_id}${c.rule_id ? `  ${c.rule_id}` : ''}${c.title ? `  ${c.title}` : ''}`)
    .join('\n');
  const more = total > LISTED ? `\n  … and ${total - LISTED} more` : '';
  throw new UsageError(`flag id "${given}" is ambiguous: ${total} flags start with it; give more characters:\n${list}${more}`);
}

/** A flag id argument (the full id or a unique prefix) → the full id of a stored flag; a usage error (exit 2) otherwise. */
export async function resolveFlagId(store: Store, given: string): Promise<string> {
  // Any stored id as given (ids made outside the rules need not be hex), then a hex prefix.
  const exact = await store.all<IdCandidate>('SELECT flag_id FROM fiscus.flags WHERE flag_id = $id', { id: given.trim() });
  if (exact.length === 1) return exact[0]!.flag_id;
  const prefix = idPrefixOf(given);
  if (!prefix) throw unknown(given);
  // A range on the id rather than LIKE: no escaping, and the same SQL on DuckDB and PostgreSQL.
  // 'g' sorts after every hex digit, so [prefix, prefix + 'g') holds exactly the ids starting with it.
  const range = { lo: prefix, hi: `${prefix}g` };
  const rows = await store.all<IdCandidate>(
    `SELECT flag_id, rule_id, title FROM fiscus.flags WHERE flag_id >= $lo AND flag_id < $hi ORDER BY flag_id LIMIT ${LISTED + 1}`,
    range,
  );
  let total: number | undefined;
  if (rows.length > LISTED) {
    const [row] = await store.all<{ n: number | bigint }>('SELECT count(*) AS n FROM fiscus.flags WHERE flag_id >= $lo AND flag_id < $hi', range);
    total = Number(row!.n);
  }
  return pickFlagId(given, rows, { total });
}
