"""Execute an assembled notebook for grading, cell by cell, and report each cell's fate.

Runs inside the grader's sandbox (grading/sandbox.ts). Reads one JSON request on stdin
(so the notebook, with its hidden tests, is never a file the kernel could read):
  {"notebook": ..., "kernel": "genlab", "cell_timeout": 30, "total_timeout": 600,
   "output_cap": 100000, "startup_timeout": 120, "startup_attempts": 3}
Answers on stdout, which only the runner can write to (see answer_channel): the line
{"kernel_ready": true} once a kernel is up (before it, no submitted code has run), then one
JSON line (or {"failure": "...", "grader_fault": bool} when nothing could run):
  {"cells": [{"index", "status": ok|error|timeout|died|not-run, "seconds", "stderr", "stdout"}],
   "executed": <notebook with outputs, capped>, "startup_failures": ["why a start failed", ...]}
A cell's status comes from the kernel's execute_reply, never from what the cell printed.
"""
import fcntl
import json
import os
import socket
import struct
import sys
import time

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed (jupyter_events brings it), and that
# builds a grammar on import: about 0.9 s of every runner's start, for an "iri" format no notebook schema uses.
# Marked absent, jsonschema leaves that one format unchecked.
sys.modules.setdefault("rfc3987_syntax", None)

from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
import nbformat
import traitlets

TRUNCATED = "\n[output truncated: this cell printed more than {cap} bytes]\n"


class GradingClient(NotebookClient):
    """nbclient with a per-cell output cap, so a flood of output cannot exhaust the grader."""

    # nbclient's is an Int; the grader's --startup-timeout takes any positive number of seconds.
    startup_timeout = traitlets.Float(60).tag(config=True)

    def __init__(self, *args, output_cap=100000, **kwargs):
        super().__init__(*args, **kwargs)
        self.output_cap = output_cap
        self.output_used = {}

    def output(self, outs, msg, display_id, cell_index):
        size = len(json.dumps(msg.get("content", {})))
        used = self.output_used.get(cell_index, 0)
        self.output_used[cell_index] = used + size
        if used + size > self.output_cap:
            if used <= self.output_cap:
                outs.append(nbformat.v4.new_output("stream", name="stderr", text=TRUNCATED.format(cap=self.output_cap)))
            return None
        return super().output(outs, msg, display_id, cell_index)


def bring_up_loopback():
    """In a new network namespace (unshare --net) `lo` starts down, and the kernel's
    ZeroMQ sockets on 127.0.0.1 are unreachable; set IFF_UP on it, as `ip link set lo up`
    would, with the stdlib alone."""
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


def answer_channel():
    """The runner's stdout is its answer to the grader, and the kernel it starts would inherit
    it: a submission could write a forged answer to fd 1. Keep a private copy of it, which
    children do not inherit (os.dup's are non-inheritable), and point fd 1 at stderr, the
    grader's log, for this process and everything it starts."""
    answer = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    return answer


ANSWER = None


def answer(message):
    print(json.dumps(message), file=ANSWER, flush=True)


def start_kernel(client, attempts):
    """Starts the kernel, trying again with a fresh one (new process, new ports) when a start
    fails. No student code has run yet, so a kernel that never answered says nothing about the
    submission: on a loaded machine a start can miss its timeout once (seen in CI, on a kernel
    that starts in 5 s), and grading that as 0 points would be the grader's fault.
    Returns (kernel context or None, the reason each failed start gave)."""
    failures = []
    for _ in range(max(1, attempts)):
        try:
            kernel = client.setup_kernel()
            kernel.__enter__()  # on failure nbclient has already shut the half-started kernel down
            return kernel, failures
        except Exception as err:  # the kernel did not start, or its client cannot reach it
            failures.append(f"{type(err).__name__}: {err}"[:500])
            client.km = None
            client.kc = None
    return None, failures


def kernel_survives(client, seconds):
    """Whether the kernel is still alive after `seconds` (checked every 0.25 s, so a death returns at once).
    The client's kernel manager is asynchronous: its is_alive is a coroutine, run here to its answer."""
    until = time.monotonic() + seconds
    while True:
        if not run_sync(client.km.is_alive)():
            return False
        if time.monotonic() >= until:
            return True
        time.sleep(0.25)


def stream_text(cell, name):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == name)


