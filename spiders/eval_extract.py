"""Extraction benchmark: our cascade and trafilatura, side by side, on the Zyte article-extraction data.

Metric (the benchmark's own): tokens are `\\w+` matches; shingles are runs of 4 tokens (a text of 1–3
tokens is one shingle) counted as a multiset; per page TP/FP/FN are normalised by their sum; precision
and recall are averaged over pages where they are defined; F1 is the harmonic mean of the averages.
Speed is reported as pages per second and as a ratio to trafilatura, both measured in this run.

Run: `python -m spiders.eval_extract [BENCH_DIR]` (default ../shared/benchmarks/article-extraction).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from config.settings import REPO_ROOT

_TOKEN = re.compile(r"\w+")
DEFAULT_BENCH = REPO_ROOT.parent / "shared" / "benchmarks" / "article-extraction"


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    if len(tokens) < 4:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def page_scores(truth: str, predicted: str) -> tuple[float | None, float | None, bool]:
    """(precision, recall, exact) for one page; None where undefined."""
    true_sh, pred_sh = shingles(truth), shingles(predicted)
    tp = sum(min(count, pred_sh[s]) for s, count in true_sh.items())
    fp = sum(pred_sh.values()) - tp
    fn = sum(true_sh.values()) - tp
    exact = _TOKEN.findall(truth or "") == _TOKEN.findall(predicted or "")
    if fp == 0 and fn == 0:
        return (1.0 if tp or pred_sh else None), (1.0 if tp or true_sh else None), exact
    precision = (tp / (tp + fp)) if tp + fp > 0 else None
    recall = (tp / (tp + fn)) if tp + fn > 0 else None
    return precision, recall, exact


def aggregate(scores: list[tuple[float | None, float | None, bool]]) -> dict[str, float]:
    precisions = [p for p, _, _ in scores if p is not None]
    recalls = [r for _, r, _ in scores if r is not None]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(1 for *_, exact in scores if exact) / len(scores) if scores else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy}


def hkai_extractor(html: str, url: str) -> str:
    from transforms.extract import ExtractionError, extract_article

    try:
        return extract_article(html, url).body
    except ExtractionError:
        return ""


def trafilatura_extractor(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, favor_precision=True, include_comments=False) or ""


def run(bench_dir: Path, limit: int | None = None) -> dict[str, dict[str, float]]:
    truth = json.loads((bench_dir / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)[:limit] if limit else sorted(truth)
    pages = {
        i: gzip.decompress((bench_dir / "html" / f"{i}.html.gz").read_bytes()).decode("utf-8") for i in ids
    }
    extractors: dict[str, Callable[[str, str], str]] = {
        "trafilatura": trafilatura_extractor,
        "hkai": hkai_extractor,
    }
    results: dict[str, dict[str, float]] = {}
    for name, extractor in extractors.items():
        scores = []
        started = time.perf_counter()
        for page_id in ids:
            predicted = extractor(pages[page_id], truth[page_id]["url"])
            scores.append(page_scores(truth[page_id]["articleBody"], predicted))
        elapsed = time.perf_counter() - started
        results[name] = {**aggregate(scores), "pages_per_s": len(ids) / elapsed, "pages": len(ids)}
    results["hkai"]["speed_ratio"] = results["hkai"]["pages_per_s"] / results["trafilatura"]["pages_per_s"]
    results["trafilatura"]["speed_ratio"] = 1.0
    return results


def table(results: dict[str, dict[str, float]]) -> str:
    lines = [
        "| extractor | precision | recall | F1 | exact | pages/s | speed vs trafilatura |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['accuracy']:.3f} "
            f"| {r['pages_per_s']:.1f} | {r['speed_ratio']:.2f}× |"
        )
    return "\n".join(lines)


_URL_DATE = re.compile(r"(20\d{2})(\d{2})(\d{2})")


def _norm_title(text: str) -> str:
    return re.sub(r"[\s\u3000|｜丨︱│]+", "", text or "")


def hk_accuracy(pages_dir: Path) -> dict[str, float]:
    """Title accuracy against each saved page's own metadata title, and publication-date accuracy
    (same day in HKT) against the date embedded in the article URL, on real Hong Kong pages."""
    from spiders.registry import rules_for_url
    from transforms.extract import ExtractionError, extract_article

    titles = title_ok = dates = date_ok = 0
    for line in (pages_dir / "MANIFEST.jsonl").read_text(encoding="utf-8").splitlines():
        meta = json.loads(line)
        html = gzip.decompress((pages_dir / meta["file"]).read_bytes())
        try:
            result = extract_article(html, meta["url"], rules=rules_for_url(meta["url"]))
        except ExtractionError:
            result = None
        if meta.get("title_in_metadata"):
            titles += 1
            ours, theirs = _norm_title(result.title if result else ""), _norm_title(meta["title_in_metadata"])
            title_ok += bool(ours) and (ours == theirs or ours in theirs or theirs in ours)
        match = _URL_DATE.search(meta["url"])
        if match:
            dates += 1
            date_ok += bool(
                result and result.published and result.published.strftime("%Y%m%d") == "".join(match.groups())
            )
    return {
        "title_accuracy": title_ok / titles if titles else 0.0,
        "titles": titles,
        "date_accuracy": date_ok / dates if dates else 0.0,
        "dates": dates,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bench_dir", nargs="?", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--hk-pages",
        type=Path,
        default=REPO_ROOT.parent / "shared" / "fixtures" / "pages",
        help="saved Hong Kong pages (MANIFEST.jsonl) for title and date accuracy",
    )
    args = parser.parse_args(argv)
    if not (args.bench_dir / "ground-truth.json").exists():
        print(f"benchmark data not found in {args.bench_dir}", file=sys.stderr)
        return 2
    results = run(args.bench_dir, args.limit)
    print(table(results))
    if (args.hk_pages / "MANIFEST.jsonl").exists():
        hk = hk_accuracy(args.hk_pages)
        print(
            f"\nHong Kong pages: title accuracy {hk['title_accuracy']:.3f} ({hk['titles']} pages), "
            f"date accuracy {hk['date_accuracy']:.3f} ({hk['dates']} pages with a date in the URL)"
        )
        results["hong_kong_pages"] = hk
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
