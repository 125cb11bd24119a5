/**
 * Tells live readers (SSE streams, webhook workers) that new flag events exist.
 *
 * Writers (the rule runner, the tracker, ingests, `fiscus` commands routed through this
 * server) append to fiscus.flag_events through the Store; the server calls `bump()` on
 * every committed Store write (`store.onWrite`), which polls max(seq) on a read
 * connection at once, and polling every `intervalMs` while someone waits is the safety
 * net (one aggregate over an integer column). Polling runs only while someone is waiting.
 * What counts writes for cached responses is the Store's `generation`, not this class.
 */
import { EventEmitter } from 'node:events';
import { maxSeq } from './flags-repo.ts';
import type { ReadPool } from './read-pool.ts';

export class SeqNotifier {
  private readonly events = new EventEmitter();
  private last = -1;
  private timer?: NodeJS.Timeout;
  private polling = false;
  /** A bump arrived while a poll ran (it may have read max(seq) before the commit): poll again. */
  private again = false;
  /** A write committed while nobody waited: `last` may be behind, the next waiter polls at once. */
  private stale = false;
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

  /** Resolve once max(seq) > `seq`, or after `timeoutMs`, or when stopped / `signal` aborts. */
  async waitAbove(seq: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.stopped || signal?.aborted) return;
    if (this.last > seq) return;
    this.waiting++;
    this.ensureTimer();
    if (this.stale) void this.poll();
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

  /** Poll now, if anyone waits (a write committed). */
  bump(): void {
    if (this.waiting === 0) {
      this.stale = true;
      return;
    }
    if (this.polling) this.again = true;
    else void this.poll();
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
      do {
        this.again = false;
        this.stale = false;
        const s = await maxSeq(this.pool);
        if (s > this.last) {
          this.last = s;
          this.events.emit('seq', s);
        }
      } while (this.again && !this.stopped);
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
