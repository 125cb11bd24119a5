/** Peak memory of this process. */
import { readFileSync } from 'node:fs';

/** Peak resident set size of this process in MB (VmHWM; maxRSS where /proc is missing). */
export function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Math.round(Number(m[1]) / 1024);
  } catch {
    // fall through
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
