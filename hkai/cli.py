"""`hkai`: the command-line entry point for people and for the Makefile.

Exit codes: 0 done, 1 error (one line on stderr; `-v` adds the traceback), 2 usage error,
3 finished but with flagged sources (`hkai run`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO, Any

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_FLAGGED = 0, 1, 2, 3


class CliError(Exception):
    """A problem the user can fix, reported as one line."""


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Records of a JSONL file; a bad line is reported, not fatal. Binary input is an error."""
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text (byte {exc.start}); expected JSON Lines") from None
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, None, f"line {line_no}: invalid JSON ({exc.msg})"
            continue
        if not isinstance(record, dict):
            yield line_no, None, f"line {line_no}: expected a JSON object"
            continue
        yield line_no, record, None


@contextmanager
def _atomic_output(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """Write to a temporary file beside `path` and rename it on success: no half file is left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        "wb" if binary else "w",
        encoding=None if binary else "utf-8",
        dir=path.parent,
        prefix=f".{path.name}.",
        delete=False,
    )
    try:
        with handle:
            yield handle
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _week(value: str) -> str:
    """argparse type for `--week`: any ISO date in the week."""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {value!r} (use YYYY-MM-DD, any day of the week)"
        ) from None


def cmd_sources(args: argparse.Namespace) -> int:
    from spiders.registry import sources

    records: list[dict[str, Any]] = [
        {
            "name": s.name,
            "kind": s.kind,
            "languages": list(s.languages),
            "start_urls": list(s.start_urls),
            "verified": s.verified,
            "title": s.title,
            "homepage": s.homepage,
            "notes": s.notes,
        }
        for s in sources()
    ]
    if args.json:
        print(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        for r in records:
            mark = "verified  " if r["verified"] else "unverified"
            print(f"{r['name']:<22} {r['kind']:<8} {mark} {','.join(r['languages']):<8} {r['title']}")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    """Many pages, one process: the cascade is pure and cheap to call repeatedly."""
    from spiders.registry import rules_for_url
    from transforms.decode import decode_html
    from transforms.extract import ExtractionError, UndecodablePage, extract_article

    failures = 0
    records = list(_read_jsonl(Path(args.input)))
    with _atomic_output(Path(args.output)) as out:
        for line_no, record, error in records:
            if record is None:
                print(error, file=sys.stderr)
                failures += 1
                continue
            result: dict[str, Any] = {"id": record.get("id"), "url": record.get("url")}
            try:
                # the file's bytes, decoded as the crawler decodes a response (the record may carry the
                # response's Content-Type); a file that reads clean in no encoding is an error, not text
                decoded = decode_html(Path(record["html_path"]).read_bytes(), record.get("content_type"))
                if not decoded.clean:
                    raise UndecodablePage(f"undecodable page ({decoded.note})")
                extracted = extract_article(
                    decoded.text, record.get("url") or "", rules=rules_for_url(record.get("url") or "")
                )
                result.update(
                    encoding=decoded.encoding,
                    title=extracted.title,
                    body=extracted.body,
                    published=extracted.published.isoformat() if extracted.published else None,
                    language=extracted.language,
                    authors=extracted.authors,
                )
            except (OSError, KeyError, ExtractionError) as exc:
                failures += 1
                result.update(
                    title=None, body=None, published=None, language=None, authors=[], error=str(exc)
                )
                print(f"line {line_no}: {exc}", file=sys.stderr)
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0 if not args.strict or failures == 0 else 1


def cmd_tag(args: argparse.Namespace) -> int:
    from transforms.tagging import default_tagger, tag_record

    records = list(_read_jsonl(Path(args.input)))
    tagger = default_tagger()
    with _atomic_output(Path(args.output)) as out:
        for _line_no, record, error in records:
            if record is None:
                print(error, file=sys.stderr)
                continue
            out.write(json.dumps(tag_record(record, tagger), ensure_ascii=False) + "\n")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from warehouse.db import downgrade, upgrade

    if args.action == "upgrade":
        upgrade(revision=args.revision or "head")
    else:
        downgrade(revision=args.revision or "base")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from hkai.ingest import run_all
    from spiders.registry import spider_classes

    known = set(spider_classes())
    unknown = sorted(set(args.source or []) - known)
    if unknown:
        raise CliError(f"unknown source(s): {', '.join(unknown)} (see `hkai sources`)")

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = run_all(args.run_id, args.source or None, progress=progress)
    print(
        json.dumps(
            {k: v for k, v in result.items() if k != "crawls"}, ensure_ascii=False, indent=1, default=str
        )
    )
    for crawl in result["crawls"]:
        flag = f"FLAGGED: {crawl['reason']}" if crawl["flagged"] else "ok"
        print(f"  {crawl['source']:<14} items={crawl['items']:<5} {flag}")
    return EXIT_FLAGGED if any(crawl["flagged"] for crawl in result["crawls"]) else EXIT_OK


def cmd_trends(args: argparse.Namespace) -> int:
    from hkai.trends import print_trends

    print_trends(weeks=args.weeks, top=args.top)
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from hkai import weekly_digest

    if args.status:
        print("\n".join(weekly_digest.status_lines(weekly_digest.delivery_status(args.week))))
        return 0
    if args.resend:
        if not args.week:
            raise CliError("--resend needs --week (any date in the digest's week)")
        result = weekly_digest.resend(args.resend, args.week)
    else:
        result = weekly_digest.build_and_deliver(week=args.week, send=args.send)
    print(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    weekly_digest.raise_for_problems(result)  # unknown or failed digests: exit 1, named on stderr
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    import time

    from config.settings import get_settings
    from spiders.replay_server import ReplayServer

    with ReplayServer(Path(args.snapshot or get_settings().snapshot_dir), port=args.port) as server:
        print(f"replaying {len(server.snapshot.entries)} URLs on {server.url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


def cmd_export(args: argparse.Namespace) -> int:
    """One mart to a file (written atomically) or to stdout, as CSV or Parquet."""
    from warehouse.db import get_engine
    from warehouse.export import frame_bytes, mart_frame

    to_stdout = args.output in (None, "-")
    if to_stdout and args.format == "parquet" and sys.stdout.isatty():
        raise CliError("Parquet is binary: write it to a file with -o FILE (or redirect stdout)")
    frame = mart_frame(get_engine(), args.mart)
    data = frame_bytes(frame, args.format)
    if to_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        where = "stdout"
    else:
        path = Path(args.output)
        with _atomic_output(path, binary=True) as out:
            out.write(data)
        where = str(path)
    print(f"exported {len(frame)} rows of {args.mart} as {args.format} to {where}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hkai",
        description="Hong Kong AI news tracker: crawl, tag, load, trends and the weekly digest.",
        epilog="Exit codes: 0 done, 1 error, 2 usage error, 3 finished with flagged sources.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sources", help="list the source registry")
    p.add_argument("--json", action="store_true", help="print the registry as JSON")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("extract", help="extract articles from saved pages (JSONL in, JSONL out)")
    p.add_argument("input", help='JSONL, one {"id", "url", "html_path"} object per line')
    p.add_argument(
        "-o", "--output", required=True, help="JSONL to write (replaced only when the run succeeds)"
    )
    p.add_argument("--strict", action="store_true", help="exit 1 if any page failed")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("tag", help="tag articles (JSONL in, JSONL out)")
    p.add_argument("input", help='JSONL, one {"id", "title", "body", ...} object per line')
    p.add_argument(
        "-o", "--output", required=True, help="JSONL to write (replaced only when the run succeeds)"
    )
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("db", help="migrate the warehouse schema")
    p.add_argument("action", choices=["upgrade", "downgrade"], help="migrate up or down")
    p.add_argument("--revision", help="target revision (default: head for upgrade, base for downgrade)")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("run", help="run the ingest path without Airflow")
    p.add_argument(
        "--run-id", help="id for this run (default: manual__<UTC time>); a rerun with it is idempotent"
    )
    p.add_argument(
        "--source", action="append", metavar="NAME", help="crawl only this source (repeatable; default: all)"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("trends", help="print the trend tables")
    p.add_argument("--weeks", type=int, default=5, help="how many recent weeks to show (default 5)")
    p.add_argument("--top", type=int, default=8, help="how many entities to show (default 8)")
    p.set_defaults(func=cmd_trends)

    p = sub.add_parser(
        "digest",
        help="render (and optionally send) the weekly digest; delivery status; resend",
        description="Render the weekly digest (dry run), send it at most once per subscriber and week, "
        "show the delivery ledger, or resend a digest whose delivery is unknown or failed.",
    )
    p.add_argument(
        "--week", type=_week, help="any date in the ISO week (default: the latest week with articles)"
    )
    action = p.add_mutually_exclusive_group()
    action.add_argument(
        "--send",
        action="store_true",
        help="send over SMTP (smtp_default), once the week is loaded; default writes .eml only",
    )
    action.add_argument(
        "--status",
        action="store_true",
        help="show the delivery ledger (the week's, or the latest week's and every unsettled one)",
    )
    action.add_argument(
        "--resend",
        metavar="ADDRESS",
        help="send again a digest whose delivery is unknown or failed (needs --week)",
    )
    p.set_defaults(func=cmd_digest)

    from warehouse.marts.definitions import MART_NAMES

    p = sub.add_parser(
        "export",
        help="export a mart as CSV or Parquet",
        description="Export one mart (a trend table) whole, for spreadsheets, pandas or BI tools. "
        "Timestamps are UTC and timezone-aware; CSV is UTF-8 with a header row.",
    )
    p.add_argument(
        "mart", choices=MART_NAMES, metavar="MART", help="the mart to export: " + ", ".join(MART_NAMES)
    )
    p.add_argument("--format", choices=["csv", "parquet"], default="csv", help="file format (default csv)")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="file to write (replaced only when the export succeeds); default or '-': stdout",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("replay-server", help="serve the replay snapshot on loopback")
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    p.add_argument("--snapshot", help="snapshot directory (default: HKAI_SNAPSHOT_DIR)")
    p.set_defaults(func=cmd_replay)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # every failure is one clear line; -v shows where it came from
        if args.verbose:
            logging.exception("hkai %s failed", args.command)
        print(f"hkai {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, CliError | OSError | LookupError | ValueError):
        message = f"{type(exc).__name__}: {message}"
    return message[:500]


if __name__ == "__main__":
    sys.exit(main())
