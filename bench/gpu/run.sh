#!/bin/bash
# The GPU benchmark, in one go: BertSharp (the packed build in .gpu/) and the Hugging Face Trainer (this machine's
# transformers + torch) on the same data, shapes and precision, one after the other in the same call, plus CUDA
# correctness checks, a CPU comparison on 2 pinned threads, and a check that a model saved by `bertsharp train` loads
# in transformers. Writes $OUT/results.json (every stage's JSON, exit status and time, and the ratios) and
# $OUT/log.txt, and prints a table at the end. Stages that fail are recorded and the run goes on.
#
#   bench/gpu/run.sh                       # on the GPU machine, from the checkout copy holding .gpu/ (see bench/gpu/prepare.sh)
#   bench/gpu/run.sh --device cpu --tiny   # dry run of the same stages on tiny sizes (CPU; stand-in shapes)
#
# Environment: BERTSHARP (command, default .gpu/run), DATA (default .gpu/data), OUT (default ./bench-out), PYTHON
# (default python3), STAGES (space-separated subset of: check bertbase bigtrain eval cpu saved), BUDGET (seconds for
# all stages, default 390: with the machine's start-up the call stays under 8 minutes, so a rerun fits in a session's
# 15). Stages run in order of importance; one that would start with less than 20 s of the budget left is recorded as
# skipped, and each stage's timeout is cut to what is left, so the call always ends with results.json written.
set -uo pipefail

DEVICE=cuda
TINY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE=$2; shift 2 ;;
    --tiny) TINY=1; shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BS=${BERTSHARP:-.gpu/run}
DATA=${DATA:-.gpu/data}
OUT=${OUT:-$ROOT/bench-out}
PY=${PYTHON:-python3}
STAGES=${STAGES:-check bertbase bigtrain eval cpu saved}
BUDGET=${BUDGET:-390}
T0=$(date +%s)
WORK=$(mktemp -d /tmp/bench-gpu.XXXXXX)
mkdir -p "$OUT"
LOG=$OUT/log.txt
: > "$LOG"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

for need in "$DATA/bert-base/config.json" "$DATA/bert-base/vocab.txt" "$DATA/imdb/plain_text/test-00000-of-00001.parquet" \
            "$DATA/imdb/plain_text/train-00000-of-00001.parquet" "$DATA/standin-config/config.json" \
            "$DATA/small-bert/model.safetensors" "$DATA/tiny-cls/reference.safetensors"; do
  [ -e "$need" ] || { echo "run.sh: $need is missing (DATA=$DATA; see bench/gpu/prepare.sh)" >&2; exit 2; }
done

# Sizes: the GPU run is sized to finish in about 6 minutes; --tiny only proves every stage runs.
if [ $TINY = 1 ]; then
  BASE_CONFIG=$DATA/standin-config/config.json  # the stand-in's shape instead of bert-base
  SEEDS_SAMPLES=64; SEEDS_STEPS=4; BIG_SAMPLES=64; EVAL_SAMPLES=128; CPU_STEPS=3; TIMEOUT=300
else
  BASE_CONFIG=$DATA/bert-base/config.json
  SEEDS_SAMPLES=2000; SEEDS_STEPS=100; BIG_SAMPLES=4000; EVAL_SAMPLES=0; CPU_STEPS=30; TIMEOUT=240
fi

log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }

HAVE_PY=1
if ! "$PY" -c "import transformers, torch, pyarrow, numpy" >>"$LOG" 2>&1; then
  HAVE_PY=0
  log "python side unavailable ($PY cannot import transformers, torch, pyarrow and numpy): HF stages are recorded as skipped"
fi
HAVE_SMI=0
if [ "$DEVICE" = cuda ] && command -v nvidia-smi >/dev/null; then
  HAVE_SMI=1
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >>"$LOG" 2>&1
fi
BENCH_HELP=$($BS bench --help 2>&1)
supports() { grep -q -- "$1" <<<"$BENCH_HELP"; }

# GPU memory of a stage: the most nvidia-smi saw in use during it, less what was in use before (stages run one at a
# time, so that is the stage's process: CUDA context, caching allocator and all).
gpu_sampler_start() {
  [ $HAVE_SMI = 1 ] || return 0
  GPU_BASE=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > "$WORK/gpu-mem.txt" 2>/dev/null &
  GPU_SAMPLER=$!
}
gpu_sampler_stop() {
  [ $HAVE_SMI = 1 ] || { echo null; return; }
  kill "$GPU_SAMPLER" 2>/dev/null; wait "$GPU_SAMPLER" 2>/dev/null
  sort -n "$WORK/gpu-mem.txt" | tail -1 | awk -v base="$GPU_BASE" '{ print ($1 - base) }'
}

