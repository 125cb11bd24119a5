/**
 * DuckDB result chunks → Arrow IPC (node-api has no Arrow export).
 *
 * One RecordBatch per DuckDB chunk, built from typed arrays and validity bitmaps
 * for fixed-width columns. DECIMAL (money) travels as a decimal string, never a
 * float; HUGEINT/UBIGINT and nested types as text (nested as JSON).
 */
import {
  Bool, DateDay, Field, Float64, Int32, Int64, RecordBatch, Schema, Struct, Table, TimestampMicrosecond, Utf8,
  makeData, tableToIPC, vectorFromArray, type DataType, type Data,
} from 'apache-arrow';
import {
  DuckDBTypeId, JsonDuckDBValueConverter, type DuckDBDataChunk, type DuckDBType,
} from '@duckdb/node-api';

type Kind = 'bool' | 'int32' | 'int64' | 'float64' | 'date' | 'ts' | 'tstz' | 'text';

function kindOf(t: DuckDBType): Kind {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return 'bool';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
      return 'int32';
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
      return 'int64';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return 'float64';
    case DuckDBTypeId.DATE:
      return 'date';
    case DuckDBTypeId.TIMESTAMP:
      return 'ts';
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'tstz';
    default:
      return 'text';
  }
}

function arrowType(k: Kind): DataType {
  switch (k) {
    case 'bool':
      return new Bool();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'date':
      return new DateDay();
    case 'ts':
      return new TimestampMicrosecond();
    case 'tstz':
      return new TimestampMicrosecond('UTC');
    case 'text':
      return new Utf8();
  }
}

export class ArrowBuilder {
  private readonly kinds: Kind[];
  readonly schema: Schema;
  private readonly batches: RecordBatch[] = [];

  constructor(names: readonly string[], types: readonly DuckDBType[]) {
    this.kinds = types.map(kindOf);
    this.schema = new Schema(names.map((n, i) => new Field(n, arrowType(this.kinds[i]!), true)));
  }

  /** Add the first `rows` rows of a chunk as one record batch. */
  add(chunk: DuckDBDataChunk, rows = chunk.rowCount): void {
    const children: Data[] = [];
    for (let c = 0; c < this.kinds.length; c++) {
      const kind = this.kinds[c]!;
      const type = this.schema.fields[c]!.type;
      if (kind === 'text') {
        const json = chunk.convertColumnValues(c, JsonDuckDBValueConverter).slice(0, rows);
        const strings = json.map((v) => (v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)));
        children.push(vectorFromArray(strings, new Utf8()).data[0]!);
        continue;
      }
      const values = chunk.getColumnValues(c).slice(0, rows);
      const bitmap = new Uint8Array((rows + 7) >> 3);
      let nulls = 0;
      let data: Int32Array | BigInt64Array | Float64Array | Uint8Array;
      switch (kind) {
        case 'bool':
          data = new Uint8Array((rows + 7) >> 3);
          break;
        case 'int32':
        case 'date':
          data = new Int32Array(rows);
          break;
        case 'float64':
          data = new Float64Array(rows);
          break;
        default:
          data = new BigInt64Array(rows);
      }
      for (let i = 0; i < rows; i++) {
        const v = values[i] as unknown;
        if (v === null || v === undefined) {
          nulls++;
          continue;
        }
        bitmap[i >> 3]! |= 1 << (i & 7);
        switch (kind) {
          case 'bool':
            if (v === true) (data as Uint8Array)[i >> 3]! |= 1 << (i & 7);
            break;
          case 'int32':
            (data as Int32Array)[i] = Number(v);
            break;
          case 'date':
            (data as Int32Array)[i] = (v as { days: number }).days;
            break;
          case 'float64':
            (data as Float64Array)[i] = Number(v);
            break;
          case 'int64':
            (data as BigInt64Array)[i] = BigInt(v as bigint | number);
            break;
          case 'ts':
          case 'tstz':
            (data as BigInt64Array)[i] = (v as { micros: bigint }).micros;
            break;
        }
      }
      children.push(makeData({ type: type as never, length: rows, nullCount: nulls, data, nullBitmap: nulls ? bitmap : undefined } as never));
    }
    const struct = makeData({ type: new Struct(this.schema.fields), length: rows, nullCount: 0, children });
    this.batches.push(new RecordBatch(this.schema, struct));
  }

  toIPC(): Uint8Array {
    return tableToIPC(new Table(this.schema, this.batches), 'stream');
  }
}
