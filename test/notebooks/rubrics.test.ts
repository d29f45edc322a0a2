/**
 * Every written-answer cell of the instructor's notebooks holds a model answer with its rubric, for
 * whoever grades it by hand; the student version shows only the placeholder.
 */
import * as assert from 'assert';
import * as path from 'path';
import { isManualAnswer, readNotebook, sourceOf } from '../../grading/notebook';
import { ANSWER_PLACEHOLDER, notebooksIn, releaseNotebook } from '../../grading/release';
import { projectRoot } from '../../jupyter/environment';

describe('written answers: a model answer in the source, the placeholder in the release', () => {
  const labs = notebooksIn(path.join(projectRoot(), 'notebooks')).filter((file) => {
    const nb = readNotebook(file);
    return nb.cells.some(isManualAnswer);
  });

  it('finds the written-answer cells of labs 1 to 7', () => {
    assert.deepStrictEqual(
      labs.map((f) => path.basename(f)),
      [
        '01-supervised-vs-unsupervised.ipynb',
        '02-autoencoders.ipynb',
        '03-vae.ipynb',
        '04-pixelcnn.ipynb',
        '05-gan.ipynb',
        '06-flows.ipynb',
        '07-diffusion.ipynb',
      ],
    );
  });

  for (const file of labs) {
    it(`${path.basename(file)}: each answer cell has a model answer and a rubric, and the release blanks it`, () => {
      const source = readNotebook(file);
      const released = releaseNotebook(source, path.basename(file));
      source.cells.forEach((cell, i) => {
        if (!isManualAnswer(cell)) return;
        const text = sourceOf(cell);
        assert.match(
          text,
          /BEGIN SOLUTION[\s\S]*\*\*Model answer\*\*[\s\S]{300,}\*Rubric:\*[\s\S]*END SOLUTION/,
          `cell ${i}`,
        );
        assert.strictEqual(sourceOf(released.cells[i]), ANSWER_PLACEHOLDER, `cell ${i} in the release`);
      });
    });
  }
});
