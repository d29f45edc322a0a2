/**
 * Saving and loading to folders on disk.
 *
 * Pure tfjs has no `file://` handler in Node (it lives in tfjs-node), so this
 * module writes one in the same layout tfjs-node uses: `model.json` (topology and
 * weights manifest) beside `weights.bin`. It is registered for `file://` URLs, so
 * `model.save('file://dir')` and `tf.loadLayersModel('file://dir/model.json')`
 * work on every backend; `saveModel`/`loadModel` take plain paths.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from './errors';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

function toDir(urlOrPath: string): string {
  return urlOrPath.startsWith('file://') ? urlOrPath.slice('file://'.length) : urlOrPath;
}

/** The folder (or its model.json) for a handler: `dir` or `dir/model.json`. */
function splitModelPath(target: string): { dir: string; modelJson: string } {
  const p = toDir(target);
  return p.endsWith('.json') ? { dir: path.dirname(p), modelJson: p } : { dir: p, modelJson: path.join(p, MODEL_FILE) };
}

/** An IOHandler that saves to / loads from a folder. */
export function folderHandler(target: string): tf.io.IOHandler {
  const { dir, modelJson } = splitModelPath(target);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      fs.mkdirSync(dir, { recursive: true });
      const weights = artifacts.weightData
        ? Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData))
        : Buffer.alloc(0);
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        trainingConfig: artifacts.trainingConfig,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      // Write to temporaries and rename, so an interrupted save never leaves a
      // model.json that points at half-written weights.
      fs.writeFileSync(path.join(dir, `${WEIGHTS_FILE}.tmp`), weights);
      fs.writeFileSync(`${modelJson}.tmp`, JSON.stringify(json));
      fs.renameSync(path.join(dir, `${WEIGHTS_FILE}.tmp`), path.join(dir, WEIGHTS_FILE));
      fs.renameSync(`${modelJson}.tmp`, modelJson);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!fs.existsSync(modelJson)) {
        throw new GenlabError(
          `There is no saved model at '${modelJson}': check the folder, or save one first with saveModel(model, '${dir}').`,
        );
      }
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
      } catch (err) {
        throw new GenlabError(
          `'${modelJson}' is not valid JSON (${(err as Error).message}): the save was interrupted or the file was edited; save the model again.`,
        );
      }
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const file = path.join(dir, p);
          if (!fs.existsSync(file))
            throw new GenlabError(
              `'${modelJson}' refers to weights file '${file}', which is missing: copy the whole folder.`,
            );
          buffers.push(fs.readFileSync(file));
        }
      }
      const weightData = toArrayBuffer(Buffer.concat(buffers));
      checkWeightsLength(specs, weightData.byteLength, modelJson);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs,
        weightData,
      };
    },
  };
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

function checkWeightsLength(specs: tf.io.WeightsManifestEntry[], actual: number, where: string): void {
  const expected = specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[s.dtype] ?? 4), 0);
  if (specs.every((s) => !s.quantization) && expected !== actual) {
    throw new GenlabError(
      `The weights for '${where}' are ${actual} bytes but the manifest describes ${expected}: the files are from different saves or truncated; save again.`,
    );
  }
}

let routersRegistered = false;

/** Lets `file://` URLs reach `folderHandler` (skipped when tfjs-node already handles them). */
export function registerFileRouter(): void {
  if (routersRegistered) return;
  routersRegistered = true;
  const route = (url: string | string[]) => {
    const u = Array.isArray(url) ? url[0] : url;
    // tfjs's router contract: null means "not mine" (its typings omit the null).
    return (typeof u === 'string' && u.startsWith('file://') ? folderHandler(u) : null) as tf.io.IOHandler;
  };
  if (tf.io.getSaveHandlers('file://probe').length === 0) tf.io.registerSaveRouter(route);
  if (tf.io.getLoadHandlers('file://probe').length === 0) tf.io.registerLoadRouter(route);
}

/** Saves a layers model to `dir` (model.json + weights.bin). */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(folderHandler(dir));
}

/** Loads a layers model saved by `saveModel` (or tfjs-node's `file://` save). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(folderHandler(dir));
}

/** Saves named tensors (variables, e.g. a hand-built model's parameters) to `dir`. */
export async function saveVariables(variables: Record<string, tf.Tensor>, dir: string): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(variables);
  await folderHandler(dir).save!({
    modelTopology: {},
    format: 'genlab-variables',
    weightSpecs: specs,
    weightData: data,
  });
}

/**
 * Loads tensors saved by `saveVariables`. With `into`, assigns each to the variable
 * of the same name (shapes must match) and returns them; otherwise returns new tensors.
 */
export async function loadVariables(
  dir: string,
  into?: Record<string, tf.Variable>,
): Promise<Record<string, tf.Tensor>> {
  const artifacts = await folderHandler(dir).load!();
  const tensors = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
  if (!into) return tensors;
  for (const [name, variable] of Object.entries(into)) {
    const saved = tensors[name];
    if (!saved)
      throw new GenlabError(`'${dir}' has no saved variable '${name}'; it has ${Object.keys(tensors).join(', ')}.`);
    if (!tf.util.arraysEqual(saved.shape, variable.shape)) {
      throw new GenlabError(
        `Saved variable '${name}' has shape [${saved.shape}] but the variable to load it into has shape [${variable.shape}].`,
      );
    }
    variable.assign(saved);
  }
  tf.dispose(Object.values(tensors));
  return into;
}
