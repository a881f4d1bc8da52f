#!/usr/bin/env bash
# Runs the tutorial notebooks in the .NET Interactive kernel through Jupyter (Debian's nbclient), without BertSharp's
# own runner: the check that the notebooks work in the engine users run, independent of `bertsharp notebook run`.
# Parameters are injected the way papermill does it, as a cell after the one tagged "parameters"; the stand-in model
# comes from a loopback Hub mirror (.ci/hub-mirror.sh). Exits non-zero, naming the notebook and cell, on any error output.
#
#   .ci/notebooks-in-jupyter.sh [OUTPUT_DIR] [NOTEBOOK...]     # default: a temporary folder, all notebooks/*.ipynb
#
# Needs: dotnet build (the notebooks load src/BertSharp/bin/Debug), dotnet tool restore, and Debian's
# python3-nbclient (apt-get install -y python3-nbclient). Small parameters: 64/32 reviews, 1 epoch, 64 tokens.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-$(mktemp -d "${TMPDIR:-/tmp}/bertsharp-jupyter.XXXXXX")}
shift || true
notebooks=("$@")
[ ${#notebooks[@]} -gt 0 ] || notebooks=(notebooks/*.ipynb)
mkdir -p "$out"

/usr/bin/python3 -c 'import nbclient' 2>/dev/null || { echo "notebooks-in-jupyter: install Debian's python3-nbclient first" >&2; exit 2; }
[ -f src/BertSharp/bin/Debug/net10.0/BertSharp.dll ] || { echo "notebooks-in-jupyter: run dotnet build first" >&2; exit 2; }
dotnet tool restore >/dev/null
eval "$(.ci/libstdcxx-compat.sh)"

# Jupyter's .NET kernels, registered in a private folder; the kernel starts through this repository's tool manifest.
kernels=$(mktemp -d "${TMPDIR:-/tmp}/bertsharp-kernels.XXXXXX")
mkdir -p "$kernels/kernels"
dotnet tool run dotnet-interactive -- jupyter install --path "$kernels/kernels" >/dev/null
/usr/bin/python3 - "$kernels/kernels/.net-csharp/kernel.json" <<'PY'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
argv = spec["argv"]
assert argv[:2] == ["dotnet", "interactive"], argv
# Without --http-port-range the kernel starts no HTTP server (only front ends with JavaScript kernels need one).
if "--http-port-range" in argv:
    i = argv.index("--http-port-range")
    del argv[i:i + 2]
spec["argv"] = ["dotnet", "tool", "run", "dotnet-interactive", "--"] + argv[2:]
json.dump(spec, open(path, "w"), indent=2)
PY
export JUPYTER_PATH="$kernels${JUPYTER_PATH:+:$JUPYTER_PATH}"

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.ci/hub-mirror.sh "$port" 2>/dev/null &
mirror=$!
trap 'kill $mirror 2>/dev/null || true; rm -rf "$kernels"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.2; done
export HF_ENDPOINT="http://127.0.0.1:$port" HF_HUB_CACHE="$out/hub-cache" HF_HUB_OFFLINE=0
results="$out/results"

/usr/bin/python3 - "$out" "$results" "${notebooks[@]}" <<'PY'
import json, os, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

out, results, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
values = {
    "modelId": '"standin/bert-tiny-imdb-mlm"', "trainSamples": "64", "evalSamples": "32", "numTrainEpochs": "1.0",
    "maxLength": "64", "learningRate": "1e-4", "batchSize": "16", "outputDir": json.dumps(results),
    "compareModelId": '"student"',
}
failed = 0
for path in paths:
    name = os.path.basename(path)
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    declared = "".join(nb.cells[at].source)
    code = "// Parameters (injected by .ci/notebooks-in-jupyter.sh)\n" + "\n".join(
        f"{k} = {v};" for k, v in values.items() if f"var {k} " in declared)
    cell = nbformat.v4.new_code_cell(code, metadata={"tags": ["injected-parameters"], "polyglot_notebook": {"kernelName": "csharp"}})
    nb.cells.insert(at + 1, cell)
    client = NotebookClient(nb, kernel_name=".net-csharp", timeout=900, startup_timeout=300,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    start = time.time()
    error = None
    try:
        client.execute()
    except CellExecutionError as e:
        error = str(e).strip().splitlines()[-1]
    nbformat.write(nb, os.path.join(out, name))
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for number, c in enumerate(code_cells, 1):
        for o in c.get("outputs", []):
            if o.get("output_type") == "error":
                error = error or f"{o.get('ename')}: {o.get('evalue')}"
                print(f"error: {name}: code cell {number} failed: {error}", file=sys.stderr)
                break
        else:
            continue
        break
    charts = sum(1 for c in code_cells for o in c.get("outputs", [])
                 if "bertsharp-chart" in "".join(o.get("data", {}).get("text/html", "")) and "image/png" in o.get("data", {}))
    status = "failed " if error else "ok     "
    print(f"{status} {name}: {len(code_cells)} code cells, {charts} charts with PNGs, {time.time() - start:.1f} s")
    failed += bool(error)
print(f"executed notebooks: {out}")
sys.exit(1 if failed else 0)
PY
