/** reportFigure prints a figure for the student and records it for the lab benchmark. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { readFigures, reportFigure } from '../../lib/report';
import { assertGenlabError, tempDir, withEnv } from '../helpers';

describe('reportFigure', () => {
  it('prints "name: value unit" and appends a JSON line to GENLAB_FIGURES', async () => {
    const file = path.join(tempDir(), 'figures.jsonl');
    const printed: string[] = [];
    const log = console.log;
    console.log = (line: string) => printed.push(line);
    try {
      await withEnv({ GENLAB_FIGURES: file }, () => {
        reportFigure('CNN test accuracy', 98.9512, { unit: '%', digits: 2 });
        reportFigure('k-means purity', 0.605549);
      });
      await withEnv({ GENLAB_FIGURES: undefined }, () => reportFigure('not recorded', 1));
    } finally {
      console.log = log;
    }
    assert.deepStrictEqual(printed, ['CNN test accuracy: 98.95 %', 'k-means purity: 0.6055', 'not recorded: 1.000']);
    assert.deepStrictEqual(readFigures(file), [
      { name: 'CNN test accuracy', value: 98.9512, unit: '%' },
      { name: 'k-means purity', value: 0.605549 },
    ]);
    assert.strictEqual(fs.readFileSync(file, 'utf8').split('\n').length, 3);
  });

  it('refuses a value that is not a number', () => {
    assertGenlabError(
      () => reportFigure('accuracy', NaN),
      /reportFigure\('accuracy'\): the value must be a number, got NaN/,
    );
  });
});
