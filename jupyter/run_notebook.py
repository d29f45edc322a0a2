"""Execute a notebook with nbclient and report the outcome as one JSON line.

Used by genlab's notebook runner (jupyter/notebook_runner.ts). Python because
Jupyter's client is Python; all logic that decides anything lives in TypeScript.

usage: run_notebook.py NOTEBOOK OUTPUT KERNEL TIMEOUT_S
Prints {"ok": true} or {"ok": false, "cell": i, "source": ..., "ename": ..., "evalue": ..., "traceback": ...}.
The executed notebook (with outputs so far) is written to OUTPUT either way.
"""
import json
import os
import re
import sys

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed (jupyter_events brings it), and that
# builds a grammar on import: about 0.9 s of every runner's start, for an "iri" format no notebook schema uses.
# Marked absent, jsonschema leaves that one format unchecked.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def describe_error(nb, running_cell):
    """The failing cell and its error. Kernels that send an `error` output (IPython) are
    read from it; tslab writes the error to the cell's stderr instead."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return {
                    "cell": index,
                    "source": cell.source,
                    "ename": output.get("ename"),
                    "evalue": ANSI.sub("", output.get("evalue", "")),
                    "traceback": ANSI.sub("", "\n".join(output.get("traceback", []))),
                }
    if running_cell is None or running_cell >= len(nb.cells):
        return {}
    cell = nb.cells[running_cell]
    stderr = ANSI.sub("", "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")).strip()
    # tslab prints the error to stderr; jupyter/cell_errors.ts reads a name and message from it.
    return {"cell": running_cell, "source": cell.source, "traceback": stderr}


def main():
    source, output, kernel, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}},
    )
    running = {}
    client.on_cell_start = lambda cell, cell_index: running.update(cell=cell_index, source=cell.source)
    report = {"ok": True}
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        report = {"ok": False, "kind": type(err).__name__, "message": ANSI.sub("", str(err))[-4000:], **running}
        report.update(describe_error(nb, running.get("cell")))
    finally:
        nbformat.write(nb, output)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
