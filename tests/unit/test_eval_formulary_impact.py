"""The formulary-impact scorer: precision and recall of "affected" and severity agreement, from a labels file."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.eval_formulary_impact import _read_labels, _scores, held_out


def test_scores_count_marked_against_labels(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        '{"entry_id": "A", "affected": true, "severity": "withdraw"}\n'
        '{"entry_id": "B", "affected": false, "severity": "none"}\n'
        '{"entry_id": "C", "affected": true, "severity": "review"}\n'
        '{"entry_id": "D", "affected": false, "severity": "none"}\n',
        encoding="utf-8",
    )
    got = _scores(_read_labels(labels), {"A": "withdraw", "B": "review"})
    assert (got["precision"], got["recall"], got["severity_agreement"]) == (0.5, 0.5, 1.0)
    assert (got["false_positives"], got["misses"]) == (["B"], ["C"])
    assert _scores(_read_labels(labels), {})["precision"] is None


def test_a_bad_label_row_names_its_line(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"entry_id": "A", "affected": "yes", "severity": "withdraw"}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match="labels.jsonl:1"):
        _read_labels(labels)


def test_the_held_out_half_is_fixed_by_the_id() -> None:
    ids = [f"KB-HZ-OS-{n:04d}" for n in range(200)]
    share = sum(held_out(i) for i in ids) / len(ids)
    assert 0.35 < share < 0.65 and [held_out(i) for i in ids] == [held_out(i) for i in ids]
