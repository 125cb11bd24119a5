/**
 * One scenario side in its own process: `node --import tsx bench/child.ts <task> '<json args>'`.
 * Prints `@@ready {"port":…}` for servers (then waits for "stop" on stdin)
 * and finally `@@result {seconds, peak_rss_mb, details}` or `@@skip {reason}`.
 */
import { peakRssMb } from './rss.ts';
import { Missing } from './optional.ts';

const [task, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}') as Record<string, unknown>;
const emit = (tag: string, v: unknown): void => {
  process.stdout.write(`@@${tag} ${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x))}\n`);
};

try {
  if (task === 'serve_ours' || task === 'serve_bare' || task === 'serve_watch') {
    // Loaded on demand: a child only pays for the modules its task needs.
    const { startServer } = await import('./tasks/servers.ts');
    const server = await startServer(task, args);
    emit('ready', { port: server.port });
    process.stdin.setEncoding('utf8');
    let buf = '';
    for await (const chunk of process.stdin) {
      buf += chunk;
      if (buf.includes('stop')) break;
    }
    // A server that does not finish closing must not hold the bench up.
    const closed = await Promise.race([server.close().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000).unref())]);
    emit('result', { seconds: 0, peak_rss_mb: peakRssMb(), details: { closed_cleanly: closed, ...server.details?.() } });
  } else {
    const { TASKS } = await import('./tasks/index.ts');
    const fn = TASKS[task ?? ''];
    if (!fn) throw new Error(`unknown bench task "${task}"`);
    const r = await fn(args);
    emit('result', { seconds: r.seconds, peak_rss_mb: peakRssMb(), details: r.details ?? {} });
  }
} catch (err) {
  if (err instanceof Missing) emit('skip', { reason: err.message });
  else emit('error', { message: err instanceof Error ? `${err.message}` : String(err) });
  process.exitCode = err instanceof Missing ? 0 : 1;
}
// Leave now: a handle some module forgot to close (a timer, a pool) must not keep
// this child — and the bench waiting for it — alive.
process.stdout.write('', () => process.exit());