def main():
    request = json.load(sys.stdin)
    nb = nbformat.reads(json.dumps(request["notebook"]), as_version=4)  # joins list sources
    default_timeout = request.get("cell_timeout", 30)
    deadline = None  # set once the kernel is up: a slow start takes nothing from the student's time
    replies = {}

    def timeout_for(cell):
        limit = cell.get("metadata", {}).get("genlab", {}).get("timeout", default_timeout)
        return max(1, min(limit, deadline - time.monotonic()))

    client = GradingClient(
        nb,
        kernel_name=request.get("kernel", "genlab"),
        timeout_func=timeout_for,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "Timeout", "evalue": "the cell ran past its time limit"},
        allow_errors=True,
        output_cap=request.get("output_cap", 100000),
        resources={"metadata": {"path": request.get("cwd", ".")}},
        startup_timeout=request.get("startup_timeout", 120),
    )
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(cell_index, execute_reply)
    report = []
    stop = None
    kernel, startup_failures = start_kernel(client, request.get("startup_attempts", 3))
    if kernel is None:
        tries = len(startup_failures)
        answer({
            "failure": f"the kernel did not start or could not be reached ({tries} tr{'ies' if tries > 1 else 'y'}: {'; '.join(startup_failures)})"[:1500],
            "grader_fault": True,
        })
        return
    answer({"kernel_ready": True})
    deadline = time.monotonic() + request.get("total_timeout", 600)
    try:
        for index, cell in enumerate(nb.cells):
            entry = {"index": index, "status": "not-run", "seconds": 0.0}
            report.append(entry)
            if cell.cell_type != "code" or not cell.source.strip():
                entry["status"] = "skipped"
                continue
            if stop:
                entry["reason"] = stop
                continue
            if time.monotonic() >= deadline:
                stop = "the whole submission ran past its time limit"
                entry["reason"] = stop
                continue
            started = time.monotonic()
            try:
                for attempt in range(3):
                    client.execute_cell(cell, index)
                    content = (replies.get(index) or {}).get("content", {})
                    # tslab aborts every request that arrives within 200 ms of a failed cell
                    # (its fix for tslab#19), so wait that out after an error, and retry a
                    # request that was aborted rather than run.
                    if content.get("status") != "ok":
                        time.sleep(0.3)
                    if content.get("status") != "abort":
                        break
                if content.get("ename") == "Timeout":
                    entry["status"] = "timeout"
                    # An interrupt that lands outside the cell's code (e.g. while output is
                    # being sent), or one that comes too late for a cell filling the memory,
                    # ends the kernel; give it a moment, so that this cell is named, not the next.
                    if not kernel_survives(client, 3.0):
                        entry["status"] = "died"
                        entry["reason"] = "it ran past its time limit and the kernel did not survive the interrupt"
                        stop = "the kernel died in an earlier cell"
                else:
                    entry["status"] = "ok" if content.get("status") == "ok" else "error"
            except DeadKernelError:
                entry["status"] = "died"
                stop = "the kernel died in an earlier cell"
            except Exception as err:  # a kernel that stops answering, a protocol error
                entry["status"] = "error"
                entry["reason"] = f"{type(err).__name__}: {err}"[:500]
                stop = "the kernel stopped answering in an earlier cell"
            entry["seconds"] = round(time.monotonic() - started, 3)
            entry["stderr"] = stream_text(cell, "stderr")[-4000:]
            entry["stdout"] = stream_text(cell, "stdout")[-4000:]
    finally:
        kernel.__exit__(None, None, None)
    answer({"cells": report, "executed": nb, "startup_failures": startup_failures})


def refuse_inspection():
    """The kernel this runner starts runs the submission as the same user: make this process, which
    holds the hidden tests and their tokens, one that user cannot read or trace (PR_SET_DUMPABLE 0)."""
    try:
        import ctypes
        PR_SET_DUMPABLE = 4
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the sandbox kind says what it does not contain


if __name__ == "__main__":
    if "--loopback-up-only" in sys.argv[1:]:
        # unshare's sandbox script runs this first, while it still may (grading/sandbox.ts).
        try:
            bring_up_loopback()
        except OSError as err:
            print(f"the loopback interface could not be brought up inside the sandbox ({err}), so the kernel would be unreachable", file=sys.stderr)
            sys.exit(1)
        sys.exit(0)
    refuse_inspection()
    ANSWER = answer_channel()
    try:
        main()
    except Exception as err:  # the runner's own failure is never the submission's: say so, as one line
        what = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        answer({"failure": f"the grader's runner failed ({what})"[:1500], "grader_fault": True})
        raise
