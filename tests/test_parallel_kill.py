"""A parallel experiment run (a Dask LocalCluster) killed with SIGKILL leaves no process behind: Dask's worker
processes watch their parent and exit with it. Its rerun cleans up after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from helpers.experiments import runner, scenarios, splits

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from helpers.experiments import runner, scenarios, splits

    def fake_stylized(steps, style, slices, crop):
        raw, _ = scenarios.load_training(list(slices))
        return np.stack([np.clip(r[:crop, :crop].astype(int) - style, 0, 255).astype(np.uint8) for r in raw])

    store = scenarios.SliceStore(range(4), 96, fake_stylized)
    made = splits.make_splits(tuple(range(4)), 2, (0, 1))
    units = runner.experiment_units(["pixel-rf", "frangi"], (4,), ["original", "one_style", "full"], made)
    settings = runner.UnitSettings(styles=(3,), heldout=(13,), one_style=3, trees=10, max_samples=None)
    print("running", flush=True)
    runner.run_all(store, units, sys.argv[1], settings, workers=2, progress=False)
    print("finished", flush=True)
    """
)


def _session(sid: int) -> list[tuple[int, str, str]]:
    """Live processes of a session: (pid, state, command); zombies (already dead, awaiting a reaper) excluded."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            found.append((int(entry.name), state, command[:120]))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_a_parallel_run_leaves_no_process_behind(tmp_path):
    folder = tmp_path / "units"
    parent = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(folder)],
        start_new_session=True,  # its own session: every process it starts can be found by the session id
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert parent.stdout.readline().strip() == "running"
        deadline = time.monotonic() + 120
        while len(_session(parent.pid)) < 3 and time.monotonic() < deadline:  # the parent and two workers
            time.sleep(0.2)
        assert len(_session(parent.pid)) >= 3, f"no workers started: {_session(parent.pid)}"
        time.sleep(3)  # the workers are computing units now
        assert parent.poll() is None, "the run finished before it could be killed: give it more units"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 30
        while _session(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _session(parent.pid) == [], "processes outlived their killed parent"
    finally:
        for pid, _, _ in _session(parent.pid):  # never leave anything behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
        parent.kill()

    # the rerun removes what the killed writers left half-written, and finishes the work
    (folder / "graphs").mkdir(parents=True, exist_ok=True)
    half = folder / "graphs" / ".orig_s00__1__0123456789ab.pkl.999999999.x1y2z3.tmp"
    half.write_bytes(b"half a pickle")
    store = scenarios.SliceStore(range(4), 96, lambda *a: np.zeros((4, 96, 96), np.uint8))
    split = splits.make_splits(tuple(range(4)), 2, (0,))[0]
    settings = runner.UnitSettings(styles=(3,), heldout=(13,), one_style=3, trees=10, max_samples=None)
    rerun = runner.run_all(store, [runner.Unit("frangi", 4, "original", split)], folder, settings, progress=False)
    assert rerun.computed + rerun.loaded == 1 and not half.exists()
    assert not list(folder.rglob("*.tmp"))
