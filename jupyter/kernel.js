#!/usr/bin/env node
/**
 * The "TypeScript (genlab)" kernel: tslab, with its answer to a cell made as Jupyter's messaging protocol says.
 * (Plain JavaScript, not compiled: the kernelspec runs it as it is, and every grading sandbox shows it read-only,
 * as it shows grading/run_graded.py.) Two things tslab 1.0.22 does otherwise, which clients that follow the
 * protocol trip over (nbgrader's autograde did, test/grading/nbgrader_peer.test.ts):
 *
 * - After a failed cell it aborts every request that arrives within 200 ms (its fix for tslab#19), whatever the
 *   request asked. The protocol aborts queued requests only when the failed one had `stop_on_error` (true by
 *   default: Run All in JupyterLab). A client that runs every cell regardless (nbclient with allow_errors, as
 *   nbgrader's autograde does) sends `stop_on_error: false`, and tslab aborted the cells after a failed test
 *   without running them, so they showed no error and nbgrader credited them.
 * - It answers a failed cell with `{status: 'error'}` alone, where the reply also carries `ename`, `evalue` and
 *   `traceback`; nbgrader stopped with a KeyError on the first failing test. The error itself is already in the
 *   cell's output (tslab prints it to stderr, where genlab's runner and grader read it); the reply names it too:
 *   the last error tslab printed during the cell, or, for a cell that did not compile, a TypeScript error.
 *
 * And one thing its messaging library does: zeromq 6 refuses a send while a delayed one waits, which tslab does not
 * expect (below, `queueBusySends`).
 */
'use strict';
const { JupyterHandlerImpl } = require('tslab/dist/jupyter');
const { TaskCanceledError } = require('tslab/dist/util');

/** The last error printed during the current cell: tslab prints a thrown error with console.error(e). */
let lastError;
const consoleError = console.error;
console.error = function (...args) {
  const e = args.find((a) => a !== null && typeof a === 'object' && typeof a.message === 'string');
  if (e) lastError = e;
  return consoleError.apply(this, args);
};

/** The ExecutionCount that handleExecuteImpl throws when its cell fails (an object with a numeric `count`). */
function countOf(e) {
  if (e !== null && typeof e === 'object' && typeof e.count === 'number') return e;
  console.error('unexpected error:', e);
  return null;
}

// tslab's handleExecute, with the two differences above. Its queue runs one cell at a time, and a failed cell
// rejects the queue, which cancels (aborts) every cell queued behind it until the queue is reset. A request with
// `stop_on_error: false` therefore does not reject the queue when its cell fails.
JupyterHandlerImpl.prototype.handleExecute = async function (req, writeStream, writeDisplayData) {
  lastError = undefined;
  const keepGoing = req.stop_on_error === false;
  let failed;
  let status = 'ok';
  let count = null;
  try {
    count = await this.execQueue.add(() =>
      this.handleExecuteImpl(req, writeStream, writeDisplayData).catch((e) => {
        if (!keepGoing) throw e;
        failed = { e };
        return null;
      }),
    );
    if (failed) {
      status = 'error';
      count = countOf(failed.e);
    }
  } catch (e) {
    if (e instanceof TaskCanceledError) status = 'abort';
    else {
      status = 'error';
      count = countOf(e);
      // Give ZMQ 200 ms to deliver the requests sent behind this one, aborting them, then take new ones (tslab#19).
      this.execQueue.reset(200);
    }
  }
  const reply = { status, execution_count: count ? count.count : undefined };
  if (status !== 'error') return reply;
  const ename = lastError ? String(lastError.name || 'Error') : 'TSError';
  const evalue = lastError ? String(lastError.message) : 'the cell did not compile (its output says where)';
  return { ...reply, ename, evalue, traceback: [`${ename}: ${evalue}`] };
};

/*
 * Every output goes to the notebook as a message on tslab's iopub socket, sent without waiting for the previous one.
 * zeromq 6 sends at once 512 times in a row, then delays one send to the event loop (so as not to starve it), and a
 * send made while that one waits throws "Socket is busy writing" into whichever cell made it: a cell that showed
 * two outputs back to back failed at random, about once every 512 messages of the kernel's life (lab 6's full run
 * did, after the progress bar's updates), and a loop of displays failed always. So a send that finds the socket
 * busy waits for the send before it, and every send after it queues behind, in order.
 */
function queueBusySends(Publisher) {
  const send = Publisher.prototype.send;
  const last = new WeakMap(); // socket → the promise of its latest send
  const queued = new WeakMap(); // socket → the tail of its queue, while one exists
  const busy = (e) => e !== null && typeof e === 'object' && (e.code === 'EBUSY' || /busy writing/.test(e.message));
  // zeromq defines `send` read-only on a base class: define Publisher's own.
  const queuedSend = function (message) {
    if (!queued.has(this)) {
      try {
        const sent = send.call(this, message);
        last.set(this, sent);
        return sent;
      } catch (e) {
        if (!busy(e)) throw e;
      }
    }
    const before = queued.get(this) ?? Promise.resolve(last.get(this)).catch(() => undefined);
    const sent = before.then(() => send.call(this, message));
    const tail = sent.catch(() => undefined); // tslab does not wait for its sends: a failed one must not crash the kernel
    queued.set(this, tail);
    tail.then(() => queued.get(this) === tail && queued.delete(this));
    return sent;
  };
  Object.defineProperty(Publisher.prototype, 'send', { value: queuedSend, writable: true, configurable: true });
}
queueBusySends(require(require.resolve('zeromq', { paths: [require.resolve('tslab')] })).Publisher);

require('tslab/dist/main').main();
