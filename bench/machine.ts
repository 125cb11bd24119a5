/** What the numbers were measured on. */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Machine } from './results.ts';

export async function describeMachine(): Promise<Machine> {
  let duckdb = 'unknown';
  try {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const rows = (await conn.runAndReadAll('SELECT version() AS v')).getRowObjectsJson();
    duckdb = String(rows[0]?.v ?? 'unknown');
    conn.closeSync();
    db.closeSync();
  } catch {
    // leave "unknown"
  }
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) osName = `${pretty[1]} (${os.type()} ${os.release()})`;
  } catch {
    // not Linux
  }
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model.trim() ?? 'unknown',
    mem_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    duckdb,
    os: osName,
  };
}

export { peakRssMb } from './rss.ts';
