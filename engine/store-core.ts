/**
 * What every engine's Store shares: the one serialisation of the main connection,
 * the caller's transaction (AsyncLocalStorage), the exclusive section for
 * read-decide-write sequences, the write generation and its listeners, and the
 * afterCommit hooks. An engine supplies how a statement, a BEGIN/COMMIT/ROLLBACK
 * and a bulk append run on its main connection (engine/db.ts for DuckDB,
 * engine/pg-store.ts for PostgreSQL); the semantics documented on `Store` in
 * engine/db.ts hold for both because they live here once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The caller's own transaction on the main connection (AsyncLocalStorage). */
interface TxState {
  /**
   * `open`: BEGIN..COMMIT; statements of the transaction's `fn` run at once, inside it.
   * `hooks`: committed, `afterCommit` work runs, still in the transaction's queue slot.
   * `done`: the slot is released; work begun from a leftover async context queues like anyone's.
   */
  phase: 'open' | 'hooks' | 'done';
  /** Something was written: the commit moves the generation. */
  dirty: boolean;
  afterCommit: (() => void | Promise<void>)[];
}

/** The caller's exclusive section (AsyncLocalStorage); `active` is false once it ended. */
interface SectionState {
  active: boolean;
}

export abstract class SerializedStore {
  protected closed = false;
  readonly #tx = new AsyncLocalStorage<TxState>();
  /** Tail of the queue of work on the main connection. */
  #connTail: Promise<unknown> = Promise.resolve();
  readonly #section = new AsyncLocalStorage<SectionState>();
  /** Tail of the queue of exclusive sections. */
  #sectionTail: Promise<unknown> = Promise.resolve();
  #generation = 0;
  readonly #writeListeners = new Set<(generation: number) => void>();

  /** BEGIN / COMMIT / ROLLBACK on the main connection, outside the queue (the caller holds it). */
  protected abstract control(statement: 'BEGIN TRANSACTION' | 'COMMIT' | 'ROLLBACK'): Promise<void>;

  /** Counts committed writes made through this Store (statements, transactions, appends). */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Call `listener` after every committed write (with the new generation). It runs
   * outside the writer's transaction and section. Returns the unsubscribe function.
   */
  onWrite(listener: (generation: number) => void): () => void {
    this.#writeListeners.add(listener);
    return () => this.#writeListeners.delete(listener);
  }

  #bump(): void {
    this.#generation++;
    const g = this.#generation;
    for (const l of this.#writeListeners) {
      this.#tx.exit(() =>
        this.#section.exit(() => {
          try {
            l(g);
          } catch {
            // A listener's failure is its own; the write has committed.
          }
        }),
      );
    }
  }

  /** A write happened on the main connection: counted now, or at the commit of the caller's transaction. */
  protected wrote(): void {
    const tx = this.#tx.getStore();
    if (tx?.phase === 'open') tx.dirty = true;
    else this.#bump();
  }

  /** Is the caller inside its own transaction's queue slot (statements run at once)? */
  #holdsConnection(): boolean {
    const tx = this.#tx.getStore();
    return tx !== undefined && tx.phase !== 'done';
  }

  /** Is the caller inside an open transaction (not yet committed)? */
  protected get inOpenTransaction(): boolean {
    return this.#tx.getStore()?.phase === 'open';
  }

  /**
   * Work on the main connection is serialised: a transaction must not see
   * statements of unrelated callers (a server handles requests concurrently,
   * and a connection has one transaction at a time). Statements issued
   * from inside a transaction's own `fn` run at once.
   */
  protected onConn<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#holdsConnection()) return fn();
    const run = this.#connTail.then(fn, fn);
    this.#connTail = run.catch(() => undefined);
    return run;
  }

  /**
   * The one lock for read-decide-write sequences, in the CLI and the server alike:
   * tracker actions and bulk assigns, deadline scans, rule runs and ingests run `fn`
   * inside it, one at a time per Store, so none of them decides on data another is
   * about to change. Re-entrant: a nested call (same async context) runs at once.
   * `transaction` and appends take it too; single statements (`run`/`all`) and the
   * API's read connections do not wait for it.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#section.getStore()?.active) return fn();
    const token: SectionState = { active: false };
    const enter = () => {
      token.active = true;
      return this.#section.run(token, fn);
    };
    const run = this.#sectionTail.then(enter, enter).finally(() => {
      token.active = false;
    });
    this.#sectionTail = run.catch(() => undefined);
    return run;
  }

  /** Whether the caller runs inside `exclusive` (for assertions in callers that require it). */
  get inExclusive(): boolean {
    return this.#section.getStore()?.active === true;
  }

  /**
   * Run `fn` in one transaction: all of it lands, or none of it. A nested call joins the
   * outer one. It takes the exclusive section (see `exclusive`) and then the connection.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#tx.getStore()?.phase === 'open') return fn();
    const tx: TxState = { phase: 'open', dirty: false, afterCommit: [] };
    return this.exclusive(() =>
      this.onConn(() =>
        this.#tx.run(tx, async () => {
          try {
            await this.control('BEGIN TRANSACTION');
            let out: T;
            try {
              out = await fn();
              await this.control('COMMIT');
            } catch (err) {
              await this.control('ROLLBACK').catch(() => undefined);
              throw err;
            }
            tx.phase = 'hooks';
            try {
              // Still inside the queue slot: the next writer starts after these ran (commit order).
              for (const hook of tx.afterCommit) await hook();
            } finally {
              // After the hooks: what they publish (the signed log checkpoint in the alert feed) is
              // part of the new generation, so no page cached under it can lack it.
              if (tx.dirty) this.#bump();
            }
            return out;
          } finally {
            tx.phase = 'done';
          }
        }),
      ),
    );
  }

  /**
   * Run `fn` once the current transaction has committed, before the next work on the
   * connection starts; never after a rollback. Only inside `transaction(fn)`.
   * (engine/checkpoints.ts signs the log head here: a rolled-back append must not be signed.)
   */
  afterCommit(fn: () => void | Promise<void>): void {
    const tx = this.#tx.getStore();
    if (!tx || tx.phase !== 'open') throw new Error('Store.afterCommit outside a transaction');
    tx.afterCommit.push(fn);
  }

  /** Wait for the exclusive sections and the connection queue to drain (close). */
  protected async drain(): Promise<void> {
    await this.#sectionTail;
    await this.#connTail;
  }
}
