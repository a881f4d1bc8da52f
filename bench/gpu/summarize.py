#!/usr/bin/env python3
"""Combines bench/gpu/run.sh's stage records into results.json (with BertSharp ÷ HF ratios), or prints its table.

  summarize.py RECORDS.jsonl DEVICE TINY > results.json
  summarize.py --table results.json
"""
import json
import sys

# stage -> (the metrics dict inside each side's JSON, the throughput key)
THROUGHPUT = {
    "train": ("train", "train_samples_per_second"),
    "eval": ("eval", "eval_samples_per_second"),
}


def throughput(record):
    result = record.get("result") or {}
    for section, key in THROUGHPUT.values():
        if isinstance(result.get(section), dict) and key in result[section]:
            return result[section][key]
    return None


def peak_rss(record):
    return ((record.get("result") or {}).get("memory") or {}).get("peak_rss_mib")


def combine(records_path, device, tiny):
    records = [json.loads(line) for line in open(records_path) if line.strip()]
    by_stage = {}
    for r in records:
        by_stage.setdefault(r["stage"], {})[r["side"]] = r
    comparisons = []
    for stage, sides in by_stage.items():
        bs, hf = sides.get("bertsharp"), sides.get("hf")
        if not bs or not hf or "skipped" in bs or "skipped" in hf:
            continue
        b, h = throughput(bs), throughput(hf)
        if b is None or h is None:
            continue
        comparisons.append({
            "stage": stage,
            "bertsharp_samples_per_second": b, "hf_samples_per_second": h,
            "ratio_bertsharp_over_hf": round(b / h, 3) if h else None,
            "bertsharp_gpu_memory_used_mib": bs.get("gpu_memory_used_mib"), "hf_gpu_memory_used_mib": hf.get("gpu_memory_used_mib"),
            "hf_torch_max_allocated_mib": ((hf.get("result") or {}).get("gpu_memory") or {}).get("max_allocated_mib"),
            "bertsharp_peak_rss_mib": peak_rss(bs), "hf_peak_rss_mib": peak_rss(hf),
        })
    checks = {}
    for stage in ("check", "saved_model_in_transformers"):
        for side, r in by_stage.get(stage, {}).items():
            checks[stage] = {"passed": (r.get("result") or {}).get("passed"), "exit_code": r.get("exit_code"), "skipped": r.get("skipped")}
    failed = [f"{r['stage']}/{r['side']}" for r in records if r.get("exit_code") not in (None, 0)]
    return {"device": device, "tiny": tiny == "1", "comparisons": comparisons, "checks": checks,
            "failed_stages": failed, "stages": records}


def table(results):
    lines = [f"device {results['device']}{' (tiny dry run)' if results['tiny'] else ''}",
             f"{'stage':<22} {'BertSharp/s':>12} {'HF/s':>10} {'ratio':>7} {'BS GPU MiB':>11} {'HF GPU MiB':>11} {'BS RSS MiB':>11} {'HF RSS MiB':>11}"]
    for c in results["comparisons"]:
        lines.append(f"{c['stage']:<22} {c['bertsharp_samples_per_second']:>12} {c['hf_samples_per_second']:>10} "
                     f"{c['ratio_bertsharp_over_hf']!s:>7} {c['bertsharp_gpu_memory_used_mib']!s:>11} {c['hf_gpu_memory_used_mib']!s:>11} "
                     f"{c['bertsharp_peak_rss_mib']!s:>11} {c['hf_peak_rss_mib']!s:>11}")
    for name, check in results["checks"].items():
        lines.append(f"check {name}: {'skipped: ' + check['skipped'] if check.get('skipped') else 'passed' if check['passed'] else 'FAILED'}")
    skipped = [f"{r['stage']}/{r['side']}: {r['skipped']}" for r in results["stages"] if "skipped" in r]
    lines += [f"skipped {s}" for s in skipped]
    lines.append(f"failed stages: {', '.join(results['failed_stages']) or 'none'}")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "--table":
        print(table(json.load(open(sys.argv[2]))))
    else:
        print(json.dumps(combine(*sys.argv[1:4]), indent=2))
