#!/usr/bin/env bash
# One short session on a lent GPU (the `device` tool: 15 minutes in all, one command of at most 10): train the
# spin detector at two widths and the small T5 at two learning rates side by side on the one GPU, each for a
# wall-clock budget (--max_train_minutes), then pack the results into $OUT in pieces under 16 MB.
# JOB=pretraining instead compares denoising pre-training (training/denoise.py) with none at equal compute;
# JOB=originals trains the detector with its original-word head (train_detector.py --original_words); JOB may
# name several ("originals pretraining"), which then share the GPU. JOB=families trains a detector without each spinner
# family and one with all (training/spinner_families.py; its pairs in FAMILIES_DIR) and scores each on every family;
# JOB=mixed continues the bundled detector on our spinner's pairs with those families mixed in (MIXED_DIR);
# JOB=garbled continues the bundled T5 on MT round trips mixed with spun pairs (GARBLED_DIR).
#
#   bash training/gpu_run.sh            # on the GPU machine, from the repository root
#
# Inputs, carried with the working tree: PAIRS_DIR (default .devjob) holding {train,validation,test}.jsonl.xz
# (source, target, edits[start,end] per line; written by `python -m training.export_pairs`) and, optionally,
# WHEELS_DIR (default .whl) with wheels of packages the machine lacks (datasets, a newer transformers).
# Small models leave the GPU mostly idle between kernel launches, so four runs share it at little cost.
# MINUTES sets the training time of each run; PYTHON the interpreter; CUDA-less machines run it too (slowly).
set -u
MINUTES=${MINUTES:-6}
PYTHON=${PYTHON:-python3}
PAIRS_DIR=${PAIRS_DIR:-.devjob}
WHEELS_DIR=${WHEELS_DIR:-.whl}
FAMILIES_DIR=${FAMILIES_DIR:-.devjob_families}  # JOB=families: python -m training.spinner_families build --out ...
MIXED_DIR=${MIXED_DIR:-.devjob_mixed}  # JOB=mixed: python -m training.spinner_families detector-mix ...
GARBLED_DIR=${GARBLED_DIR:-.devjob_garbled}  # JOB=garbled: training.garbled_pairs, then training.export_pairs
OUT=${OUT:-gpu_out}
WORK=${WORK:-/tmp/mtfix_gpu}
EVAL_STEPS=${EVAL_STEPS:-2000}
BATCH=${BATCH:-256}
PACK_MODELS=${PACK_MODELS:-1}
# Each run is killed this long after its start if it overruns (its last checkpoint then comes back instead).
RUN_LIMIT_S=${RUN_LIMIT_S:-$(( ${MINUTES%.*} * 60 + 120 ))}
mkdir -p "$OUT" "$WORK/runs"
OUT=$(cd "$OUT" && pwd)
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
log="$OUT/gpu_run.log"
exec > >(tee -a "$log") 2>&1

if compgen -G "$WHEELS_DIR/*.whl" >/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$WORK/site" \
    "$WHEELS_DIR"/*.whl
  export PYTHONPATH="$WORK/site:$PWD"
  if ! "$PYTHON" -c "import transformers, datasets, training.train_detector"; then
    echo "carried wheels do not import; trying the machine's transformers"
    rm -rf "$WORK"/site/transformers*
    "$PYTHON" -c "import transformers, datasets, training.train_detector" || exit 3
  fi
fi
"$PYTHON" - <<'EOF'
import torch, transformers, datasets
print("torch", torch.__version__, "transformers", transformers.__version__, "datasets", datasets.__version__,
      "cuda", torch.cuda.is_available() and torch.cuda.get_device_name())
EOF

if [ -d "$PAIRS_DIR" ]; then  # JOB=families brings its own pairs
  "$PYTHON" -c "from training.export_pairs import unpack; print('unpacked', unpack('$PAIRS_DIR', '$WORK/pairs'))"
  # One process builds the datasets cache first, so the four runs do not race to build it.
  "$PYTHON" -c "from training.train import read_pairs; print(read_pairs('$WORK/pairs'))"
fi
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv 2>/dev/null

