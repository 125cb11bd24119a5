/** Decimal-string money (yuan) as bigint fen, so sums are exact: never a JS float. One implementation: engine/numbers.ts. */
import { fenToYuan, toFen as parseFen } from '../engine/numbers.ts';

/** Exact: more than two decimals is refused (an amount entered in an action). */
export function toFen(s: string | null | undefined): bigint {
  return parseFen(s, { exact: true });
}

export const fromFen = fenToYuan;
