/**
 * Signed checkpoints of the event log's head, kept OUTSIDE the database.
 *
 * After every committed transaction that appended events, the new head
 * `{seq, hash}` is signed with the current key version's Ed25519 key and
 * appended (fsync'd) as one JSON line to the checkpoint log (default beside
 * the key: `data/fiscus.checkpoints.jsonl`; `--checkpoints FILE` / env
 * FISCUS_CHECKPOINTS). The API publishes the newest one (alert feed envelope,
 * SSE `event: checkpoint`, webhook `log.checkpoint`, GET /v1/log/checkpoint),
 * so the portal keeps witness copies. A log whose tail was cut, or whose chain
 * was recomputed, no longer matches a checkpoint it cannot re-sign.
 *
 * Line format: {"v":1,"seq":N,"hash":"…","at":"ISO","key_id":"v1-…","signature":"base64"}
 * plus, for a key rotation, "rotated_from" and "rotated_from_signature" (the
 * same payload signed by the previous key). The signature covers the canonical
 * JSON of {v, seq, hash, at, key_id[, rotated_from]}.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { sign, verify, type KeyObject } from 'node:crypto';
import { dirname } from 'node:path';
import type { Store } from './db.ts';
import { FiscusError } from './errors.ts';
import { canonicalJson, GENESIS_HASH, type FlagEvent } from './flag-events.ts';
import { addKeyVersion, fsyncDir, keyById, keyringForAppend, logPaths, type LogKeyring, type LogKeyVersion } from './log-key.ts';

export interface Checkpoint {
  v: 1;
  seq: number;
  hash: string;
  at: string;
  key_id: string;
  signature: string;
  rotated_from?: string;
  rotated_from_signature?: string;
}

export interface LogHead {
  seq: number;
  hash: string;
}

const MEMORY = new WeakMap<Store, Checkpoint[]>();
const LATEST = new WeakMap<Store, Checkpoint | null>();
/** Called with every checkpoint written by this process (the API's SSE and webhooks wake up on it). */
const LISTENERS = new WeakMap<Store, Set<(cp: Checkpoint) => void>>();

function payload(cp: Omit<Checkpoint, 'signature' | 'rotated_from_signature'>): Buffer {
  const p: Record<string, unknown> = { v: cp.v, seq: cp.seq, hash: cp.hash, at: cp.at, key_id: cp.key_id };
  if (cp.rotated_from !== undefined) p.rotated_from = cp.rotated_from;
  return Buffer.from(canonicalJson(p), 'utf8');
}

function ed25519Sign(key: KeyObject, data: Buffer): string {
  return sign(null, data, key).toString('base64');
}

export function signCheckpoint(key: LogKeyVersion, head: LogHead, opts: { at?: Date; rotatedFrom?: LogKeyVersion } = {}): Checkpoint {
  const base = {
    v: 1 as const,
    seq: head.seq,
    hash: head.hash,
    at: (opts.at ?? new Date()).toISOString(),
    key_id: key.id,
    ...(opts.rotatedFrom ? { rotated_from: opts.rotatedFrom.id } : {}),
  };
  const data = payload(base);
  const cp: Checkpoint = { ...base, signature: ed25519Sign(key.privateKey, data) };
  if (opts.rotatedFrom) cp.rotated_from_signature = ed25519Sign(opts.rotatedFrom.privateKey, data);
  return cp;
}

