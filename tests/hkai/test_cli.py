"""The `hkai` command as a user meets it: one-line errors, documented exit codes, no half-written files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from hkai.cli import EXIT_ERROR, EXIT_FLAGGED, EXIT_USAGE, build_parser, main


def test_every_argument_has_help_text() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {action.dest}"
        for name, sub in subparsers.choices.items()
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
    ],
)
def test_bad_input_is_one_line_and_leaves_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    source = tmp_path / "in.jsonl"
    if content is not None:
        source.write_bytes(content)
    output = tmp_path / "out.jsonl"
    assert main(["tag", str(source), "-o", str(output)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("hkai tag: error: ")
    assert not output.exists() and list(tmp_path.glob(".out.jsonl*")) == []


def test_a_failed_run_keeps_the_previous_output(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_text("previous result\n", encoding="utf-8")
    assert main(["tag", str(tmp_path / "missing.jsonl"), "-o", str(output)]) == EXIT_ERROR
    assert output.read_text(encoding="utf-8") == "previous result\n"


def test_bad_lines_are_reported_and_good_ones_tagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    good = {"id": "a", "title": "數碼港推出人工智能資助計劃", "body": "數碼港今日宣布人工智能資助計劃。"}
    source.write_text(json.dumps(good, ensure_ascii=False) + "\n{broken\n[1, 2]\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    assert main(["tag", str(source), "-o", str(output)]) == 0
    tagged = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [t["id"] for t in tagged] == ["a"]
    err = capsys.readouterr().err
    assert "line 2: invalid JSON" in err and "line 3: expected a JSON object" in err


def test_a_bad_week_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["digest", "--week", "2025-13-01"])
    assert exit_info.value.code == EXIT_USAGE
    assert "not a date: '2025-13-01'" in capsys.readouterr().err


def test_unknown_source_is_one_line(hkai_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--source", "no_such_source"]) == EXIT_ERROR
    assert (
        capsys.readouterr().err == "hkai run: error: unknown source(s): no_such_source (see `hkai sources`)\n"
    )


@pytest.mark.slow
def test_run_with_a_flagged_source_exits_3(hkai_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """hkfp is not in the replay snapshot: every feed answers 404, so the source is flagged."""
    assert main(["run", "--run-id", "cli-flagged", "--source", "hkfp"]) == EXIT_FLAGGED
    captured = capsys.readouterr()
    assert "crawling hkfp (1/1)" in captured.err  # progress while it works
    assert "FLAGGED: every feed/listing request failed" in captured.out
