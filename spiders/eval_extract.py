"""Extraction benchmark: our cascade and trafilatura, side by side, on the Zyte article-extraction data.

Metric (the benchmark's own): tokens are `\\w+` matches; shingles are runs of 4 tokens (a text of 1–3
tokens is one shingle) counted as a multiset; per page TP/FP/FN are normalised by their sum; precision
and recall are averaged over pages where they are defined; F1 is the harmonic mean of the averages.
Speed is reported as pages per second and as a ratio to trafilatura, both measured in this run, the two
extractors taking turns page by page (alternating which goes first) so that load on the machine weighs on both.

Run: `python -m spiders.eval_extract [BENCH_DIR]` (default ../shared/benchmarks/article-extraction).

Hong Kong figures, per site, on the regression corpus (tests/fixtures/regression/MANIFEST.jsonl: real pages
with the title, publication time and first and last sentence of the article read off each page), each page
run through its source's rules, and the generic cascade (no rules) on the saved pages of sites without rules
(GENERIC.jsonl, pages in ../shared/fixtures/pages):
- title: exact match (full-width spaces included);
- time: same minute in HKT, or same day where the page gives only the date;
- body F1 against the expected first and last sentences: recall is the share of those two sentences found in
  the body (character bigrams, so a sentence cut short counts in part); precision is the share of the body
  that lies between the start of the first sentence and the end of the last one and is not a line holding
  furniture seen on that page (the manifest's `absent` strings). Text before, after or in furniture lines is
  counted as noise.
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
from typing import Any

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
    # Both extractors run on each page in turn, the order alternating from page to page, so that a change
    # in machine load during the run weighs on both alike; each one's time is summed over its own calls.
    scores: dict[str, list[tuple[float | None, float | None, bool]]] = {name: [] for name in extractors}
    elapsed = dict.fromkeys(extractors, 0.0)
    names = list(extractors)
    for n, page_id in enumerate(ids):
        for name in names if n % 2 == 0 else names[::-1]:
            started = time.perf_counter()
            predicted = extractors[name](pages[page_id], truth[page_id]["url"])
            elapsed[name] += time.perf_counter() - started
            scores[name].append(page_scores(truth[page_id]["articleBody"], predicted))
    results: dict[str, dict[str, float]] = {
        name: {**aggregate(scores[name]), "pages_per_s": len(ids) / elapsed[name], "pages": len(ids)}
        for name in extractors
    }
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
DEFAULT_CORPUS = REPO_ROOT / "tests" / "fixtures" / "regression"
DEFAULT_HK_PAGES = REPO_ROOT.parent / "shared" / "fixtures" / "pages"


def _norm_title(text: str) -> str:
    return re.sub(r"[\s\u3000|｜丨︱│]+", "", text or "")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _bigrams(text: str) -> Counter[str]:
    chars = re.sub(r"\s+", "", text)
    return Counter(chars[i : i + 2] for i in range(len(chars) - 1)) if len(chars) > 1 else Counter([chars])


def _sentence_recall(sentence: str, body: str) -> float:
    if not sentence:
        return 1.0
    if sentence in body:
        return 1.0
    want, have = _bigrams(sentence), _bigrams(body)
    total = sum(want.values())
    return sum(min(n, have[g]) for g, n in want.items()) / total if total else 1.0


def span_scores(body: str, first: str, last: str, absent: list[str]) -> tuple[float | None, float]:
    """(precision, recall) of a body against the expected first and last sentences (see the module doc).
    Precision is undefined (None) for an empty body, as in the benchmark's metric, and 0 when the body
    holds neither sentence, i.e. none of the article."""
    text, first, last = _squash(body), _squash(first), _squash(last)
    recall = (_sentence_recall(first, text) + _sentence_recall(last, text)) / 2
    if not text:
        return None, recall
    start = text.find(first) if first else 0
    end_at = text.rfind(last) if last else -1
    if start < 0 and end_at < 0:
        return 0.0, recall
    start = max(start, 0)
    end = end_at + len(last) if end_at >= 0 and end_at + len(last) > start else len(text)
    noise = start + (len(text) - end)
    noise += sum(
        len(_squash(line)) + 1
        for line in _squash_lines(text[start:end], body)
        if any(word in line for word in absent)
    )
    return max(0.0, 1 - noise / len(text)), recall


def _squash_lines(span: str, body: str) -> list[str]:
    """The body's lines that fall inside the span (bodies keep their line breaks, the span does not)."""
    return [line for line in body.split("\n") if line.strip() and _squash(line) in span]


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _page_result(raw: bytes, url: str, rules: Any) -> Any:
    from transforms.extract import ExtractionError, extract_article

    try:
        return extract_article(raw, url, rules=rules)
    except ExtractionError:
        return None