/** Why a checkpoint's signatures do not verify against the keyring, or null when they do. */
export function checkSignature(ring: LogKeyring, cp: Checkpoint): string | null {
  const key = keyById(ring, cp.key_id);
  if (!key) return `signed by key ${cp.key_id}, which is not in the key file`;
  const data = payload(cp);
  let ok = false;
  try {
    ok = verify(null, data, key.publicKey, Buffer.from(cp.signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) return `bad signature by ${cp.key_id} (the checkpoint was edited or forged)`;
  if (cp.rotated_from !== undefined) {
    const old = keyById(ring, cp.rotated_from);
    if (!old) return `rotation from key ${cp.rotated_from}, which is not in the key file`;
    if (old.version !== key.version - 1) return `rotation from ${old.id} (v${old.version}) to ${key.id} (v${key.version}) skips or reverses a version`;
    let okOld = false;
    try {
      okOld = verify(null, data, old.publicKey, Buffer.from(cp.rotated_from_signature ?? '', 'base64'));
    } catch {
      okOld = false;
    }
    if (!okOld) return `bad rotation signature by ${old.id} (the checkpoint was edited or forged)`;
  }
  return null;
}

/** Parse one line; a string says why it is not a checkpoint. */
export function parseCheckpoint(line: string): Checkpoint | string {
  let raw: any;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  // What the portal received is accepted as is: a checkpoint (GET /v1/log/checkpoint, SSE data),
  // a pull-feed response ({items, next_cursor, checkpoint}) or a webhook body ({type: 'log.checkpoint', data}).
  if (raw && typeof raw === 'object' && raw.checkpoint && typeof raw.checkpoint === 'object') raw = raw.checkpoint;
  else if (raw && typeof raw === 'object' && raw.type === 'log.checkpoint' && raw.data && typeof raw.data === 'object') raw = raw.data;
  if (
    !raw || raw.v !== 1 || !Number.isSafeInteger(raw.seq) || raw.seq < 0 || typeof raw.hash !== 'string' || typeof raw.at !== 'string' ||
    typeof raw.key_id !== 'string' || typeof raw.signature !== 'string'
  ) {
    return 'not a fiscus checkpoint (needs v, seq, hash, at, key_id, signature)';
  }
  return raw as Checkpoint;
}

export interface CheckpointLine {
  source: string;
  line: number;
  checkpoint?: Checkpoint;
  error?: string;
}

/** Every line of a checkpoint log (or a witness copy). Blank lines are skipped. */
export function readCheckpointFile(path: string): CheckpointLine[] {
  const text = readFileSync(path, 'utf8');
  const out: CheckpointLine[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    const p = parseCheckpoint(l);
    out.push(typeof p === 'string' ? { source: path, line: i + 1, error: p } : { source: path, line: i + 1, checkpoint: p });
  });
  return out;
}

/** The store's own checkpoints: its file, or the in-memory list of a `:memory:` store. */
export function ownCheckpoints(store: Store): { source: string; exists: boolean; lines: CheckpointLine[] } {
  const { checkpointsFile } = logPaths(store);
  if (checkpointsFile === null) {
    const list = MEMORY.get(store) ?? [];
    return { source: '(in memory)', exists: list.length > 0, lines: list.map((checkpoint, i) => ({ source: '(in memory)', line: i + 1, checkpoint })) };
  }
  if (!existsSync(checkpointsFile)) return { source: checkpointsFile, exists: false, lines: [] };
  return { source: checkpointsFile, exists: true, lines: readCheckpointFile(checkpointsFile) };
}

/** Append one checkpoint line and fsync it (the file is created with mode 0600). */
export function writeCheckpoint(store: Store, cp: Checkpoint): void {
  const { checkpointsFile } = logPaths(store);
  if (checkpointsFile === null) {
    const list = MEMORY.get(store) ?? [];
    list.push(cp);
    MEMORY.set(store, list);
  } else {
    const dir = dirname(checkpointsFile);
    const created = !existsSync(checkpointsFile);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(checkpointsFile, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(cp)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (created) fsyncDir(dir);
  }
  LATEST.set(store, cp);
  for (const l of LISTENERS.get(store) ?? []) l(cp);
}

/**
 * Sign `head` once the caller's transaction commits (never after a rollback).
 * Called by appendFlagEvents inside its transaction; when a transaction appends
 * several times, only its last head is signed.
 */
export function checkpointAfterCommit(store: Store, key: LogKeyVersion, head: LogHead): void {
  const p = { head, key };
  // A rolled-back transaction's entry never runs and is simply replaced by the next append's.
  PENDING.set(store, p);
  store.afterCommit(() => {
    if (PENDING.get(store) !== p) return; // a later append of the same transaction signs its head
    PENDING.delete(store);
    try {
      writeCheckpoint(store, signCheckpoint(p.key, p.head));
    } catch (err) {
      // The events are committed; failing the caller now would misreport them as not written.
      // The next commit's checkpoint covers this head too; verify-log reports events after the newest checkpoint.
      process.emitWarning(`fiscus: could not write the log checkpoint for event #${p.head.seq}: ${(err as Error).message}`, { code: 'FISCUS_CHECKPOINT' });
    }
  });
}
const PENDING = new WeakMap<Store, { head: LogHead; key: LogKeyVersion }>();

/** The newest checkpoint, or null (reads the last line of the file once, then follows this process's writes). */
export function latestCheckpoint(store: Store): Checkpoint | null {
  if (LATEST.has(store)) return LATEST.get(store)!;
  const { checkpointsFile } = logPaths(store);
  let cp: Checkpoint | null = null;
  if (checkpointsFile === null) cp = MEMORY.get(store)?.at(-1) ?? null;
  else if (existsSync(checkpointsFile)) cp = lastLine(checkpointsFile);
  LATEST.set(store, cp);
  return cp;
}

function lastLine(path: string): Checkpoint | null {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    for (let i = lines.length - 1; i >= 0; i--) {
      const p = parseCheckpoint(lines[i]!);
      if (typeof p !== 'string') return p;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

export function onCheckpoint(store: Store, fn: (cp: Checkpoint) => void): () => void {
  const set = LISTENERS.get(store) ?? new Set();
  set.add(fn);
  LISTENERS.set(store, set);
  return () => set.delete(fn);
}

/** The committed head of the log (seq 0 and the genesis hash when empty). */
export async function logHead(store: Store): Promise<LogHead> {
  const tail = await store.one<{ seq: string | number; hash: string }>('SELECT seq, hash FROM fiscus.flag_events ORDER BY seq DESC LIMIT 1');
  return tail ? { seq: Number(tail.seq), hash: tail.hash } : { seq: 0, hash: GENESIS_HASH };
}

/**
 * `fiscus log rotate-key`: add a key version, make it current, and write a
 * checkpoint of the head signed by both the old and the new key. Old versions
 * stay in the file so old events and checkpoints still verify. Verify the log
 * first (the caller does): a rotation vouches for the head it signs.
 */
export async function rotateLogKey(store: Store): Promise<{ from: LogKeyVersion; to: LogKeyVersion; checkpoint: Checkpoint }> {
  return store.transaction(async () => {
    const ring = await keyringForAppend(store);
    const head = await logHead(store);
    const [from, to] = addKeyVersion(store, ring);
    const checkpoint = signCheckpoint(to, head, { rotatedFrom: from });
    writeCheckpoint(store, checkpoint);
    return { from, to, checkpoint };
  });
}

/** Sign the current head now (after a crash between a commit and its checkpoint, say). */
export async function writeHeadCheckpoint(store: Store): Promise<Checkpoint> {
  return store.transaction(async () => {
    const ring = await keyringForAppend(store);
    const cp = signCheckpoint(ring.current, await logHead(store));
    writeCheckpoint(store, cp);
    return cp;
  });
}

export interface CheckpointProblem {
  source: string;
  line: number;
  seq: number | null;
  reason: string;
}

export interface CheckpointCheck {
  sources: { source: string; exists: boolean; checkpoints: number }[];
  /** The newest valid checkpoint over all sources. */
  newest: (Checkpoint & { source: string }) | null;
  /** Events after the newest checkpoint: covered by the key only. */
  events_after_newest: number;
  problems: CheckpointProblem[];
}

/**
 * Check checkpoints (the store's own and witness copies) against the events:
 * signatures, order, key versions, and that each one's `{seq, hash}` is in the log.
 */
export function checkCheckpoints(
  ring: LogKeyring,
  events: readonly FlagEvent[],
  sources: readonly { source: string; exists: boolean; lines: CheckpointLine[] }[],
): CheckpointCheck {
  const problems: CheckpointProblem[] = [];
  let newest: (Checkpoint & { source: string }) | null = null;
  const versionOf = (e: FlagEvent) => (e.key_id === null ? 0 : keyById(ring, e.key_id)?.version ?? -1);
  // minFrom[i]: the lowest key version among events[i..]; a checkpoint then costs O(1) unless it finds a violation.
  const minFrom = new Array<number>(events.length + 1).fill(Number.POSITIVE_INFINITY);
  for (let i = events.length - 1; i >= 0; i--) minFrom[i] = Math.min(minFrom[i + 1]!, versionOf(events[i]!));
  for (const src of sources) {
    let lastSeq = -1;
    let lastVersion = 0;
    for (const l of src.lines) {
      const bad = (seq: number | null, reason: string) => problems.push({ source: l.source, line: l.line, seq, reason });
      if (!l.checkpoint) {
        bad(null, l.error ?? 'unreadable');
        continue;
      }
      const cp = l.checkpoint;
      const sigProblem = checkSignature(ring, cp);
      if (sigProblem) {
        bad(cp.seq, sigProblem);
        continue;
      }
      const version = keyById(ring, cp.key_id)!.version;
      if (cp.seq < lastSeq) bad(cp.seq, `checkpoint for #${cp.seq} after one for #${lastSeq} (the checkpoint file was reordered)`);
      if (version < lastVersion) bad(cp.seq, `signed by key v${version} after a checkpoint signed by v${lastVersion} (key ids never go back after a rotation)`);
      lastSeq = Math.max(lastSeq, cp.seq);
      lastVersion = Math.max(lastVersion, version);
      if (cp.seq > events.length) {
        bad(cp.seq, `the log ends at #${events.length}, but this checkpoint says it reached #${cp.seq}: event(s) #${events.length + 1}–#${cp.seq} were deleted (the tail was truncated)`);
      } else {
        const expected = cp.seq === 0 ? GENESIS_HASH : events[cp.seq - 1]!.hash;
        if (expected !== cp.hash) {
          bad(cp.seq, `event #${cp.seq} does not match this checkpoint (hash ${cp.hash.slice(0, 12)}…): the log up to #${cp.seq} was rewritten`);
        }
      }
      // After a checkpoint signed by version j, every event must be keyed with version ≥ j.
      const after = cp.seq < events.length && minFrom[cp.seq]! < version ? events.slice(cp.seq).find((e) => versionOf(e) < version) : undefined;
      if (after) {
        bad(cp.seq, `event #${after.seq} comes after this checkpoint signed by key v${version} but is ${after.key_id === null ? 'unkeyed' : `keyed with ${after.key_id}`} (key ids never go back)`);
      }
      if (!newest || cp.seq > newest.seq) newest = { ...cp, source: l.source };
    }
  }
  return {
    sources: sources.map((s) => ({ source: s.source, exists: s.exists, checkpoints: s.lines.filter((l) => l.checkpoint).length })),
    newest,
    events_after_newest: newest ? Math.max(0, events.length - newest.seq) : events.length,
    problems,
  };
}

export function witnessSource(path: string): { source: string; exists: boolean; lines: CheckpointLine[] } {
  if (!existsSync(path)) throw new FiscusError(`witness file ${path} does not exist`, { code: 'USAGE', exitCode: 2 });
  return { source: path, exists: true, lines: readCheckpointFile(path) };
}
