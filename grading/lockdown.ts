/**
 * The grader's prelude, run in the student's kernel before any student code.
 *
 * Assume the submission owns the kernel process. What it must not do is turn a failing
 * test into a passing one, use the library's copy of a function the lab asks for, or
 * forge the report. The answer keys are not in the process at all: the kernel loads a
 * redacted library (grading/redact.ts). What remains is the machinery that runs the tests
 * and the channels that report them, which this prelude takes out of the submission's
 * reach before its first cell, in five steps:
 *
 * 1. Intrinsics are frozen (Object, Array, Math, JSON, typed arrays, Promise, … and
 *    their prototypes), as are `console`, the TensorFlow.js namespace and Tensor's
 *    methods, and genlab's exports. A few prototype properties that ordinary code assigns on
 *    instances (`constructor`, `toString`, `name`, `message`, …) keep working through
 *    accessors, as in SES's lockdown.
 * 2. What runs a cell cannot be replaced: every function of every module loaded so far (tslab,
 *    TypeScript, zeromq, …) and of Node's built-in modules (`vm`, `module`, `fs`, …), the
 *    methods of every global class (Buffer, TextDecoder, …), the module system's loaders,
 *    caches and resolutions already made, tslab's `__tslab__` (through which each cell
 *    reaches earlier cells' names and `require`), and `process.stdout`/`stderr`.
 * 3. What could reach past the process is refused: new processes (`child_process`,
 *    `cluster`), worker threads, the inspector, V8's heap snapshots, flags and object
 *    queries, `process.binding`, and native addons other than the installed packages'.
 * 4. Each test cell ends with `__genlab_grader.pass(token)`, a fresh random token per test,
 *    which the kernel sees only when the cell arrives. The grader counts a test as passed
 *    only if the kernel replied "ok" and that token arrived in the cell's output. With the
 *    runner out of reach, the only way to print the token is for the test's own code to get
 *    to its end.
 * 5. Names the instructor's cells define are locked once their cell has run
 *    (`__genlab_grader.lock`): no student code can rebind `expectClose` or a helper through
 *    tslab's exports object. (Redeclaring them in a student cell is refused before it runs,
 *    grading/shadowing.ts.)
 *
 * It also withholds the lab's answer keys in this realm: calls are counted here, and the
 * grader's last cell calls `__genlab_grader.report(token)`, which prints those counts after
 * its token.
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

/** Node's built-in modules whose functions the kernel's machinery calls while it runs a cell. */
const BUILTINS = [
  'assert',
  'async_hooks',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dns',
  'events',
  'fs',
  'http',
  'https',
  'inspector',
  'module',
  'net',
  'os',
  'path',
  'perf_hooks',
  'querystring',
  'readline',
  'stream',
  'string_decoder',
  'timers',
  'tty',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
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
 * The exports of every module of the compiled library and of the engine package beneath it, after loading the
 * library whole: what `require('genlab')` reaches, so a module added to either is frozen without anyone listing it
 * here.
 */
export function libraryModules(): Record<string, unknown>[] {
  const index = require.resolve('genlab');
  require(index);
  const dirs = [index, require.resolve('genlab-engine')].map((f) => path.dirname(fs.realpathSync(f)) + path.sep);
  return Object.values(require.cache)
    .filter((m): m is NodeJS.Module => {
      const file = m ? fs.realpathSync(m.filename) : '';
      return dirs.some((dir) => file.startsWith(dir));
    })
    .map((m) => m.exports as Record<string, unknown>);
}

/** Makes every own function-valued data property non-writable and non-configurable, accessors non-configurable. */
function pinFunctions(obj: object, except: readonly string[] = []): void {
  for (const key of Reflect.ownKeys(obj)) {
    if (except.includes(key as string)) continue;
    const desc = Object.getOwnPropertyDescriptor(obj, key);
    if (!desc?.configurable) continue;
    if ('value' in desc && typeof desc.value !== 'function') continue;
    try {
      Object.defineProperty(obj, key, {
        ...desc,
        ...('value' in desc ? { writable: false } : {}),
        configurable: false,
      });
    } catch {
      /* an exotic object (a module namespace) that keeps its own rules */
    }
  }
}

/**
 * Exports that are per-execution state rather than code: tslab points `lastWriteDisplayData` at
 * the running cell's display (lib/viz/display.ts reads it).
 */
const STATE_EXPORTS: Record<string, string[]> = {
  [path.join('tslab', 'dist', 'jupyter.js')]: ['lastWriteDisplayData'],
};

const stateExports = (filename: string) =>
  Object.entries(STATE_EXPORTS).find(([file]) => filename.endsWith(path.sep + file))?.[1] ?? [];

/** Pins a module's exported functions, and the methods and statics of the classes it exports. */
function pinModule(exports: unknown, except: readonly string[] = []): void {
  if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null) return;
  pinFunctions(exports as object, except);
  for (const key of Reflect.ownKeys(exports as object)) {
    const desc = Object.getOwnPropertyDescriptor(exports, key);
    const value = desc && 'value' in desc ? desc.value : undefined;
    if (typeof value === 'function') {
      pinFunctions(value);
      if (value.prototype && typeof value.prototype === 'object') pinFunctions(value.prototype);
    } else if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) pinFunctions(value);
  }
}