def _time_ok(published: Any, expected: str, precision: str) -> bool:
    if published is None:
        return False
    width = 16 if precision == "minute" else 10
    return str(published.isoformat())[:width] == expected[:width]


def score_pages(
    entries: list[dict[str, Any]],
    load: Callable[[dict[str, Any]], bytes],
    rules_of: Callable[[dict[str, Any]], Any],
    group: str,
) -> dict[str, dict[str, float]]:
    """Per group (source or outlet): pages, body precision/recall/F1, title and time accuracy."""
    per: dict[str, list[tuple[float | None, float, bool, bool]]] = {}
    for entry in entries:
        name = entry[group]
        result = _page_result(load(entry), entry.get("url") or "", rules_of(entry))
        if entry.get("expect_article", True) is False:
            # a bot wall or error page: right when no article comes out of it
            ok = result is None or len(result.body) < 40
            per.setdefault(name, []).append((1.0 if ok else 0.0, 1.0, ok, ok))
            continue
        body = result.body if result else ""
        precision, recall = span_scores(
            body, entry["expected_first"], entry["expected_last"], entry.get("absent", [])
        )
        title_ok = bool(result) and result.title == entry["expected_title"]
        time_ok = bool(result) and _time_ok(
            result.published, entry["expected_published"], entry["time_precision"]
        )
        per.setdefault(name, []).append((precision, recall, title_ok, time_ok))
    figures: dict[str, dict[str, float]] = {}
    for name, rows in sorted(per.items()):
        defined = [r[0] for r in rows if r[0] is not None]
        precision = sum(defined) / len(defined) if defined else 0.0
        recall = sum(r[1] for r in rows) / len(rows)
        figures[name] = {
            "pages": len(rows),
            "precision": precision,
            "recall": recall,
            "body_f1": _f1(precision, recall),
            "title": sum(r[2] for r in rows) / len(rows),
            "time": sum(r[3] for r in rows) / len(rows),
        }
    if figures:
        rows_all = [v for v in figures.values()]
        n = sum(v["pages"] for v in rows_all)
        figures["all"] = {
            key: sum(v[key] * v["pages"] for v in rows_all) / n
            for key in ("precision", "recall", "title", "time")
        } | {"pages": n}
        figures["all"]["body_f1"] = _f1(figures["all"]["precision"], figures["all"]["recall"])
    return figures


def _manifest(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def corpus_figures(corpus_dir: Path = DEFAULT_CORPUS) -> dict[str, dict[str, float]]:
    """Per-source figures on the regression corpus, each page read with its source's site rules."""
    from spiders.registry import get_source

    entries = _manifest(corpus_dir / "MANIFEST.jsonl")
    return score_pages(
        entries,
        load=lambda e: gzip.decompress((corpus_dir / e["file"]).read_bytes()),
        rules_of=lambda e: get_source(e["source"]).rules,
        group="source",
    )


def generic_figures(
    corpus_dir: Path = DEFAULT_CORPUS, pages_dir: Path = DEFAULT_HK_PAGES
) -> dict[str, dict[str, float]]:
    """The generic cascade (no site rules) on saved pages of outlets that have none."""
    entries = [e for e in _manifest(corpus_dir / "GENERIC.jsonl") if (pages_dir / e["file"]).exists()]
    return score_pages(
        entries,
        load=lambda e: gzip.decompress((pages_dir / e["file"]).read_bytes()),
        rules_of=lambda e: None,
        group="outlet",
    )


def site_table(figures: dict[str, dict[str, float]], label: str) -> str:
    lines = [
        f"| {label} | pages | body precision | body recall | body F1 | title | time |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in figures.items():
        lines.append(
            f"| {name} | {r['pages']:.0f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['body_f1']:.3f} "
            f"| {r['title']:.3f} | {r['time']:.3f} |"
        )
    return "\n".join(lines)


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
        default=DEFAULT_HK_PAGES,
        help="saved Hong Kong pages (MANIFEST.jsonl) for title and date accuracy",
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the regression corpus")
    parser.add_argument("--hk-only", action="store_true", help="only the Hong Kong figures")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    if (args.corpus / "MANIFEST.jsonl").exists():
        results["sites"] = corpus_figures(args.corpus)
        print(site_table(results["sites"], "source (site rules)"))
        results["generic"] = generic_figures(args.corpus, args.hk_pages)
        if results["generic"]:
            print()
            print(site_table(results["generic"], "outlet (no rules, generic cascade)"))
        print()
    if args.hk_only:
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
        return 0
    if not (args.bench_dir / "ground-truth.json").exists():
        print(f"benchmark data not found in {args.bench_dir}", file=sys.stderr)
        return 2
    results.update(run(args.bench_dir, args.limit))
    print(table({k: v for k, v in results.items() if k in ("trafilatura", "hkai")}))
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
