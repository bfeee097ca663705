"""tools/compare_results.py: two results folders are the same apart from timings, or the first difference is named."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers.paths import ROOT, without_timings

sys.path.insert(0, str(ROOT / "tools"))
import compare_results  # noqa: E402


def _write(folder, name, record):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(record))


def test_timings_are_left_out_and_a_score_difference_is_named(tmp_path):
    record = {"means": [{"rand_error": 0.2, "train_s": 3.0}], "timings": {"seconds": 5}, "n": 3}
    assert without_timings(record) == {"means": [{"rand_error": 0.2}], "n": 3}
    _write(tmp_path / "a", "x.json", record)
    _write(tmp_path / "b", "x.json", {**record, "means": [{"rand_error": 0.2, "train_s": 9.0}], "timings": {}})
    (tmp_path / "a" / "rows.csv").write_text("a,b\r\n1,2\r\n")
    (tmp_path / "b" / "rows.csv").write_text("a,b\r\n1,2\r\n")
    assert compare_results.compare(tmp_path / "a", tmp_path / "b") == {"rows.csv": "same", "x.json": "same"}
    _write(tmp_path / "b", "x.json", {**record, "means": [{"rand_error": 0.21, "train_s": 3.0}]})
    (tmp_path / "b" / "rows.csv").write_text("a,b\r\n1,3\r\n")
    _write(tmp_path / "b", "y.json", {})
    verdicts = compare_results.compare(tmp_path / "a", tmp_path / "b")
    assert verdicts["x.json"] == "differs: /means/0/rand_error: 0.2 != 0.21"
    assert verdicts["rows.csv"] == "differs (bytes)" and verdicts["y.json"].startswith("only in")
    done = subprocess.run(
        [sys.executable, "tools/compare_results.py", str(tmp_path / "a"), str(tmp_path / "b")],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1 and "x.json: differs" in done.stdout


def test_an_integer_and_a_float_differ():
    assert compare_results.first_difference({"n": 1}, {"n": 1.0}) == "/n: 1 != 1.0"
    assert compare_results.first_difference([1, 2], [1]) == ": 2 != 1 items"