/** Replaces `obj[key]` with a function that throws `why`, for good. */
function refuse(obj: object | undefined, key: string, why: string): void {
  if (!obj) return;
  const refused = function () {
    throw new Error(`${why} (the grader refuses it while a submission is graded)`);
  };
  try {
    Object.defineProperty(obj, key, { value: refused, writable: false, enumerable: false, configurable: false });
  } catch {
    /* already pinned by an earlier lockdown step */
  }
}

/**
 * Refuses what would reach past this process or into its internals: new processes, worker
 * threads, the inspector, V8's introspection and flags, raw bindings, and native addons other
 * than those of the installed packages (under one of `packages`: node_modules, and the engine
 * package's own folder, where its native kernels are built).
 */
function refuseCapabilities(packages: readonly string[]): void {
  const cp = require('child_process') as Record<string, unknown>;
  for (const k of Object.keys(cp))
    if (typeof cp[k] === 'function') refuse(cp, k, `child_process.${k}: starting a process`);
  refuse(require('cluster'), 'fork', 'cluster.fork: starting a process');
  refuse(require('worker_threads'), 'Worker', 'worker_threads.Worker: starting a thread');
  const inspector = require('inspector') as typeof import('inspector');
  for (const k of ['connect', 'connectToMainThread', 'post'])
    refuse(inspector.Session.prototype, k, `inspector.Session.${k}: the inspector`);
  for (const k of ['open', 'waitForDebugger']) refuse(inspector, k, `inspector.${k}: the inspector`);
  const v8 = require('v8') as Record<string, unknown>;
  for (const k of [
    'setFlagsFromString',
    'getHeapSnapshot',
    'writeHeapSnapshot',
    'queryObjects',
    'setHeapSnapshotNearHeapLimit',
    'takeCoverage',
  ])
    refuse(v8, k, `v8.${k}: V8's introspection`);
  refuse(require('module'), 'register', 'module.register: a module loader hook');
  const proc = process as unknown as Record<string, unknown>;
  refuse(proc, 'binding', "process.binding: Node's internal bindings");
  refuse(proc, '_linkedBinding', "process._linkedBinding: Node's internal bindings");
  const dlopen = process.dlopen.bind(process);
  Object.defineProperty(process, 'dlopen', {
    value: (module: { exports: unknown }, filename: string, flags?: number) => {
      let real = filename;
      try {
        real = fs.realpathSync(filename);
      } catch {
        /* refused below */
      }
      if (!packages.some((dir) => real.startsWith(dir + path.sep)))
        throw new Error(
          `loading the native addon ${filename} is refused while a submission is graded: only the installed packages' addons load`,
        );
      return flags === undefined ? dlopen(module, filename) : dlopen(module, filename, flags);
    },
    writable: false,
    enumerable: false,
    configurable: false,
  });
}

/** Pins the module system: its loaders, its extensions, and every module and resolution made so far. */
function pinModuleSystem(): void {
  const Module = require('module') as Record<string, unknown> & { prototype: object };
  pinModule(Module);
  Object.freeze(Module._extensions as object);
  for (const cache of [Module._cache, Module._pathCache] as Record<string, unknown>[]) {
    for (const key of Object.keys(cache)) {
      const entry = cache[key];
      if (entry && typeof entry === 'object' && 'exports' in entry && 'loaded' in entry) {
        const desc = Object.getOwnPropertyDescriptor(entry, 'exports');
        if (desc?.configurable)
          Object.defineProperty(entry, 'exports', { ...desc, writable: false, configurable: false });
      }
      const own = Object.getOwnPropertyDescriptor(cache, key)!;
      if (own.configurable) Object.defineProperty(cache, key, { ...own, writable: false, configurable: false });
    }
  }
}

/** Pins every global function (and its prototype's methods): Buffer, TextDecoder, setTimeout, … */
function pinGlobals(): void {
  for (const key of Reflect.ownKeys(globalThis)) {
    const desc = Object.getOwnPropertyDescriptor(globalThis, key)!;
    const value = 'value' in desc ? desc.value : undefined;
    if (typeof value !== 'function') continue;
    pinFunctions(value);
    if (value.prototype && typeof value.prototype === 'object') pinFunctions(value.prototype);
    if (desc.configurable) Object.defineProperty(globalThis, key, { ...desc, writable: false, configurable: false });
  }
}

