/**
 * The grader's prelude, run in the student's kernel before any student code.
 *
 * Tests must not be turned from failing into passing by student code that runs
 * before them. Three defences, each closing a route:
 *
 * 1. Intrinsics are frozen (Object, Array, Math, JSON, typed arrays, Promise, … and
 *    their prototypes), as are `console`, the TensorFlow.js namespace and Tensor's
 *    methods, genlab's checks and losses, and tslab's own modules (so its execute
 *    handler cannot be replaced to report success). The globals naming them are
 *    made read-only. A few prototype properties that ordinary code assigns on
 *    instances (`constructor`, `toString`, `name`, `message`, …) keep working
 *    through accessors, as in SES's lockdown.
 * 2. Each test cell ends with `__genlab_grader.pass(token)`, a fresh random token
 *    per test. The grader counts a test as passed only if the kernel replied "ok"
 *    and that token arrived in the cell's output. Student code cannot know the
 *    token in advance, and cannot replace `__genlab_grader` (a read-only global).
 * 3. Student cells may not redeclare names the tests use (checked statically by the
 *    grader, grading/shadowing.ts), which tslab would otherwise let them do.
 *
 * It also withholds the library's answer keys that the lab names (lib/answer_keys.ts):
 * the list goes where every copy of the library reads it, before any student code
 * runs, and each attempt to use one is counted here. The grader's last cell calls
 * `__genlab_grader.report(token)`, which prints those counts after its token.
 */
import * as fs from 'fs';
import * as path from 'path';
import { WITHHELD_SLOT, Withholding } from '../lib/answer_keys';

const OVERRIDABLE: Record<string, string[]> = {
  Object: [
    'constructor',
    'toString',
    'valueOf',
    'toLocaleString',
    'hasOwnProperty',
    'isPrototypeOf',
    'propertyIsEnumerable',
  ],
  Error: ['name', 'message', 'toString'],
  Function: ['toString'],
  Array: ['toString'],
  Promise: ['then'],
};

const INTRINSICS = [
  'Object',
  'Function',
  'Array',
  'Number',
  'String',
  'Boolean',
  'Symbol',
  'BigInt',
  'Math',
  'JSON',
  'Reflect',
  'Promise',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'Date',
  'RegExp',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Error',
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'EvalError',
  'URIError',
  'AggregateError',
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Int16Array',
  'Int32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Uint16Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
  'Proxy',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'console',
  'globalThis',
  'process',
  'require',
];

/** Turns a data property into an accessor whose setter defines an own property on the receiver. */
function enableOverride(proto: object, name: string): void {
  const desc = Object.getOwnPropertyDescriptor(proto, name);
  if (!desc || !('value' in desc) || !desc.configurable) return;
  const value = desc.value;
  Object.defineProperty(proto, name, {
    get() {
      return value;
    },
    set(this: object, v: unknown) {
      if (this === proto) throw new TypeError(`Cannot assign to read only property '${name}' of a frozen prototype`);
      Object.defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
    },
    enumerable: desc.enumerable,
    configurable: false,
  });
}

function freezeDeep(root: unknown, seen = new Set<unknown>()): void {
  if ((typeof root !== 'object' && typeof root !== 'function') || root === null || seen.has(root)) return;
  seen.add(root);
  Object.freeze(root);
  for (const key of Reflect.ownKeys(root as object)) {
    const desc = Object.getOwnPropertyDescriptor(root, key);
    if (desc && 'value' in desc) freezeDeep(desc.value, seen);
  }
}

/** Makes every own data property non-writable and non-configurable (the object stays extensible). */
function pinProperties(obj: object): void {
  for (const key of Reflect.ownKeys(obj)) {
    const desc = Object.getOwnPropertyDescriptor(obj, key);
    if (desc?.configurable)
      Object.defineProperty(obj, key, {
        ...desc,
        ...('value' in desc ? { writable: false } : {}),
        configurable: false,
      });
  }
}

/**
 * Pins a module's exported functions (and the function members of exported
 * namespace objects such as `tf.losses`), and the methods of exported classes.
 * With `classesOnly`, only class prototypes: tslab keeps per-execution state in
 * its module exports (e.g. jupyter.lastWriteDisplayData), which must stay writable.
 */
function freezeModule(id: string, classesOnly = false): void {
  let mod: Record<string, unknown>;
  try {
    mod = require(id);
  } catch {
    return; // not present in this kernel
  }
  freezeExports(mod, classesOnly);
}

function freezeExports(mod: Record<string, unknown>, classesOnly = false): void {
  for (const key of Reflect.ownKeys(mod)) {
    const desc = Object.getOwnPropertyDescriptor(mod, key)!;
    const value = 'value' in desc ? desc.value : desc.get?.call(mod);
    if (typeof value === 'function' && value.prototype && Object.getOwnPropertyNames(value.prototype).length > 1) {
      pinProperties(value.prototype);
      if (!classesOnly) pinProperties(value);
    } else if (classesOnly) {
      continue;
    } else if (typeof value === 'function' || (value && typeof value === 'object' && !ArrayBuffer.isView(value))) {
      if (typeof value === 'object') {
        for (const k of Reflect.ownKeys(value as object)) {
          const d = Object.getOwnPropertyDescriptor(value, k)!;
          if (d.configurable && 'value' in d && typeof d.value === 'function')
            Object.defineProperty(value, k, { ...d, writable: false, configurable: false });
        }
      }
    }
    if (!classesOnly && desc.configurable)
      Object.defineProperty(mod, key, {
        ...desc,
        ...('value' in desc ? { writable: false } : {}),
        configurable: false,
      });
  }
}

