import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { parseIdx, readIdx } from '../../../lib/data/idx';
import { assertGenlabError, tempDir } from '../../helpers';

/** An IDX file written byte by byte, independent of the library's encoder. */
const UINT8_2x3 = Buffer.from([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 250, 251, 255]);
// int32 [2]: -2 and 65536, big-endian.
const INT32_2 = Buffer.from([0, 0, 0x0c, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x01, 0x00, 0x00]);
// float32 [1]: 1.5 = 0x3FC00000.
const FLOAT32_1 = Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0x00, 0x00]);

describe('readIdx', () => {
  const dir = tempDir();
  const write = (name: string, bytes: Uint8Array) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  };

  it('reads uint8, big-endian int32 and float32 files', () => {
    const u = readIdx(write('u8', UINT8_2x3));
    assert.deepStrictEqual([u.dtype, u.shape, Array.from(u.data)], ['uint8', [2, 3], [1, 2, 3, 250, 251, 255]]);
    const i = readIdx(write('i32', INT32_2));
    assert.deepStrictEqual([i.dtype, Array.from(i.data)], ['int32', [-2, 65536]]);
    const f = readIdx(write('f32', FLOAT32_1));
    assert.deepStrictEqual([f.dtype, Array.from(f.data)], ['float32', [1.5]]);
  });

  it('reads gzip-compressed files and checksums the uncompressed bytes', () => {
    const gz = readIdx(write('u8.gz', zlib.gzipSync(UINT8_2x3)), { md5: '' });
    assert.deepStrictEqual(Array.from(gz.data), [1, 2, 3, 250, 251, 255]);
    const raw = readIdx(write('u8b', UINT8_2x3));
    assert.strictEqual(gz.md5, raw.md5);
  });

  it('names the file and the problem for bad input', () => {
    assertGenlabError(() => readIdx(path.join(dir, 'nope')), /'.*nope' does not exist/);
    assertGenlabError(
      () => readIdx(write('magic', Buffer.from([1, 0, 8, 1, 0, 0, 0, 0]))),
      /'.*magic' is not an IDX file/,
      /0x01 0x00/,
    );
    assertGenlabError(() => readIdx(write('type', Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 0]))), /data type byte 0x07/);
    assertGenlabError(
      () => readIdx(write('short', UINT8_2x3.subarray(0, 15))),
      /'.*short' should be 18 bytes/,
      /truncated/,
    );
    assertGenlabError(
      () => readIdx(write('long', Buffer.concat([UINT8_2x3, Buffer.from([9])]))),
      /followed by extra data/,
    );
    assertGenlabError(() => readIdx(write('header', Buffer.from([0, 0, 8, 3, 0, 0]))), /shorter than its header/);
    assertGenlabError(() => readIdx(write('bad.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3]))), /does not decompress/);
    assertGenlabError(
      () => parseIdx(UINT8_2x3, 'x.idx', { md5: '00000000000000000000000000000000' }),
      /'x.idx' has MD5 [0-9a-f]{32}, not the expected/,
    );
  });
});
