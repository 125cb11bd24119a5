/**
 * How much of a table a batch's keys reach, estimated from the batch alone. Counting a table's
 * distinct key tuples exactly means reading them all (at 10M payments, 120 ms for
 * treasury.over_budget's four columns, against 420 ms for the rule's full run), so for a key of
 * several columns the runner estimates instead: if a batch's B rows fall on the table's
 * K key tuples as its rows do, it touches T = K(1 − e^(−B/K)) of them. Solved for K, T/K is the
 * share touched. A batch whose rows all have keys of their own (T = B) reaches a vanishing
 * share; one whose rows pile onto few keys (T ≪ B) reaches nearly all of them.
 *
 * Only the choice between a delta and a full run rests on it, and both give the same flags: a
 * wrong estimate costs time, never a finding.
 */

/** Expected distinct keys touched by `rows` rows spread over `keys` equally likely keys. */
function expectedTouched(rows: number, keys: number): number {
  return keys * -Math.expm1(-rows / keys);
}

/** The estimated share (0–1) of the table's key tuples that `touched` tuples of a `rows`-row batch are. */
export function estimatedTouchedShare(rows: number, touched: number): number {
  if (touched <= 0) return 0;
  if (touched >= rows) return 0;
  // expectedTouched grows with `keys` towards `rows`: bisect (in log space) for the K giving `touched`.
  let lo = touched;
  let hi = touched * 1e12;
  if (expectedTouched(rows, hi) < touched) return 0;
  for (let i = 0; i < 200 && hi / lo > 1 + 1e-9; i++) {
    const mid = Math.sqrt(lo * hi);
    if (expectedTouched(rows, mid) < touched) lo = mid;
    else hi = mid;
  }
  return Math.min(1, touched / hi);
}