/**
 * `process.stdout` and `stderr` stay the streams tslab writes each cell's output through: their
 * getters cannot be replaced, and `write` stays a plain property (tslab points it at the running
 * cell before each execution) that cannot become an accessor which would see every later write.
 */
function pinOutputStreams(): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const desc = Object.getOwnPropertyDescriptor(stream, 'write');
    Object.defineProperty(stream, 'write', {
      value: desc && 'value' in desc ? desc.value : stream.write,
      writable: true,
      enumerable: desc?.enumerable ?? true,
      configurable: false,
    });
    const getter = Object.getOwnPropertyDescriptor(process, name);
    if (getter?.configurable) Object.defineProperty(process, name, { ...getter, configurable: false });
  }
}

/**
 * tslab runs every cell as `(function (exports, require) { … })(__tslab__.exports, __tslab__.require)`:
 * earlier cells' names are read from `exports`. The global becomes a frozen holder of a view of
 * those exports in which a locked name keeps its value (it may be defined again with the very same
 * one, as a repeated import does) and of tslab's `require`, frozen so that no property of it can
 * stand in for `apply`.
 */
function guardTslabExports(): (names: readonly string[]) => void {
  const g = globalThis as unknown as Record<string, { exports: object; require: object } | undefined>;
  const holder = g.__tslab__;
  if (!holder) return () => undefined; // not running under tslab (the prelude's own tests)
  const locked = new Set<string | symbol>();
  const refused = (prop: string | symbol) =>
    new TypeError(
      `\`${String(prop)}\` is defined by the assignment's own code and cannot be changed by a student cell`,
    );
  const exports = new Proxy(holder.exports, {
    set(target, prop, value, receiver) {
      if (locked.has(prop) && Reflect.get(target, prop) !== value) throw refused(prop);
      return Reflect.set(target, prop, value, receiver);
    },
    defineProperty(target, prop, attributes) {
      const value = attributes.get ? attributes.get() : attributes.value;
      if (locked.has(prop) && Reflect.get(target, prop) !== value) throw refused(prop);
      return Reflect.defineProperty(target, prop, attributes);
    },
    deleteProperty(target, prop) {
      if (locked.has(prop)) throw refused(prop);
      return Reflect.deleteProperty(target, prop);
    },
    setPrototypeOf() {
      return false;
    },
  });
  Object.freeze(holder.require);
  Object.defineProperty(globalThis, '__tslab__', {
    value: Object.freeze({ exports, require: holder.require }),
    writable: false,
    enumerable: false,
    configurable: false,
  });
  return (names) => {
    for (const n of names) locked.add(n);
  };
}

/** The maps whose entries no one may change any more (TensorFlow.js's kernel and gradient registries). */
const sealedMaps = new WeakSet<object>();

/**
 * `Map.prototype.set`, `delete` and `clear` refuse a sealed map. Installed before the intrinsics are
 * frozen, since the registries are reachable (`globalThis._tfGlobals`) and `Map.prototype.set.call`
 * would bypass anything less.
 */
