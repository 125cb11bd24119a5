/**
 * Tells live readers (SSE streams, webhook workers) that new flag events exist.
 *
 * Other writers (the rule runner, the tracker, `fiscus` commands routed through this
 * server) append to fiscus.flag_events; polling max(seq) on a read connection every
 * `intervalMs` is cheap (one aggregate over an integer column) and catches them all.
 * `bump()` polls at once, for writes this server made itself. Polling runs only while
 * someone is waiting.
 */
import { EventEmitter } from 'node:events';
import { maxSeq } from './flags-repo.ts';
import type { ReadPool } from './read-pool.ts';

export class SeqNotifier {
  private readonly events = new EventEmitter();
  private last = -1;
  /** Counts writes this server made (bump) and new events seen: cached responses are keyed on it. */
  private gen = 0;
  private timer?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;
  private waiting = 0;

  constructor(
    private readonly pool: ReadPool,
    readonly intervalMs = 500,
  ) {
    this.events.setMaxListeners(0);
  }

  get latest(): number {
    return this.last;
  }

  get generation(): number {
    return this.gen;
  }

  /** Resolve once max(seq) > `seq`, or after `timeoutMs`, or when stopped / `signal` aborts. */
  async waitAbove(seq: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.stopped || signal?.aborted) return;
    if (this.last > seq) return;
    this.waiting++;
    this.ensureTimer();
    try {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.events.off('seq', onSeq);
          this.events.off('stop', done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const onSeq = (s: number) => {
          if (s > seq) done();
        };
        const t = setTimeout(done, timeoutMs);
        this.events.on('seq', onSeq);
        this.events.once('stop', done);
        signal?.addEventListener('abort', done, { once: true });
      });
    } finally {
      this.waiting--;
    }
  }

  /** Poll now (after this server appended events). */
  bump(): void {
    this.gen++;
    void this.poll();
  }

  private ensureTimer(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      if (this.waiting === 0) return;
      void this.poll();
    }, this.intervalMs);
    this.timer.unref();
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const s = await maxSeq(this.pool);
      if (s > this.last) {
        this.last = s;
        this.gen++;
        this.events.emit('seq', s);
      }
    } catch {
      // The pool is closing or the database is busy; the next tick retries.
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.events.emit('stop');
  }
}
