/**
 * Reading the YAML envelope with positions: every value an analyst wrote can
 * be traced back to its line and column.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Scalar, type YAMLMap } from 'yaml';
import type { ExprSource } from './ast.ts';
import { RuleError, didYouMean, type SourcePos } from './errors.ts';

export class YamlFile {
  readonly lc = new LineCounter();
  readonly doc: Document.Parsed;
  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lc, prettyErrors: false, uniqueKeys: true });
    const e = this.doc.errors[0];
    if (e) {
      const p = this.lc.linePos(e.pos[0]);
      throw new RuleError({ file, line: p.line, column: p.col }, `YAML: ${e.message.split('\n')[0]}`);
    }
  }

  pos(offset: number): SourcePos {
    const p = this.lc.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { file: this.file, line: p.line, column: p.col };
  }

  nodePos(node: Node | null | undefined): SourcePos {
    return this.pos(node?.range?.[0] ?? 0);
  }

  err(node: Node | null | undefined, msg: string): RuleError {
    return new RuleError(this.nodePos(node), msg);
  }

  root(): YAMLMap {
    const c = this.doc.contents;
    if (!isMap(c)) throw this.err(c as Node, 'a rule file is a YAML mapping (id:, title:, …)');
    return c;
  }

  /** Check that a mapping only has known keys. */
  keys(map: YAMLMap, allowed: string[], what: string): void {
    for (const item of map.items) {
      const k = isScalar(item.key) ? String(item.key.value) : '';
      if (!allowed.includes(k)) {
        if (/[()'$]/.test(k) || (isScalar(item.key) && item.value === null)) {
          throw this.err(item.key as Node, `\`${k}\` looks like the rest of a value: inside \`{ … }\` a comma ends the value — quote it (\"…\") or write it on its own line`);
        }
        throw this.err(item.key as Node, `unknown field \`${k}\` in ${what}${didYouMean(k, allowed)}; allowed: ${allowed.join(', ')}`);
      }
    }
  }

  get(map: YAMLMap, key: string): Node | undefined {
    const n = map.get(key, true) as Node | undefined;
    return n ?? undefined;
  }

  keyNode(map: YAMLMap, key: string): Node | undefined {
    return map.items.find((i) => isScalar(i.key) && i.key.value === key)?.key as Node | undefined;
  }

  required(map: YAMLMap, key: string, what: string): Node {
    const n = this.get(map, key);
    if (n === undefined || (isScalar(n) && n.value === null)) throw this.err(map, `${what} needs \`${key}:\``);
    return n;
  }

  map(n: Node, what: string): YAMLMap {
    if (!isMap(n)) throw this.err(n, `${what} must be a mapping (key: value lines)`);
    return n;
  }

  scalar(n: Node, what: string): Scalar {
    if (!isScalar(n)) throw this.err(n, `${what} must be a single value`);
    return n;
  }

  str(n: Node, what: string): string {
    const s = this.scalar(n, what);
    if (s.value === null || typeof s.value === 'object') throw this.err(n, `${what} must be text`);
    return String(s.value);
  }

  optStr(map: YAMLMap, key: string, what: string): string | undefined {
    const n = this.get(map, key);
    return n === undefined ? undefined : this.str(n, what);
  }

  /** A list of strings (a YAML sequence, or one value). */
  strList(n: Node, what: string): { value: string; node: Node }[] {
    if (isSeq(n)) return n.items.map((i) => ({ value: this.str(i as Node, what), node: i as Node }));
    return [{ value: this.str(n, what), node: n }];
  }

  /** The expression text of a scalar, with offsets mapped back into the file. */
  expr(n: Node, what: string): ExprSource {
    const s = this.scalar(n, what);
    if (s.value === null) throw this.err(n, `${what} is empty`);
    const value = typeof s.value === 'string' ? s.value : String(s.value);
    const [start, end] = s.range!;
    const raw = this.text.slice(start, end);
    let map: (off: number) => number;
    if (s.type === 'QUOTE_DOUBLE' || s.type === 'QUOTE_SINGLE') {
      map = (off) => start + 1 + off;
    } else if (s.type === 'BLOCK_LITERAL' || s.type === 'BLOCK_FOLDED') {
      // Find each line of the value inside the block (after the `|` header line).
      const lines = value.split('\n');
      const starts: number[] = [];
      let cursor = raw.indexOf('\n') + 1;
      let valueOff = 0;
      const valueStarts: number[] = [];
      for (const line of lines) {
        const at = line.length ? raw.indexOf(line, cursor) : cursor;
        starts.push(at >= 0 ? start + at : start + cursor);
        valueStarts.push(valueOff);
        if (at >= 0) cursor = at + line.length;
        valueOff += line.length + 1;
      }
      map = (off) => {
        let i = valueStarts.length - 1;
        while (i > 0 && valueStarts[i] > off) i--;
        return starts[i] + (off - valueStarts[i]);
      };
    } else {
      // Plain scalars may fold lines; map by searching the words in order.
      map = raw === value ? (off) => start + off : (off) => start + Math.min(off, raw.length);
    }
    return { text: value, pos: (off) => this.pos(map(off)) };
  }
}

export { isMap, isScalar, isSeq };
export type { Node, Scalar, YAMLMap };