GPU_FLAGS=""
"$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" && GPU_FLAGS="--bf16 true"
common="--preprocessing_num_workers ${PREPROCESS_WORKERS:-4} --dataloader_num_workers 2 --save_total_limit 1 \
  --logging_steps 200 --per_device_train_batch_size $BATCH --per_device_eval_batch_size 512 $GPU_FLAGS"

detector() {  # name hidden learning_rate [extra train_detector.py arguments]
  local name=$1 hidden=$2 lr=$3
  shift 3
  timeout "$RUN_LIMIT_S" "$PYTHON" -m training.train_detector --dataset_dir "${DATASET:-$WORK/pairs}" --tokenizer_dir mtfix/models/default \
    --output_dir "$WORK/runs/$name" --hidden_size "$hidden" --heads 4 --layers 4 --learning_rate "$lr" --warmup_steps 500 \
    --eval_steps "$EVAL_STEPS" --save_steps "$EVAL_STEPS" --max_eval_samples 4000 --max_train_minutes "${RUN_MINUTES:-$MINUTES}" \
    $common "$@" > "$WORK/runs/$name.log" 2>&1
  echo "$name exited $?"
}
seq2seq() {  # name learning_rate [pairs_dir [extra train.py arguments]]
  local name=$1 lr=$2 pairs=${3:-$WORK/pairs}
  shift 3 2>/dev/null || shift $#
  timeout "$RUN_LIMIT_S" "$PYTHON" -m training.train --preset small --dataset_dir "$pairs" --tokenizer_dir mtfix/models/default \
    --output_dir "$WORK/runs/$name" --learning_rate "$lr" --warmup_steps "${WARMUP:-1000}" --eval_steps "$EVAL_STEPS" \
    --save_steps "$EVAL_STEPS" --max_eval_samples 1000 --max_predict_samples 2000 --train_sampling_strategy random \
    --max_train_minutes "${RUN_MINUTES:-$MINUTES}" $common "$@" > "$WORK/runs/$name.log" 2>&1
  echo "$name exited $?"
  # bfloat16, as bundled (export_model): half the size, and T5 activations overflow float16
  [ "$PACK_MODELS" = 1 ] && [ -d "$WORK/runs/$name/model" ] && "$PYTHON" -c "from training.train import export_model; \
    export_model('$WORK/runs/$name/model', '$WORK/runs/$name/model_bf16')"
}
pids=()
runs=""
scores_only=""  # runs whose logs and scores come back without the model
for job in ${JOB:-models}; do
  case "$job" in
    models)  # the bundled T5 and detector, and a variant of each
      runs="$runs detector128 detector256 t5small_lr1e-3 t5small_lr2e-3"
      detector detector128 128 1e-3 & pids+=($!)
      detector detector256 256 5e-4 & pids+=($!)
      seq2seq t5small_lr1e-3 1e-3 & pids+=($!)
      seq2seq t5small_lr2e-3 2e-3 & pids+=($!)
      ;;
    originals)  # the detector with a head that predicts each word's original (ORIGINALS_FILE, if carried)
      runs="$runs originals128 originals128_lr2e-3"
      words=()
      [ -f "$PAIRS_DIR/originals.txt" ] && words=(--originals_file "$PAIRS_DIR/originals.txt")
      RUN_MINUTES=${ORIGINALS_MINUTES:-$MINUTES} detector originals128 128 1e-3 --original_words "${ORIGINAL_WORDS:-16384}" \
        "${words[@]}" & pids+=($!)
      RUN_MINUTES=${ORIGINALS_MINUTES:-$MINUTES} detector originals128_lr2e-3 128 2e-3 --original_words "${ORIGINAL_WORDS:-16384}" \
        "${words[@]}" & pids+=($!)
      ;;
    pretraining)  # denoising pre-training (training/denoise.py) against none, at equal compute: 2 x MINUTES each
      runs="$runs finetune_only denoise pretrained_finetune"
      scores_only="$scores_only finetune_only denoise pretrained_finetune"
      RUN_MINUTES=$(awk "BEGIN {print 2 * $MINUTES}") seq2seq finetune_only 2e-3 & pids+=($!)
      ( "$PYTHON" -m training.denoise "$WORK/pairs" "$WORK/denoise" > "$WORK/runs/denoise_data.log" 2>&1
        seq2seq denoise 2e-3 "$WORK/denoise"
        WARMUP=100 seq2seq pretrained_finetune 2e-3 "$WORK/pairs" --init_from "$WORK/runs/denoise/model" ) & pids+=($!)
      ;;
    families)  # the leave-one-family-out table (training/spinner_families.py): a detector without each family, one with all
      "$PYTHON" -m training.spinner_families mix "$FAMILIES_DIR" "$WORK/lofo" > "$WORK/runs/lofo_mix.log" 2>&1 || exit 4
      for held in $("$PYTHON" -c "from training.spinner_families import FAMILIES; print(*FAMILIES)") all; do
        name=$([ "$held" = all ] && echo all || echo "without_$held")
        runs="$runs $name"
        # each run's datasets cache is its own folder's, so the runs do not race for one
        DATASET="$WORK/lofo/$name" detector "$name" 128 1e-3 & pids+=($!)
      done
      ;;
    mixed)  # the bundled detector continued on our spinner's pairs with other families mixed in (MIXED_DIR, written by
            # python -m training.spinner_families detector-mix): the candidate for the next bundled detector
      runs="$runs detector_mixed"
      "$PYTHON" -c "from training.export_pairs import unpack; print('unpacked', unpack('$MIXED_DIR', '$WORK/mixed'))"
      DATASET="$WORK/mixed" detector detector_mixed 128 "${MIXED_LR:-3e-4}" --init_from "$MIXED_DIR/init" \
        --original_words 16384 & pids+=($!)
      ;;
    garbled)  # the bundled T5 continued on MT round trips mixed with spun pairs (GARBLED_DIR, written by
              # python -m training.garbled_pairs, then training.export_pairs): the seq2seq of issue 17
      "$PYTHON" -c "from training.export_pairs import unpack; print('unpacked', unpack('$GARBLED_DIR', '$WORK/garbled'))"
      "$PYTHON" -c "from training.train import read_pairs; print(read_pairs('$WORK/garbled'))"
      for lr in ${GARBLED_LRS:-5e-4 1e-3}; do
        runs="$runs garbled_lr$lr"
        WARMUP=${WARMUP:-300} seq2seq "garbled_lr$lr" "$lr" "$WORK/garbled" --init_from mtfix/models/default & pids+=($!)
      done
      ;;
    *) echo "unknown JOB $job"; exit 2 ;;
  esac
