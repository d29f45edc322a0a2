/**
 * The IDX file format (LeCun's, used by MNIST and Fashion-MNIST).
 *
 * Layout, big-endian: two zero bytes, a type byte, a byte with the number of
 * dimensions d, then d uint32 sizes, then the values in row-major order.
 * Type bytes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
 * 0x0E float64. Files may be gzip-compressed (detected by the gzip magic 1f 8b).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as zlib from 'zlib';
import { GenlabError } from '../errors';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: IdxData;
  /** MD5 of the uncompressed bytes, so a re-compressed copy still verifies. */
  md5: string;
}

const TYPES: Record<number, { dtype: IdxDtype; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

export interface ReadIdxOptions {
  /** Expected MD5 of the uncompressed bytes; a mismatch is an error naming the file. */
  md5?: string;
}

/** Reads an IDX file (raw or .gz) and validates its magic, type, dimensions and length. */
export function readIdx(path: string, options: ReadIdxOptions = {}): IdxArray {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GenlabError(
      code === 'ENOENT'
        ? `The IDX file '${path}' does not exist: check the path, or see datasets/README.md for where the data comes from.`
        : `The IDX file '${path}' could not be read (${code ?? (err as Error).message}).`,
    );
  }
  let bytes = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(raw);
    } catch (err) {
      throw new GenlabError(
        `The IDX file '${path}' looks gzip-compressed but does not decompress (${(err as Error).message}): the download is probably truncated; fetch it again.`,
      );
    }
  }
  return parseIdx(bytes, path, options);
}

/** Parses IDX bytes already in memory; `name` is used in error messages. */
export function parseIdx(bytes: Uint8Array, name: string, options: ReadIdxOptions = {}): IdxArray {
  const md5 = createHash('md5').update(bytes).digest('hex');
  if (options.md5 && options.md5 !== md5) {
    throw new GenlabError(
      `The IDX file '${name}' has MD5 ${md5}, not the expected ${options.md5}: the file is corrupt or a different version; reinstall it (see datasets/README.md).`,
    );
  }
  if (bytes.length < 4)
    throw new GenlabError(
      `The IDX file '${name}' is ${bytes.length} bytes long, too short for an IDX header (4 bytes of magic).`,
    );
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new GenlabError(
      `The file '${name}' is not an IDX file: it should start with two zero bytes, but starts with 0x${hex(bytes[0])} 0x${hex(bytes[1])}.`,
    );
  }
  const type = TYPES[bytes[2]];
  if (!type)
    throw new GenlabError(
      `The IDX file '${name}' has data type byte 0x${hex(bytes[2])}, which is not one of 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E.`,
    );
  const ndim = bytes[3];
  if (ndim === 0) throw new GenlabError(`The IDX file '${name}' declares 0 dimensions; it must have at least 1.`);
  const headerLength = 4 + 4 * ndim;
  if (bytes.length < headerLength) {
    throw new GenlabError(
      `The IDX file '${name}' is ${bytes.length} bytes long, shorter than its header (${headerLength} bytes for ${ndim} dimensions).`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerLength + count * type.bytes;
  if (bytes.length !== expected) {
    throw new GenlabError(
      `The IDX file '${name}' should be ${expected} bytes for shape [${shape.join(', ')}] of ${type.dtype}, but is ${bytes.length}: it is ${bytes.length < expected ? 'truncated' : 'followed by extra data'}.`,
    );
  }
  return { dtype: type.dtype, shape, data: decode(view, headerLength, count, type.dtype), md5 };
}

function decode(view: DataView, offset: number, count: number, dtype: IdxDtype): IdxData {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer, view.byteOffset + offset, count).slice();
    case 'int8':
      return new Int8Array(view.buffer, view.byteOffset + offset, count).slice();
    default: {
      // Multi-byte values are big-endian in IDX, so read them one by one.
      const out =
        dtype === 'int16'
          ? new Int16Array(count)
          : dtype === 'int32'
            ? new Int32Array(count)
            : dtype === 'float32'
              ? new Float32Array(count)
              : new Float64Array(count);
      for (let i = 0; i < count; i++) {
        out[i] =
          dtype === 'int16'
            ? view.getInt16(offset + 2 * i, false)
            : dtype === 'int32'
              ? view.getInt32(offset + 4 * i, false)
              : dtype === 'float32'
                ? view.getFloat32(offset + 4 * i, false)
                : view.getFloat64(offset + 8 * i, false);
      }
      return out;
    }
  }
}

/** Encodes an array as IDX bytes (uncompressed); used to write test fixtures and exports. */
export function encodeIdx(array: Pick<IdxArray, 'dtype' | 'shape' | 'data'>): Buffer {
  const typeByte = Number(Object.entries(TYPES).find(([, t]) => t.dtype === array.dtype)![0]);
  const { bytes } = TYPES[typeByte];
  const headerLength = 4 + 4 * array.shape.length;
  const out = Buffer.alloc(headerLength + array.data.length * bytes);
  out[2] = typeByte;
  out[3] = array.shape.length;
  array.shape.forEach((s, i) => out.writeUInt32BE(s, 4 + 4 * i));
  for (let i = 0; i < array.data.length; i++) {
    const o = headerLength + i * bytes;
    const v = array.data[i];
    if (array.dtype === 'uint8') out.writeUInt8(v, o);
    else if (array.dtype === 'int8') out.writeInt8(v, o);
    else if (array.dtype === 'int16') out.writeInt16BE(v, o);
    else if (array.dtype === 'int32') out.writeInt32BE(v, o);
    else if (array.dtype === 'float32') out.writeFloatBE(v, o);
    else out.writeDoubleBE(v, o);
  }
  return out;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
