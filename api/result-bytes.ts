/**
 * How many bytes of variable-width data a result chunk holds, read from DuckDB's
 * own vectors before anything is decoded into JS strings.
 *
 * The byte cap of analyst queries (api/query-exec.ts) counts the text it produces,
 * but one `SELECT repeat('x', 300000000)` value would be decoded into a 300 MB JS
 * string before it could be counted. Every VARCHAR/BLOB/BIT/BIGNUM value is a
 * 16-byte `string_t` whose first 4 bytes are its length, so the lengths can be
 * summed from the vector's data without touching the strings themselves (the
 * result chunks of DuckDB's C API are flat vectors).
 */
import duckdb from '@duckdb/node-bindings';
import {
  DuckDBArrayType, DuckDBListType, DuckDBMapType, DuckDBStructType, DuckDBTypeId, DuckDBUnionType,
  type DuckDBDataChunk, type DuckDBType,
} from '@duckdb/node-api';

const STRING_T = 16;

function validity(vec: duckdb.Vector, rows: number): BigUint64Array | null {
  const words = Math.ceil(rows / 64);
  if (words === 0) return null;
  const bytes = duckdb.vector_get_validity(vec, words * 8);
  return bytes ? new BigUint64Array(bytes.buffer, bytes.byteOffset, words) : null;
}

function valid(mask: BigUint64Array | null, i: number): boolean {
  return !mask || (mask[i >> 6]! & (1n << BigInt(i & 63))) !== 0n;
}

/** Bytes of variable-width values in rows [0, rows) of `vec`, nested values included. */
function vectorBytes(vec: duckdb.Vector, type: DuckDBType, rows: number): number {
  if (rows <= 0) return 0;
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.BLOB:
    case DuckDBTypeId.BIT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.GEOMETRY: {
      const data = duckdb.vector_get_data(vec, rows * STRING_T);
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const mask = validity(vec, rows);
      let n = 0;
      for (let i = 0; i < rows; i++) if (valid(mask, i)) n += view.getUint32(i * STRING_T, true);
      return n;
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.MAP: {
      // list_entry_t: uint64 offset, uint64 length into the child vector.
      const data = duckdb.vector_get_data(vec, rows * 16);
      const entries = new BigUint64Array(data.buffer, data.byteOffset, rows * 2);
      const mask = validity(vec, rows);
      let end = 0;
      for (let i = 0; i < rows; i++) {
        if (valid(mask, i)) end = Math.max(end, Number(entries[2 * i]! + entries[2 * i + 1]!));
      }
      const child = duckdb.list_vector_get_child(vec);
      end = Math.min(end, duckdb.list_vector_get_size(vec));
      if (type instanceof DuckDBListType) return vectorBytes(child, type.valueType, end);
      const map = type as DuckDBMapType;
      return (
        vectorBytes(duckdb.struct_vector_get_child(child, 0), map.keyType, end) +
        vectorBytes(duckdb.struct_vector_get_child(child, 1), map.valueType, end)
      );
    }
    case DuckDBTypeId.ARRAY: {
      const a = type as DuckDBArrayType;
      return vectorBytes(duckdb.array_vector_get_child(vec), a.valueType, rows * a.length);
    }
    case DuckDBTypeId.STRUCT: {
      const s = type as DuckDBStructType;
      let n = 0;
      for (let i = 0; i < s.entryTypes.length; i++) n += vectorBytes(duckdb.struct_vector_get_child(vec, i), s.entryTypes[i]!, rows);
      return n;
    }
    case DuckDBTypeId.UNION: {
      // A union is a struct whose first child is the tag.
      const u = type as DuckDBUnionType;
      let n = 0;
      for (let i = 0; i < u.memberTypes.length; i++) n += vectorBytes(duckdb.struct_vector_get_child(vec, i + 1), u.memberTypes[i]!, rows);
      return n;
    }
    default:
      return 0;
  }
}

/** Bytes of variable-width data in the first `rows` rows of `chunk` (all columns). */
export function chunkVarBytes(chunk: DuckDBDataChunk, types: readonly DuckDBType[], rows: number): number {
  let n = 0;
  for (let c = 0; c < types.length; c++) n += vectorBytes(duckdb.data_chunk_get_vector(chunk.chunk, c), types[c]!, rows);
  return n;
}