done
wait "${pids[@]}"  # a plain `wait` would also wait for the log's tee, forever
nvidia-smi --query-gpu=name,memory.used --format=csv 2>/dev/null

# What comes back: the final models, summaries and logs (checkpoints stay behind).
cd "$WORK/runs" || exit 1
mkdir -p pack
for run in $runs; do
  mkdir -p "pack/$run"
  cp "$run.log" "$run"/*.json "pack/$run/" 2>/dev/null
  last=$(ls -d "$run"/checkpoint-* 2>/dev/null | sort -V | tail -1)
  if [ "$PACK_MODELS" != 1 ] || [[ " $scores_only " == *" $run "* ]]; then :
  elif [ -d "$run/model_bf16" ]; then cp -r "$run/model_bf16" "pack/$run/model"
  elif [ -d "$run/model" ]; then cp -r "$run/model" "pack/$run/"
  elif [ -n "$last" ]; then mkdir -p "pack/$run/model" && cp "$last"/*.json "$last"/model.safetensors "pack/$run/model/"; fi
  cp "$run"/test_predictions.txt "pack/$run/" 2>/dev/null
  tail -5 "$run.log"
done
if [[ " ${JOB:-models} " == *" families "* ]]; then  # each detector on each family's test pairs
  score_runs=()
  for run in $runs; do [ -d "$run/model" ] && score_runs+=("$run=$WORK/runs/$run/model"); done
  (cd "$OLDPWD" && timeout "${SCORE_LIMIT_S:-120}" "$PYTHON" -m training.spinner_families score "$FAMILIES_DIR" \
    "${score_runs[@]}" --max-pairs "${SCORE_PAIRS:-1000}" --json "$WORK/runs/pack/lofo_scores.json")
fi
tar -cf - -C pack . | split -b 15000000 - "$OUT/results.tar.part-"
ls -la "$OUT"