function guardMaps(): void {
  const proto = Map.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const method of ['set', 'delete', 'clear']) {
    const original = proto[method];
    Object.defineProperty(Map.prototype, method, {
      value: {
        [method](this: Map<unknown, unknown>, ...args: unknown[]) {
          if (sealedMaps.has(this))
            throw new Error(
              "changing TensorFlow.js's kernels or gradients is refused while a submission is graded (the grader sealed them once the lab's init() had run)",
            );
          return original.apply(this, args);
        },
      }[method],
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
}

/**
 * Pins every method an object reaches through its prototype chain as its own non-writable,
 * non-configurable property, so that none can be shadowed on the object itself (its data fields
 * stay as they are).
 */
function pinInstanceMethods(obj: object | undefined, fields: readonly string[] = []): void {
  if (!obj) return;
  for (
    let proto = Object.getPrototypeOf(obj);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  )
    for (const key of Object.getOwnPropertyNames(proto)) {
      const desc = Object.getOwnPropertyDescriptor(proto, key)!;
      if (key === 'constructor' || !('value' in desc) || typeof desc.value !== 'function') continue;
      if (Object.getOwnPropertyDescriptor(obj, key)) continue;
      Object.defineProperty(obj, key, { value: desc.value, writable: false, enumerable: false, configurable: false });
    }
  for (const key of fields) {
    const desc = Object.getOwnPropertyDescriptor(obj, key);
    if (desc?.configurable && 'value' in desc)
      Object.defineProperty(obj, key, { ...desc, writable: false, configurable: false });
  }
}

/**
 * Once the lab's `init()` has chosen the backend and registered genlab's kernels, TensorFlow.js's
 * engine is sealed: its kernel and gradient registries, its backends and their factories, the
 * engine's and the backend's methods, and which backend and state the engine uses. A test's
 * reference computed with TensorFlow.js then runs on the kernels the lab chose, not on ones a
 * submission registered.
 */
function sealEngine(tf: typeof import('@tensorflow/tfjs')): void {
  const globals = (globalThis as unknown as { _tfGlobals?: Map<string, unknown> })._tfGlobals;
  // tfjs-core holds these two maps from its start; `_tfGlobals` itself stays open to globals tfjs adds later.
  for (const name of ['kernelRegistry', 'gradRegistry']) {
    const registry = globals?.get(name);
    if (registry instanceof Map) sealedMaps.add(registry);
  }
  const engine = tf.engine() as unknown as Record<string, unknown>;
  Object.freeze(engine.registry);
  Object.freeze(engine.registryFactory);
  pinInstanceMethods(engine, ['registry', 'registryFactory', 'backendInstance', 'backendName', 'state', 'ENV']);
  pinInstanceMethods(engine.state as object, ['tensorInfo']);
  pinInstanceMethods(tf.backend(), ['dataIdMap', 'wasm']);
  // The cpu backend runs the kernels wasm lacks (packages/engine/src/kernels/wasm_cpu_fallback.ts): sealed the
  // same way.
  const cpu = (engine.registry as Record<string, object | undefined>).cpu;
  if (cpu && cpu !== tf.backend()) {
    pinInstanceMethods(cpu, ['data']);
    pinInstanceMethods((cpu as { data?: object }).data);
  }
}

/**
 * The cpu backend, which runs the kernels wasm lacks, numbers its tensors with a static counter
 * (`MathBackendCPU.nextDataId++`); pinning the class's properties would make it read-only and stop every cpu
 * kernel. An accessor, pinned like the rest, keeps counting.
 */
function keepCpuBackendCounting(): void {
  const owner = (require('@tensorflow/tfjs-backend-cpu') as { MathBackendCPU?: { nextDataId: number } }).MathBackendCPU;
  const desc = owner && Object.getOwnPropertyDescriptor(owner, 'nextDataId');
  if (!owner || !desc || !('value' in desc)) return;
  let next = desc.value as number;
  Object.defineProperty(owner, 'nextDataId', {
    get: () => next,
    set: (value: number) => {
      next = value;
    },
    enumerable: desc.enumerable,
    configurable: true,
  });
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
  /** Locks names an instructor cell defined: no later cell can rebind them to another value. */
  lock(names: readonly string[]): void;
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
  const lock = guardTslabExports();
  const stringify = JSON.stringify;
  const grader: Grader = Object.freeze({
    pass: (token: string) => void out.write(`${token}\n`),
    lock: (names: readonly string[]) => lock([...names]),
    report: (token: string) => void out.write(`${token} ${stringify(Object.fromEntries(calls))}\n`),
  });

  // Load what the labs load before freezing: ES5-compiled libraries (tfjs-backend-wasm's
  // __extends) assign `constructor` on prototypes as they load.
  require('@tensorflow/tfjs-backend-wasm');
  keepCpuBackendCounting();
  const tf = require('@tensorflow/tfjs');
  // Tensor and Variable methods cannot be replaced; instances keep their own fields.
  for (const cls of [tf.Tensor, tf.Variable]) pinProperties(cls.prototype);
  for (const id of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']) freezeModule(id);
  // The lab's first init() seals TensorFlow.js's engine once it has chosen the backend (sealEngine).
  const backend = require(path.join(path.dirname(require.resolve('genlab')), 'backend')) as {
    init: (...a: unknown[]) => Promise<unknown>;
  };
  const init = backend.init;
  let sealed = false;
  backend.init = async (...args: unknown[]) => {
    const info = await init(...args);
    if (!sealed) sealEngine(tf);
    sealed = true;
    return info;
  };
  guardMaps();
  for (const mod of libraryModules()) freezeExports(mod);
  for (const id of ['tslab/dist/jupyter', 'tslab/dist/executor', 'tslab/dist/converter', 'tslab/dist/main'])
    freezeModule(id, true);
  // Everything loaded so far, the built-ins the machinery uses, and the globals: see step 2 above.
  for (const id of BUILTINS) require(id);
  refuseCapabilities([
    path.resolve(fs.realpathSync(require.resolve('@tensorflow/tfjs/package.json')), '..', '..', '..'),
    path.dirname(fs.realpathSync(require.resolve('genlab-engine/package.json'))),
  ]);
  pinFunctions(process);
  for (const id of BUILTINS) pinModule(require(id));
  for (const m of Object.values(require.cache)) if (m) pinModule(m.exports, stateExports(m.filename));
  pinModuleSystem();
  (require('module') as { syncBuiltinESMExports(): void }).syncBuiltinESMExports();
  pinGlobals();
  pinOutputStreams();

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
