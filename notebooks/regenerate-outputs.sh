#!/usr/bin/env bash
# Re-runs the whole series in place, in the .NET Interactive kernel, with the tutorial's full setup on the stand-in
# model (../shared, served by a loopback Hub mirror): the outputs committed with the notebooks come from this.
# Takes 10 to 20 minutes on 2 CPU cores (notebook 04 fine-tunes on 2,000 reviews for 3 epochs; each live update of
# its loss chart also draws a PNG).
#
#   notebooks/regenerate-outputs.sh [extra bertsharp notebook run options, e.g. --set learningRate=5e-5]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dotnet tool restore >/dev/null
dotnet build BertSharp.slnx -c Debug >/dev/null
eval "$(.ci/libstdcxx-compat.sh)"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.ci/hub-mirror.sh "$port" 2>/dev/null &
mirror=$!
trap 'kill $mirror 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.2; done

HF_ENDPOINT="http://127.0.0.1:$port" dotnet src/BertSharp.Cli/bin/Debug/net10.0/BertSharp.Cli.dll notebook run notebooks/*.ipynb --in-place \
  --set modelId=standin/bert-tiny-imdb-mlm --set learningRate=1e-4 --set compareModelId=student --cell-timeout 3600 "$@"
