#!/usr/bin/env python3
"""PyTorch doing what `bertsharp bench eval|train --config CONFIG` does, on the same token ids, for the CPU comparison.

A BERT for sequence classification written out in plain PyTorch (no transformers on this machine), eager attention as
transformers' BertSelfAttention computes it, random weights of the config's shape. The inputs come from
ExportInputs.cs, so both sides see the same reviews, truncation, batches (evaluation in BertSharp's length-sorted
batches, exported with the ids) and padding. Prints one JSON object with the times and the process's peak and current resident memory
(VmHWM / VmRSS from /proc/self/status, the figures `bertsharp bench` prints).

  python3 bench/cpu/torch_side.py eval  --config CONFIG --inputs eval-inputs.json  --batch-size 16 --threads 2
  python3 bench/cpu/torch_side.py train --config CONFIG --inputs train-inputs.json --batch-size 8 --steps 3 --threads 2
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, eps = c["hidden_size"], c.get("layer_norm_eps", 1e-12)
        self.heads = c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attention_output = nn.Linear(h, h)
        self.attention_norm = nn.LayerNorm(h, eps=eps)
        self.intermediate = nn.Linear(h, c["intermediate_size"])
        self.output = nn.Linear(c["intermediate_size"], h)
        self.output_norm = nn.LayerNorm(h, eps=eps)
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        self.attention_dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def forward(self, x, additive_mask):
        b, s, h = x.shape
        d = h // self.heads

        def heads(t):
            return t.view(b, s, self.heads, d).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + additive_mask
        probs = self.attention_dropout(scores.softmax(dim=-1))
        context = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, h)
        x = self.attention_norm(self.dropout(self.attention_output(context)) + x)
        return self.output_norm(self.dropout(self.output(F.gelu(self.intermediate(x)))) + x)


class BertClassifier(nn.Module):
    def __init__(self, c, num_labels=2):
        super().__init__()
        h = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], h, padding_idx=c.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], h)
        self.embedding_norm = nn.LayerNorm(h, eps=c.get("layer_norm_eps", 1e-12))
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.pooler = nn.Linear(h, h)
        self.classifier = nn.Linear(h, num_labels)
        for m in self.modules():  # BERT's initialisation: N(0, 0.02), zero biases, unit LayerNorm
            if isinstance(m, (nn.Linear, nn.Embedding)):
                m.weight.data.normal_(0.0, c.get("initializer_range", 0.02))
            if isinstance(m, nn.Linear):
                m.bias.data.zero_()

    def forward(self, input_ids, attention_mask):
        s = input_ids.shape[1]
        positions = torch.arange(s).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions) + self.token_type_embeddings(torch.zeros_like(input_ids))
        x = self.dropout(self.embedding_norm(x))
        additive = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, additive)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return self.classifier(self.dropout(pooled))


def collate(rows, pad_id):
    """Pads to the longest row of the batch, as DataCollatorWithPadding does."""
    longest = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), longest), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r["input_ids"])] = torch.tensor(r["input_ids"])
        mask[i, : len(r["input_ids"])] = 1
    return ids, mask, torch.tensor([r["label"] for r in rows])


def memory():
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = int(value.split()[0]) / 1024
    return {"peak_rss_mib": round(fields["VmHWM"], 1), "rss_mib": round(fields["VmRSS"], 1)}


def predict(model, rows, pad_id, batches):
    """Evaluation in the given batches of row indices (BertSharp's, from ExportInputs.cs)."""
    loss_sum = 0.0
    with torch.no_grad():
        for batch in batches:
            ids, mask, labels = collate([rows[i] for i in batch], pad_id)
            logits = model(ids, mask)
            loss_sum += F.cross_entropy(logits, labels).item() * len(labels)
    return loss_sum / sum(len(b) for b in batches)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["eval", "train"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    with open(a.config) as f:
        config = json.load(f)
    with open(a.inputs) as f:
        inputs = json.load(f)
    rows, pad_id = inputs["rows"], inputs["pad_token_id"]
    model = BertClassifier(config)
    result = {"task": a.task, "torch": torch.__version__, "threads": torch.get_num_threads(), "batch_size": a.batch_size,
              "samples": len(rows), "max_length": inputs["max_length"], "parameters": sum(p.numel() for p in model.parameters())}

    if a.task == "eval":
        model.eval()
        batches = inputs.get("eval_batches")
        if batches is None or inputs.get("eval_batch_size") != a.batch_size:
            raise SystemExit(f"torch_side: {a.inputs} has no evaluation batches for --batch-size {a.batch_size}; "
                             f"export them with ExportInputs.cs ... {a.batch_size}")
        predict(model, rows, pad_id, inputs["warmup_batches"])  # warm-up, as bertsharp bench eval does
        start = time.perf_counter()
        loss = predict(model, rows, pad_id, batches)
        seconds = time.perf_counter() - start
        result["eval"] = {"eval_loss": loss, "eval_runtime": round(seconds, 4), "eval_samples_per_second": round(len(rows) / seconds, 3)}
    else:
        model.train()
        decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "norm" in n)]
        no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "norm" in n]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=2e-5)
        batch = collate(rows[: a.batch_size], pad_id)
        step_seconds = []
        for _ in range(a.steps):
            start = time.perf_counter()
            loss = F.cross_entropy(model(batch[0], batch[1]), batch[2])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            loss.item()
            step_seconds.append(round(time.perf_counter() - start, 4))
        result["train"] = {"batch_shape": list(batch[0].shape), "train_loss": loss.item()}
        result["step_seconds"] = step_seconds
        result["median_step_seconds"] = statistics.median(step_seconds[1:] or step_seconds)
    result["memory"] = memory()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