# stage NAME SIDE COMMAND...: runs it under a timeout, keeps its stdout (JSON) and appends a record to records.jsonl.
stage() {
  local name=$1 side=$2; shift 2
  local left=$(( BUDGET - ($(date +%s) - T0) ))
  if [ $left -lt 20 ]; then skip "$name" "$side" "time budget ($BUDGET s) spent"; return 0; fi
  local limit=$(( left < TIMEOUT ? left : TIMEOUT ))
  log "stage $name ($side, limit ${limit}s): $*"
  gpu_sampler_start
  local start end rc
  start=$(date +%s.%N)
  timeout "$limit" "$@" > "$WORK/$name.$side.out" 2> "$WORK/$name.$side.err"
  rc=$?
  end=$(date +%s.%N)
  local gpu
  gpu=$(gpu_sampler_stop)
  tail -n 20 "$WORK/$name.$side.err" >> "$LOG"
  "$PY" - "$WORK/$name.$side.out" "$WORK/$name.$side.err" "$name" "$side" "$rc" "$start" "$end" "$gpu" >> "$WORK/records.jsonl" <<'PYEOF'
import json, sys
out, err, name, side, rc, start, end, gpu = sys.argv[1:]
text = open(out).read()
try:
    data = json.loads(text)
except ValueError:
    data = None
record = {"stage": name, "side": side, "exit_code": int(rc), "wall_seconds": round(float(end) - float(start), 2),
          "gpu_memory_used_mib": None if gpu in ("", "null") else float(gpu), "result": data}
if data is None:
    record["stdout_tail"] = text[-2000:]
if int(rc) != 0:
    record["stderr_tail"] = open(err, errors="replace").read()[-2000:]
print(json.dumps(record))
PYEOF
  summarize
  return $rc
}

skip() {  # skip NAME SIDE REASON
  log "stage $1 ($2) skipped: $3"
  printf '{"stage": "%s", "side": "%s", "skipped": "%s"}\n' "$1" "$2" "$3" >> "$WORK/records.jsonl"
  summarize
}

summarize() {
  "$PY" "$ROOT/bench/gpu/summarize.py" "$WORK/records.jsonl" "$DEVICE" "$TINY" > "$OUT/results.json.tmp" 2>>"$LOG" \
    && mv "$OUT/results.json.tmp" "$OUT/results.json"
}

hf() { "$PY" "$ROOT/bench/hf_peer.py" "$@"; }
has() { [[ " $STAGES " == *" $1 "* ]]; }

BF16=(--bf16)
[ "$DEVICE" = cpu ] && BF16=()
log "run.sh: device $DEVICE, tiny $TINY, BertSharp $BS, data $DATA, out $OUT"
[ "$DEVICE" = cpu ] && log "device cpu: every BertSharp stage runs in fp32 (bf16, tf32 and fp16 need CUDA); the stage names stay"

# 1. CUDA correctness: the transformers fixture's logits and 3-step trajectory, fp32 within 1e-4, reduced precision within
#    the tolerances check-device states.
if has check; then
  stage check bertsharp $BS check-device --device "$DEVICE" --model "$DATA/tiny-cls" --reference "$DATA/tiny-cls/reference.safetensors"
fi

