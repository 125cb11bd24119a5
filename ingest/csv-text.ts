/**
 * The little CSV parsing done in JS: the header record (so DuckDB's read is
 * not left to the sniffer, which guesses wrong on small or messy files) and,
 * only when some rows are rejected, the physical line of every record.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

const NL = 0x0a;
const CR = 0x0d;

/** Split one CSV record (no trailing newline) into fields. */
export function splitRecord(text: string, delim: string, quote = '"'): string[] {
  const out: string[] = [];
  let i = 0;
  let field = '';
  let inQuote = false;
  while (i < text.length) {
    const ch = text[i];
    if (inQuote) {
      if (ch === quote) {
        if (text[i + 1] === quote) {
          field += quote;
          i += 2;
          continue;
        }
        inQuote = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === quote) inQuote = true;
    else if (text.startsWith(delim, i)) {
      out.push(field);
      field = '';
      i += delim.length;
      continue;
    } else field += ch;
    i++;
  }
  out.push(field);
  return out;
}

/**
 * The header record of a UTF-8 CSV file after `skip` physical lines, and the
 * delimiter (given, or the most frequent of , tab ; | in the header).
 */
export async function readCsvHeader(
  path: string,
  skip: number,
  delim: string | undefined,
): Promise<{ fields: string[]; delimiter: string } | undefined> {
  const fh = await open(path, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(1 << 20);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    text = new TextDecoder('utf-8').decode(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
  text = text.replace(/^\uFEFF/, '');
  let pos = 0;
  for (let s = 0; s < skip; s++) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return undefined;
    pos = nl + 1;
  }
  // The header ends at the first newline outside quotes.
  let inQuote = false;
  let end = pos;
  for (; end < text.length; end++) {
    const ch = text[end];
    if (ch === '"') inQuote = !inQuote;
    else if (ch === '\n' && !inQuote) break;
  }
  const line = text.slice(pos, end).replace(/\r$/, '');
  if (line.trim() === '') return undefined;
  const delimiter = delim ?? sniffDelimiter(line);
  return { fields: splitRecord(line, delimiter), delimiter };
}

function sniffDelimiter(header: string): string {
  const outside = header.replace(/"[^"]*"/g, '');
  let best = ',';
  let bestCount = (outside.match(/,/g) ?? []).length;
  if (bestCount > 0) return ',';
  for (const d of ['\t', ';', '|']) {
    const n = outside.split(d).length - 1;
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

/**
 * Physical start line (1-based) of every record after the header, in the
 * same record numbering DuckDB uses for its rejects: blank lines are records
 * too; a quoted field with newlines is one record over several lines.
 */
export interface RecordLines {
  /** Physical line of the header record. */
  headerLine: number;
  /** lines[i] = physical start line of record i after the header. */
  lines: Int32Array;
  /** blank[i] = 1 when record i is an empty line (DuckDB skips it). */
  blank: Uint8Array;
  count: number;
}

export async function scanRecordLines(path: string, skip: number, quoteChar = '"'): Promise<RecordLines> {
  const quote = quoteChar.charCodeAt(0);
  let lines = new Int32Array(1 << 16);
  let blank = new Uint8Array(1 << 16);
  let count = -1; // -1 while reading the header record
  let headerLine = 1;
  let line = 1;
  let skipping = skip;
  let inQuote = false;
  let recordStart = 1;
  let recordBytes = 0; // bytes in the current record other than CR
  let first = true;

  const endRecord = () => {
    if (count === -1) {
      headerLine = recordStart;
    } else {
      if (count >= lines.length) {
        const l2 = new Int32Array(lines.length * 2);
        l2.set(lines);
        lines = l2;
        const b2 = new Uint8Array(blank.length * 2);
        b2.set(blank);
        blank = b2;
      }
      lines[count] = recordStart;
      blank[count] = recordBytes === 0 ? 1 : 0;
    }
    count++;
  };

  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let i = 0;
    if (first) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    }
    while (i < chunk.length) {
      if (skipping > 0) {
        const nl = chunk.indexOf(NL, i);
        if (nl < 0) {
          i = chunk.length;
          break;
        }
        i = nl + 1;
        line++;
        skipping--;
        recordStart = line;
        continue;
      }
      const nl = chunk.indexOf(NL, i);
      const q = chunk.indexOf(quote, i);
      if (nl < 0 && q < 0) {
        for (let k = i; k < chunk.length; k++) if (chunk[k] !== CR) recordBytes++;
        break;
      }
      if (q >= 0 && (nl < 0 || q < nl)) {
        inQuote = !inQuote;
        recordBytes += q - i + 1;
        i = q + 1;
        continue;
      }
      // newline
      for (let k = i; k < nl; k++) if (chunk[k] !== CR) recordBytes++;
      line++;
      i = nl + 1;
      if (inQuote) {
        recordBytes++;
        continue;
      }
      endRecord();
      recordStart = line;
      recordBytes = 0;
    }
  }
  if (recordBytes > 0) endRecord();
  const n = Math.max(count, 0);
  return { headerLine, lines: lines.subarray(0, n), blank: blank.subarray(0, n), count: n };
}

/**
 * Map staged row indexes (DuckDB's rows in file order, blank and rejected
 * records left out) to physical lines, and DuckDB reject line numbers to
 * physical lines.
 */
export function lineMapper(rec: RecordLines, skip: number, rejectedDuckLines: readonly number[]) {
  // DuckDB numbers records: line = skip + ordinal + 1, the header being ordinal 0.
  const rejectedOrdinals = new Set(rejectedDuckLines.map((l) => l - skip - 2));
  const staged: number[] = [];
  for (let i = 0; i < rec.count; i++) {
    if (rec.blank[i] || rejectedOrdinals.has(i)) continue;
    staged.push(rec.lines[i]);
  }
  return {
    /** Physical line of staged row `rn` (0-based). */
    stagedLine: (rn: number): number | undefined => staged[rn],
    /** Physical line of a DuckDB reject `line`. */
    rejectLine: (duckLine: number): number | undefined => rec.lines[duckLine - skip - 2],
    stagedCount: staged.length,
  };
}

/**
 * Every record of a CSV text with its physical start line: quotes may span
 * lines; a line ends at LF, CRLF or a bare CR (old Mac exports).
 */
export function parseCsvRecords(text: string, delim: string, quote = '"'): { line: number; cells: string[]; raw: string }[] {
  const out: { line: number; cells: string[]; raw: string }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const startLine = line;
    const start = i;
    const cells: string[] = [];
    let field = '';
    let inQuote = false;
    let ended = false;
    while (i < text.length) {
      const ch = text[i];
      if (inQuote) {
        if (ch === quote) {
          if (text[i + 1] === quote) {
            field += quote;
            i += 2;
            continue;
          }
          inQuote = false;
          i++;
          continue;
        }
        if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++;
        field += ch;
        i++;
        continue;
      }
      if (ch === quote && field === '') {
        inQuote = true;
        i++;
        continue;
      }
      if (text.startsWith(delim, i)) {
        cells.push(field);
        field = '';
        i += delim.length;
        continue;
      }
      if (ch === '\r' || ch === '\n') {
        const end = i;
        i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        cells.push(field);
        out.push({ line: startLine, cells, raw: text.slice(start, end) });
        ended = true;
        break;
      }
      field += ch;
      i++;
    }
    if (!ended) {
      cells.push(field);
      out.push({ line: startLine, cells, raw: text.slice(start) });
    }
  }
  return out;
}

/** The delimiter of a CSV text: the most frequent of , tab ; | over its first lines (outside quotes). */
export function sniffTextDelimiter(text: string): string {
  const sample = text.slice(0, 64 * 1024).replace(/"[^"]*"/g, '');
  let best = ',';
  let bestCount = 0;
  for (const d of [',', '\t', ';', '|']) {
    const n = sample.split(d).length - 1;
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}
