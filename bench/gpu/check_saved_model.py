#!/usr/bin/env python3
"""Does a model folder written by `bertsharp train` load in transformers and compute what BertSharp computes?

Loads --model with AutoModelForSequenceClassification.from_pretrained and AutoTokenizer.from_pretrained, encodes the
texts of --texts (one JSON string per line), and compares with BertSharp's own output for the same texts:
`bertsharp tokenize --json` (ids must be identical) and `bertsharp predict --json` (logits within --tolerance, float32
on the CPU). Prints JSON; exit code 1 when anything differs.

  python3 bench/gpu/check_saved_model.py --model DIR --texts texts.jsonl --tokens tokens.jsonl --predictions preds.jsonl
"""
import argparse
import json
import sys


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--texts", required=True)
    parser.add_argument("--tokens", required=True, help="bertsharp tokenize --json output")
    parser.add_argument("--predictions", required=True, help="bertsharp predict --json output")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    a = parser.parse_args()

    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    texts = read_jsonl(a.texts)
    tokens, predictions = read_jsonl(a.tokens), read_jsonl(a.predictions)
    if not (len(texts) == len(tokens) == len(predictions)):
        sys.exit(f"check_saved_model: {len(texts)} texts but {len(tokens)} tokenizations and {len(predictions)} predictions")

    tokenizer = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForSequenceClassification.from_pretrained(a.model).eval()
    result = {"transformers": transformers.__version__, "torch": torch.__version__, "model": a.model,
              "tokenizer_class": type(tokenizer).__name__, "texts": len(texts), "tolerance": a.tolerance}

    encoded = tokenizer(texts, truncation=True, max_length=512)
    mismatched = [i for i, (ids, bs) in enumerate(zip(encoded["input_ids"], tokens)) if list(ids) != list(bs["input_ids"])]
    result["token_ids_identical"] = not mismatched
    result["token_mismatches"] = mismatched

    max_diff = 0.0
    with torch.no_grad():
        for text, prediction in zip(texts, predictions):
            batch = tokenizer(text, truncation=True, max_length=512, return_tensors="pt")
            logits = model(**batch).logits[0]
            expected = torch.tensor(prediction["logits"], dtype=torch.float32)
            max_diff = max(max_diff, (logits - expected).abs().max().item())
    result["logits_max_abs_diff"] = max_diff
    result["labels"] = model.config.id2label
    result["passed"] = not mismatched and max_diff <= a.tolerance
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