# 2. bert-base shape, random weights, real IMDb text, dynamic padding: the seeds' run (2,000 reviews, 3 epochs, batch 16)
#    capped at SEEDS_STEPS optimizer steps, in one precision, BertSharp then the HF Trainer.
seeds() {
  local precision=$1 flags=()
  case $precision in
    tf32) flags=(--tf32 true) ;;
    bf16) flags=(--bf16) ;;
    fp16) flags=(--fp16) ;;
  esac
  local name=seeds_$precision
  # The CPU refuses reduced precision (a dry run checks the stage, not the precision).
  [ "$DEVICE" = cpu ] && flags=()
  if [ ${#flags[@]} -gt 0 ] && ! supports "${flags[0]}"; then
    skip "$name" bertsharp "bertsharp bench has no ${flags[0]} option in this build"
  else
    stage "$name" bertsharp $BS bench train --config "$BASE_CONFIG" --model "$DATA/bert-base" --dataset "$DATA/imdb" \
      --samples $SEEDS_SAMPLES --epochs 3 --steps $SEEDS_STEPS --batch-size 16 --device "$DEVICE" "${flags[@]}"
  fi
  if [ $HAVE_PY = 1 ]; then
    stage "$name" hf hf train --config "$BASE_CONFIG" --tokenizer "$DATA/bert-base" --data "$DATA/imdb" \
      --samples $SEEDS_SAMPLES --epochs 3 --max-steps $SEEDS_STEPS --batch-size 16 --precision $precision --device "$DEVICE"
  else
    skip "$name" hf "no transformers here"
  fi
}
# bf16 and fp32 first (the figures the README compares); tf32 and fp16 run after the other stages, budget permitting.
if has bertbase; then
  seeds bf16
  seeds fp32
fi

# 3. Training in bf16, batch 32, one epoch over BIG_SAMPLES reviews.
if has bigtrain; then
  stage train_bf16_b32 bertsharp $BS bench train --config "$BASE_CONFIG" --model "$DATA/bert-base" --dataset "$DATA/imdb" \
    --samples $BIG_SAMPLES --epochs 1 --batch-size 32 --device "$DEVICE" "${BF16[@]}"
  if [ $HAVE_PY = 1 ]; then
    stage train_bf16_b32 hf hf train --config "$BASE_CONFIG" --tokenizer "$DATA/bert-base" --data "$DATA/imdb" \
      --samples $BIG_SAMPLES --epochs 1 --batch-size 32 --precision bf16 --device "$DEVICE"
  else
    skip train_bf16_b32 hf "no transformers here"
  fi
fi

# 4. Evaluation in bf16, batch 64, on the test split (all 25,000 reviews on the GPU).
if has eval; then
  stage eval_bf16_b64 bertsharp $BS bench eval --config "$BASE_CONFIG" --model "$DATA/bert-base" --dataset "$DATA/imdb" \
    --samples $EVAL_SAMPLES --batch-size 64 --device "$DEVICE" "${BF16[@]}"
  if [ $HAVE_PY = 1 ]; then
    stage eval_bf16_b64 hf hf eval --config "$BASE_CONFIG" --tokenizer "$DATA/bert-base" --data "$DATA/imdb" \
      --samples $EVAL_SAMPLES --batch-size 64 --precision bf16 --device "$DEVICE"
  else
    skip eval_bf16_b64 hf "no transformers here"
  fi
fi

# 5. CPU: the seeds' run in the stand-in's shape (2 layers, hidden 128; random weights, as speed does not depend on
#    them), fp32, batch 16, on 2 pinned threads, capped at CPU_STEPS steps.
if has cpu; then
  pin=()
  command -v taskset >/dev/null && pin=(taskset -c 0,1)
  stage cpu_standin_seeds bertsharp "${pin[@]}" $BS bench train --config "$DATA/standin-config/config.json" --model "$DATA/bert-base" \
    --dataset "$DATA/imdb" --samples 2000 --epochs 3 --steps $CPU_STEPS --batch-size 16 --device cpu --threads 2
  if [ $HAVE_PY = 1 ]; then
    stage cpu_standin_seeds hf env CUDA_VISIBLE_DEVICES= OMP_NUM_THREADS=2 "${pin[@]}" "$PY" "$ROOT/bench/hf_peer.py" train \
      --config "$DATA/standin-config/config.json" --tokenizer "$DATA/bert-base" --data "$DATA/imdb" --samples 2000 --epochs 3 \
      --max-steps $CPU_STEPS --batch-size 16 --precision fp32 --device cpu --threads 2
  else
    skip cpu_standin_seeds hf "no transformers here"
  fi
fi

# 6. A model saved by `bertsharp train` (a small BERT with bert-base's vocabulary, fine-tuned briefly on this device)
#    loads with from_pretrained and AutoTokenizer and gives BertSharp's ids and logits.
if has saved; then
  saved=$WORK/saved-model
  stage saved_train bertsharp $BS train --model "$DATA/small-bert" --dataset "$DATA/imdb" --train-samples 64 \
    --eval-samples 0 --eval-strategy no --save-strategy no --num-train-epochs 1 --per-device-train-batch-size 16 \
    --max-length 128 --device "$DEVICE" --output-dir "$saved"
  $BS predict --model "$saved" --file data/sample-reviews.jsonl --json > "$WORK/predictions.jsonl" 2>>"$LOG"
  $BS tokenize --model "$saved" --file data/sample-reviews.jsonl --json > "$WORK/tokens.jsonl" 2>>"$LOG"
  if [ $HAVE_PY = 1 ]; then
    stage saved_model_in_transformers hf "$PY" "$ROOT/bench/gpu/check_saved_model.py" --model "$saved" \
      --texts data/sample-reviews.jsonl --tokens "$WORK/tokens.jsonl" --predictions "$WORK/predictions.jsonl"
  else
    skip saved_model_in_transformers hf "no transformers here"
  fi
fi

if has bertbase; then
  seeds tf32
  seeds fp16
fi

summarize
"$PY" "$ROOT/bench/gpu/summarize.py" --table "$OUT/results.json" | tee -a "$LOG"
rm -rf "$WORK"
