/**
 * Opaque cursors. Clients must not build them; we still validate what comes back,
 * because a cursor is user input like any other.
 */
import { HttpProblem } from './problem.ts';

const SEQ_PREFIX = 'e1.';

/** The alert-feed cursor: the flag_events seq the reader has seen up to (inclusive). */
export function encodeSeqCursor(seq: number): string {
  return Buffer.from(`${SEQ_PREFIX}${seq}`, 'utf8').toString('base64url');
}

export function decodeSeqCursor(cursor: string | undefined | null): number {
  if (cursor === undefined || cursor === null || cursor === '') return 0;
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^e1\.(\d{1,15})$/.exec(text);
  if (!m) throw new HttpProblem(400, 'VALIDATION', `invalid cursor "${cursor.slice(0, 80)}"`);
  return Number(m[1]);
}
