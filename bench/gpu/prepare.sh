#!/bin/bash
# Prepares what bench/gpu/run.sh needs on the GPU machine (which has PyTorch but no .NET), here:
#   1. a self-contained publish of the CLI without the CPU libtorch (-p:TorchBackend=system) and without serve and
#      notebook (-p:Slim=true);
#   2. the data: bert-base-uncased's config and vocabulary (random weights of that shape are made there), the IMDb
#      train and test Parquet files, the stand-in's config (its shape, for the CPU comparison), the transformers
#      fixture tiny-cls (correctness), and a small random BERT with bert-base's vocabulary (MakeSmallModel.cs) to
#      fine-tune and reload in transformers;
#   3. ../shared/gpu/pack, which writes .gpu/ (git-ignored) and prints its size: the working tree plus .gpu must stay
#      under the 64 MiB a device call carries.
#   bench/gpu/prepare.sh              # everything
#   bench/gpu/prepare.sh --data-only  # only the data folder (DATA, default /tmp/gpu-data), for run.sh's dry run here
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SHARED=${SHARED:-$ROOT/../shared}
DATA=${DATA:-/tmp/gpu-data}
PUBLISH=${PUBLISH:-/tmp/gpu-publish}

rm -rf "$DATA"
mkdir -p "$DATA/bert-base" "$DATA/imdb/plain_text" "$DATA/standin-config" "$DATA/tiny-cls"
cp "$SHARED/data/bert-base-uncased/config.json" "$SHARED/data/bert-base-uncased/vocab.txt" "$DATA/bert-base/"
cp "$SHARED/data/imdb/plain_text/train-00000-of-00001.parquet" "$SHARED/data/imdb/plain_text/test-00000-of-00001.parquet" "$DATA/imdb/plain_text/"
cp "$SHARED/models/bert-tiny-imdb-mlm/config.json" "$DATA/standin-config/"
cp "$SHARED/fixtures/hf-reference/tiny-cls/config.json" "$SHARED/fixtures/hf-reference/tiny-cls/model.safetensors" \
   "$SHARED/fixtures/hf-reference/tiny-cls/reference.safetensors" "$DATA/tiny-cls/"
eval "$(.ci/libstdcxx-compat.sh)"
dotnet run bench/gpu/MakeSmallModel.cs -- "$DATA/bert-base" "$DATA/small-bert"
[ "${1:-}" = --data-only ] && { echo "prepare: data in $DATA"; exit 0; }

rm -rf "$PUBLISH"
# Slim: without serve and notebook (ASP.NET Core, Roslyn), which the benchmark does not use and the 64 MiB cannot carry.
dotnet publish src/BertSharp.Cli -c Release -r linux-x64 --self-contained -p:TorchBackend=system -p:Slim=true -o "$PUBLISH"
"$SHARED/gpu/pack" "$PUBLISH" BertSharp.Cli "$DATA/bert-base" "$DATA/imdb" "$DATA/standin-config" "$DATA/tiny-cls" "$DATA/small-bert"