/**
 * The exports of every module of the compiled library, after loading it whole: what
 * `require('genlab')` reaches, so a module added to the library is frozen without
 * anyone listing it here.
 */
export function libraryModules(): Record<string, unknown>[] {
  const index = require.resolve('genlab');
  require(index);
  const libDir = path.dirname(fs.realpathSync(index)) + path.sep;
  return Object.values(require.cache)
    .filter((m): m is NodeJS.Module => Boolean(m && fs.realpathSync(m.filename).startsWith(libDir)))
    .map((m) => m.exports as Record<string, unknown>);
}

/** Longest text one console call may print in a graded run. */
const MAX_PRINT = 100_000;

/**
 * Caps what one console call prints. tslab sends each write as one ZeroMQ message,
 * and a write of many megabytes followed by the next message crashes the kernel
 * ("Socket is busy writing"), which would cost the student every later test.
 */
function capConsole(): void {
  const util = require('util') as typeof import('util');
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const text = util.format(...args);
      original(
        text.length > MAX_PRINT
          ? `${text.slice(0, MAX_PRINT)}… [${text.length - MAX_PRINT} more characters not printed by the grader]`
          : text,
      );
    };
  }
}

export interface Grader {
  /** Prints a test cell's token: the test ran to its end. */
  pass(token: string): void;
  /** Prints `token` and then, as JSON, how often each withheld answer key was called. */
  report(token: string): void;
}

export interface LockdownOptions {
  /** The lab being graded (for messages), e.g. '03-vae'. */
  lab?: string;
  /** Answer keys to withhold (lib/answer_keys.ts), as the source notebook lists them. */
  withheld?: string[];
}

let installed: Grader | undefined;

export function lockdown(options: LockdownOptions = {}): Grader {
  if (installed) return installed;
  // tslab points process.stdout.write at the running cell before each execution, which
  // also undoes any wrapper student code installed; so the writer is looked up per call.
  const out = process.stdout;
  const calls = new Map<string, number>();
  const withholding: Withholding = Object.freeze({
    lab: options.lab ?? 'this lab',
    names: Object.freeze([...(options.withheld ?? [])]),
    record: (name: string) => void calls.set(name, (calls.get(name) ?? 0) + 1),
  });
  Object.defineProperty(globalThis, WITHHELD_SLOT, {
    value: withholding,
    writable: false,
    enumerable: false,
    configurable: false,
  });
  const grader: Grader = Object.freeze({
    pass: (token: string) => void out.write(`${token}\n`),
    report: (token: string) => void out.write(`${token} ${JSON.stringify(Object.fromEntries(calls))}\n`),
  });

  // Load what the labs load before freezing: ES5-compiled libraries (tfjs-backend-wasm's
  // __extends) assign `constructor` on prototypes as they load.
  require('@tensorflow/tfjs-backend-wasm');
  const tf = require('@tensorflow/tfjs');
  // Tensor and Variable methods cannot be replaced; instances keep their own fields.
  for (const cls of [tf.Tensor, tf.Variable]) pinProperties(cls.prototype);
  for (const id of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']) freezeModule(id);
  for (const mod of libraryModules()) freezeExports(mod);
  for (const id of ['tslab/dist/jupyter', 'tslab/dist/executor', 'tslab/dist/converter', 'tslab/dist/main'])
    freezeModule(id, true);

  capConsole();
  const g = globalThis as unknown as Record<string, { prototype?: object }>;
  for (const [name, props] of Object.entries(OVERRIDABLE)) for (const p of props) enableOverride(g[name].prototype!, p);
  // Error constructors keep their static knobs (Error.stackTraceLimit, prepareStackTrace),
  // which compilers and source-map tools set at run time: marking them seen keeps
  // freezeDeep from reaching them through their prototypes' `constructor`.
  const seen = new Set<unknown>(INTRINSICS.filter((n) => n.endsWith('Error')).map((n) => g[n]));
  freezeDeep(Object.getPrototypeOf(Int8Array), seen);
  for (const name of INTRINSICS) {
    const value = g[name];
    if (value === undefined) continue;
    if (name.endsWith('Error')) freezeDeep(value.prototype, seen);
    else if (!['globalThis', 'process', 'require'].includes(name)) freezeDeep(value, seen);
    const desc = Object.getOwnPropertyDescriptor(globalThis, name);
    if (desc?.configurable)
      Object.defineProperty(globalThis, name, {
        value,
        writable: false,
        enumerable: desc.enumerable,
        configurable: false,
      });
  }
  Object.defineProperty(globalThis, '__genlab_grader', {
    value: grader,
    writable: false,
    enumerable: false,
    configurable: false,
  });
  installed = grader;
  return grader;
}
