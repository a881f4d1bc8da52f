#!/usr/bin/env python3
"""The Hugging Face Trainer doing what `bertsharp bench train|eval` does: same data files, same rows, same shapes,
same precision, same batch size. Used by bench/gpu/run.sh on the GPU machine (transformers 5.x, torch 2.x) so both
sides are measured in one call on one machine. Prints one JSON object (the Trainer's own metrics plus memory).

Rows are chosen as bertsharp does: numpy.random.default_rng(seed).permutation(n), first --samples rows (datasets'
shuffle(seed).select(range(samples))); reviews truncated to --max-length tokens; dynamic padding per batch.

  python3 bench/hf_peer.py train --config CONFIG.json --tokenizer DIR --data IMDB_DIR --samples 2000 --epochs 3 \
      --batch-size 16 --precision bf16 --device cuda [--max-steps N]
  python3 bench/hf_peer.py eval --config CONFIG.json --tokenizer DIR --data IMDB_DIR --batch-size 64 --precision bf16
  (--model DIR instead of --config loads pretrained weights; --device cpu --threads 2 for the CPU comparison)
"""
import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time


def memory():
    """Whole-process resident memory (VmHWM/VmRSS, as bertsharp bench reports it), in MiB."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"peak_rss_mib": fields.get("VmHWM"), "rss_mib": fields.get("VmRSS")}


def split_file(data, split):
    """The lookup bertsharp's DatasetLoader does for a folder."""
    for candidate in (f"plain_text/{split}-00000-of-00001.parquet", f"{split}-00000-of-00001.parquet", f"{split}.parquet"):
        path = os.path.join(data, candidate)
        if os.path.exists(path):
            return path
    sys.exit(f"hf_peer: {data} has no '{split}' split (plain_text/{split}-00000-of-00001.parquet or {split}.parquet)")


def load_rows(data, split, samples, seed):
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(split_file(data, split), columns=["text", "label"]).to_pydict()
    order = np.random.default_rng(seed).permutation(len(table["text"]))
    if samples:
        if samples > len(order):
            sys.exit(f"hf_peer: --samples {samples} is more than the {len(order)} rows of {split}")
        order = order[:samples]
    return [table["text"][i] for i in order], [int(table["label"][i]) for i in order]


def training_arguments(**kwargs):
    """TrainingArguments with the names this transformers version knows; anything it lacks is reported, not dropped silently."""
    from transformers import TrainingArguments

    known = {f.name for f in dataclasses.fields(TrainingArguments)}
    missing = sorted(k for k in kwargs if k not in known)
    if missing:
        sys.exit(f"hf_peer: this transformers' TrainingArguments has no {missing}")
    return TrainingArguments(**kwargs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["train", "eval"])
    parser.add_argument("--config", help="config.json: random weights of its shape (like bertsharp bench --config)")
    parser.add_argument("--model", help="a pretrained model folder instead of --config")
    parser.add_argument("--tokenizer", help="tokenizer folder (default: --model)")
    parser.add_argument("--data", required=True, help="IMDb folder (plain_text/{train,test}-00000-of-00001.parquet)")
    parser.add_argument("--split", help="default: train for train, test for eval")
    parser.add_argument("--samples", type=int, default=0, help="rows in seed-42 permutation order; 0 = the whole split")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--max-steps", type=int, default=-1)
    parser.add_argument("--precision", choices=["fp32", "tf32", "bf16", "fp16"], default="fp32")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--threads", type=int, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--learning-rate", type=float, default=2e-5)  # bertsharp bench's
    parser.add_argument("--weight-decay", type=float, default=0.01)
    a = parser.parse_args()
    if not (a.config or a.model):
        sys.exit("hf_peer: give --config or --model")

    import torch
    import transformers
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, BertConfig,
                              BertForSequenceClassification, DataCollatorWithPadding, Trainer)

    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device == "cuda" and not torch.cuda.is_available():
        sys.exit("hf_peer: --device cuda but torch sees no CUDA GPU")
    torch.manual_seed(42)
    started = time.perf_counter()

    tokenizer = AutoTokenizer.from_pretrained(a.tokenizer or a.model)
    split = a.split or ("train" if a.task == "train" else "test")
    texts, labels = load_rows(a.data, split, a.samples, 42)
    tokenize_start = time.perf_counter()
    encoded = tokenizer(texts, truncation=True, max_length=a.max_length)
    tokenize_seconds = time.perf_counter() - tokenize_start
    rows = [{"input_ids": ids, "attention_mask": mask, "labels": label}
            for ids, mask, label in zip(encoded["input_ids"], encoded["attention_mask"], labels)]

    if a.model:
        model = AutoModelForSequenceClassification.from_pretrained(a.model, num_labels=2)
    else:
        config = BertConfig.from_json_file(a.config)
        config.num_labels = 2
        model = BertForSequenceClassification(config)

    with tempfile.TemporaryDirectory() as output_dir:
        args = training_arguments(
            output_dir=output_dir,
            per_device_train_batch_size=a.batch_size,
            per_device_eval_batch_size=a.batch_size,
            num_train_epochs=a.epochs,
            max_steps=a.max_steps,
            learning_rate=a.learning_rate,
            weight_decay=a.weight_decay,
            bf16=a.precision == "bf16",
            fp16=a.precision == "fp16",
            # None leaves torch's default (TF32 off for matmuls); fp32 and tf32 runs differ only in this.
            tf32=True if a.precision == "tf32" else (False if a.device == "cuda" else None),
            use_cpu=a.device == "cpu",
            eval_strategy="no",
            save_strategy="no",
            logging_steps=10**9,
            report_to="none",
            disable_tqdm=True,
            dataloader_num_workers=0,
            seed=42,
        )
        trainer = Trainer(model=model, args=args, data_collator=DataCollatorWithPadding(tokenizer),
                          processing_class=tokenizer, train_dataset=rows if a.task == "train" else None)
        if a.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        if a.task == "train":
            metrics = trainer.train().metrics
        else:
            trainer.evaluate(eval_dataset=rows[: 2 * a.batch_size], metric_key_prefix="warmup")  # as bertsharp bench eval
            metrics = trainer.evaluate(eval_dataset=rows)

    result = {
        "task": a.task, "transformers": transformers.__version__, "torch": torch.__version__,
        "model": a.model or a.config, "device": a.device, "precision": a.precision, "batch_size": a.batch_size,
        "max_length": a.max_length, "samples": len(rows), "threads": torch.get_num_threads(),
        "attention": getattr(model.config, "_attn_implementation", None),
        "optimizer": str(args.optim), "tokenize_seconds": round(tokenize_seconds, 3),
        "wall_seconds": round(time.perf_counter() - started, 3),
        a.task: metrics, "memory": memory(),
    }
    if a.device == "cuda":
        result["gpu_memory"] = {"max_allocated_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1),
                                "max_reserved_mib": round(torch.cuda.max_memory_reserved() / 2**20, 1)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
