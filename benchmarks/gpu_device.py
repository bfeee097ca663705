"""The device side of the remote-GPU kit (``python3 benchmarks/gpu_kit.py run``): :class:`Kit`, its steps and state.

Each call does the next steps of :data:`STEPS` within its time budget and moves at most :data:`FILES_PER_CALL`
files into ``$OUT``. The state lives in the work folder (``cache/gpukit``, kept on the machine while it is warm):
a finished step is never redone, an interrupted one resumes its own work (the stylisation cache, chapter 06's
unit cache), a failed one is recorded with the end of its log and tried again only when asked. Nothing here
imports the project's packages before :meth:`Kit.stage` has installed the carried wheels.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIB = 2**20
PACK_LIMIT = 16 * MIB  # one file back
FILES_PER_CALL = 8  # files back per call (one is the kit's status)
BYTES_PER_CALL = 60 * MIB  # of the 64 MiB a call may return, with room to spare
BUNDLES = ROOT / ".gpu"  # git-ignored: one folder per carry
BUNDLE_NAMES = ("style", "chapters")  # the first call carries the first, the second call the other
STEPS = ("benchmark", "stylize", "archive", "chapter01", "chapter02", "chapter06", "results")
CHAPTERS = {
    "chapter01": "01_style_transfer_heidelberg",
    "chapter02": "02_stylize_isbi",
    "chapter06": "06_augmentation_experiments",
}
BENCHMARK_ARGS = {"full": [], "ci": ["--size", "64", "--pairs", "2", "--steps", "3", "--device", "cpu"]}
NEEDS_STYLIZED = ("archive", "chapter02", "chapter06")
MIN_START_S = {"archive": 5, "results": 5}  # other steps start only with at least --min-step seconds left
# A step's command runs under this guard: it starts the command in its own process group and kills that group as
# soon as its stdin (a pipe whose only writer is the kit) ends, which is when the kit ends, even by SIGKILL.
GUARD = """
import os, signal, subprocess, sys, threading
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
def watch():
    sys.stdin.buffer.read()
    os.killpg(os.getpgid(0), signal.SIGKILL)
threading.Thread(target=watch, daemon=True).start()
code = child.wait()
if code < 0:  # killed by a signal: end the same way, so the kit sees the same status
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
os._exit(code)  # not sys.exit: the watching thread still holds stdin, which interpreter shutdown would wait for
"""
WEIGHT_FILES = {
    "hed": ("hed-conv5_1-float16.npz", "NSEM_VGG_WEIGHTS"),
    "vgg19": ("vgg19-conv5_1-q8.npz", "NSEM_VGG19_WEIGHTS"),
}


class Kit:
    """The state of a run on the device machine: steps done, time spent, files waiting to go back."""

    def __init__(
        self, work: Path, profile: str, budget: float, min_step: float, pack_bytes: int = PACK_LIMIT,
        bundles: Path = BUNDLES, quality: int = 95,
    ) -> None:  # fmt: skip
        self.work, self.profile, self.min_step, self.pack_bytes = Path(work), profile, min_step, pack_bytes
        self.bundles, self.quality = Path(bundles), quality
        self.deadline = time.monotonic() + budget
        self.outbox, self.logs = self.work / "outbox", self.work / "logs"
        for folder in (self.outbox, self.logs, self.work / "executed", self.work / "outputs"):
            folder.mkdir(parents=True, exist_ok=True)
        path = self.work / "state.json"
        self.new = not path.exists()
        steps = {s: {"status": "todo", "seconds": 0.0, "tries": 0} for s in STEPS}
        fresh = {"profile": profile, "calls": 0, "steps": steps, "sent": [], "stylize_calls": []}
        self.state = fresh if self.new else json.loads(path.read_text())
        if self.state["profile"] != profile:
            raise SystemExit(f"{path} is a {self.state['profile']} run: use --profile {self.state['profile']}")
        self.state["calls"] += 1
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")

    def save(self) -> None:
        """Write the state (atomically)."""
        tmp = self.work / "state.json.tmp"
        tmp.write_text(json.dumps(self.state, indent=1))
        tmp.replace(self.work / "state.json")

    def left(self) -> float:
        """Seconds left in this call."""
        return self.deadline - time.monotonic()

    def stage(self) -> None:
        """Install the carried wheels and copy the carried weights into the work folder (once per machine)."""
        site, weights = self.work / "site", self.work / "weights"
        weights.mkdir(exist_ok=True)
        installed = (
            set(json.loads((site / ".kit-wheels.json").read_text())) if (site / ".kit-wheels.json").exists() else set()
        )
        for bundle in (self.bundles / name for name in BUNDLE_NAMES if (self.bundles / name).is_dir()):
            for npz in (bundle / "weights").glob("*.npz"):
                if not (weights / npz.name).exists() or (weights / npz.name).stat().st_size != npz.stat().st_size:
                    shutil.copy2(npz, weights / npz.name)
            if (bundle / "kit.json").exists():
                shutil.copy2(bundle / "kit.json", self.work / "kit.json")
            new = sorted(str(w) for w in (bundle / "wheels").glob("*.whl") if w.name not in installed)
            if new:
                subprocess.run(
                    [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                     "--no-cache-dir", "--upgrade", "--target", str(site), *new], check=True,
                )  # fmt: skip
                installed |= {Path(w).name for w in new}
                (site / ".kit-wheels.json").write_text(json.dumps(sorted(installed)))
        paths = [str(ROOT)] + ([str(site)] if site.exists() else [])
        sys.path[:0] = paths
        self.env["PYTHONPATH"] = os.pathsep.join(paths + [self.env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        for name, variable in WEIGHT_FILES.values():
            if (weights / name).exists():
                self.env[variable] = os.environ[variable] = str(weights / name)

    def call(self, name: str, command: list[str], cwd: Path = ROOT) -> tuple[int, str]:
        """Run a command until it ends or the call's time is up; its output goes to ``logs/<name>.log``."""
        timeout = max(self.left() - 15, 1)
        with open(self.logs / f"{name}.log", "a") as log:
            log.write(f"\n== call {self.state['calls']}: {' '.join(command)}\n")
            log.flush()
            process = subprocess.Popen(
                [sys.executable, "-c", GUARD, *command],
                cwd=cwd,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # the guard's stdin stays open while this process lives: if it dies, the step dies with it
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                log.write(f"\n== stopped after {timeout:.0f} s: the call's time is up; the next call resumes\n")
                return -9, ""
            finally:
                process.stdin.close()
            return code, (self.logs / f"{name}.log").read_text()

    # ------------------------------------------------------------ the steps (each returns done/interrupted/failed)

    @staticmethod
    def outcome(rc: int) -> str:
        """A step's outcome from its command's exit status (-9: stopped when the call's time was up)."""
        return "done" if rc == 0 else "interrupted" if rc == -9 else "failed"

    def record_path(self, name: str) -> Path:
        """Where a record of this run goes: among the outputs (restored before each chapter), in the profile's
        results folder (``results/`` in the full profile, where chapter 02 reads the benchmark)."""
        from helpers import config

        path = self.work / "outputs" / config.select(self.profile).results.relative_to(ROOT) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def benchmark(self) -> str:
        out = self.record_path("style_benchmark.json")
        command = [sys.executable, "benchmarks/style_benchmark.py", *BENCHMARK_ARGS[self.profile], "--out", str(out)]
        rc, _ = self.call("benchmark", command)
        if rc == 0:
            shutil.copy2(out, self.outbox / out.name)
            shutil.copy2(self.logs / "benchmark.log", self.outbox / "benchmark.log")
        return self.outcome(rc)

    def stylize(self) -> str:
        started = time.monotonic()
        rc, log = self.call("stylize", [sys.executable, "-m", "helpers.style", "--profile", self.profile])
        lines = [line for line in log.splitlines() if line.startswith("{")]
        summary = json.loads(lines[-1]) if rc == 0 and lines else {}
        self.state["stylize_calls"].append({"rc": rc, "seconds": round(time.monotonic() - started, 1), **summary})
        if rc != 0 or not summary:
            return "failed" if self.outcome(rc) == "failed" or rc == 0 else "interrupted"
        if summary["failed"] and self.state["steps"]["stylize"]["tries"] < 3:  # diverged images: tried again
            return "interrupted"
        from helpers import config

        work = config.select(self.profile).style
        calls = self.state["stylize_calls"]
        images = sum(c.get("done", 0) for c in calls)
        pairs_iterations = images / len(work.steps) * max(work.steps)  # one trajectory per pair, snapshots on it
        seconds = sum(c["seconds"] for c in calls)
        record = {
            "profile": self.profile, "command": f"python -m helpers.style --profile {self.profile}", "calls": calls,
            "wall_seconds": round(seconds, 1), "images_written": images,
            "image_iterations_per_s": round(pairs_iterations / seconds, 2) if seconds else None,
        }  # fmt: skip
        self.record_path("stylize_summary.json").write_text(json.dumps(record, indent=1))
        shutil.copy2(self.record_path("stylize_summary.json"), self.outbox / "stylize_summary.json")
        return "done"

    def archive(self) -> str:
        from benchmarks.style_archive import pack_stylized
        from helpers import config
        from helpers.style.cache import cached_settings, entry
        from helpers.style.settings import StyleSettings

        run = config.select(self.profile)
        work = run.style
        settings = cached_settings(StyleSettings(device=run.device))  # as the stylize step ran
        names = [
            entry(run.cache, settings, style, s, work.crop, st)[1].stem
            for style in work.styles for st in work.steps for s in work.slices
        ]  # fmt: skip
        pack_stylized(run.cache, self.outbox, names, quality=self.quality, max_bytes=self.pack_bytes)
        return "done"

    def chapter(self, step: str) -> str:
        from helpers import config
        from tools import run_stamp as chapters

        run = config.select(self.profile)
        outputs = self.work / "outputs"
        for saved in outputs.rglob("*"):  # the next call's copy of the tree resets tracked outputs: restore ours
            if saved.is_file():
                target = ROOT / saved.relative_to(outputs)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(saved, target)
        before = {p: p.stat().st_mtime_ns for d in (run.results, run.figures) if d.exists() for p in d.rglob("*")}
        name = CHAPTERS[step]
        partial = self.work / "executed" / f".partial-{name}.ipynb"
        command = [sys.executable, "-m", "papermill", "--cwd", "notebooks", "-k", "python3", f"notebooks/{name}.ipynb",
                   str(partial), "-p", "profile", self.profile]  # fmt: skip
        rc, _ = self.call(step, command)
        if rc != 0:
            return self.outcome(rc)
        commit = (
            json.loads((self.work / "kit.json").read_text())["commit"] if (self.work / "kit.json").exists() else None
        )
        chapters.stamp(partial, commit)
        partial.replace(self.work / "executed" / f"{name}.ipynb")
        for folder in (run.results, run.figures):
            for path in folder.rglob("*") if folder.exists() else ():
                if path.is_file() and before.get(path) != path.stat().st_mtime_ns:
                    target = outputs / path.relative_to(ROOT)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
        return "done"

    def results(self) -> str:
        files = {p: p.relative_to(self.work / "outputs") for p in (self.work / "outputs").rglob("*") if p.is_file()}
        executed = self.work / "executed"
        notebooks = ROOT / "notebooks" if self.profile != "ci" else ROOT / "notebooks" / "executed" / "ci"
        for path in executed.glob("[0-9]*.ipynb"):
            files[path] = (notebooks / path.name).relative_to(ROOT)
        for path in self.logs.glob("*.log"):
            files[path] = Path("cache") / "gpukit-home" / "logs" / path.name
        too_large = [str(files[p]) for p in files if p.stat().st_size > PACK_LIMIT - 10240]
        if too_large:
            raise SystemExit(f"{too_large} cannot come back (over 16 MiB each): make them smaller")
        parts: list[list[Path]] = [[]]
        for path in sorted(files):
            if parts[-1] and sum(p.stat().st_size + 1024 for p in parts[-1]) + path.stat().st_size > PACK_LIMIT - 10240:
                parts.append([])
            parts[-1].append(path)
        for number, part in enumerate(parts, start=1):
            tmp = self.outbox / f".results-{number}.tar"
            with tarfile.open(tmp, "w") as tar:
                for path in part:
                    tar.add(path, arcname=str(files[path]))
            tmp.replace(self.outbox / f"results-{number}.tar")
        return "done"

    # ------------------------------------------------------------ one call

    def send(self, out: Path) -> list[str]:
        """Move what is ready into ``out``: small files first, then results, then stylised packs."""

        def rank(path: Path) -> tuple:
            return (path.name.startswith("stylized-"), path.name.startswith("results-"), path.name)

        sent, total = [], 0
        for path in sorted((p for p in self.outbox.iterdir() if not p.name.startswith(".")), key=rank):
            size = path.stat().st_size
            if len(sent) == FILES_PER_CALL - 1 or total + size > BYTES_PER_CALL:
                break
            shutil.move(path, out / path.name)
            sent.append(path.name)
            total += size
        self.state["sent"] += sent
        return sent

    def lacking(self, step: str) -> str | None:
        """What a step needs that this machine lacks (the carry that brings it), or None."""
        import importlib.util

        modules = ("zarr", "PIL", "torch") + (
            ("papermill", "ipykernel", "bioimage_cpp", "elf") if step in CHAPTERS else ()
        )
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        bundle = "chapters" if step in CHAPTERS else "style"
        return f"modules {missing}: carry .gpu/{bundle} in this call" if missing else None

    def pending(self) -> list[str]:
        """Steps neither finished nor failed."""
        return [s for s in STEPS if self.state["steps"][s]["status"] not in ("done", "failed")]

    def attempt(self, step: str) -> str:
        """Run one step; a failure is recorded with the end of its log (or its error), never retried by itself."""
        if step in NEEDS_STYLIZED and self.state["steps"]["stylize"]["status"] != "done":
            self.state["failures"][step] = "the stylisation failed: nothing to work on"
            return "failed"
        try:
            outcome = self.chapter(step) if step in CHAPTERS else getattr(self, step)()
        except Exception as error:  # any error: recorded for the person who reads the status
            self.state["failures"][step] = f"{type(error).__name__}: {error}"
            return "failed"
        if outcome == "failed":
            log = self.logs / f"{step}.log"
            self.state["failures"][step] = log.read_text()[-2000:] if log.exists() else "no log"
        return outcome

    def run(self, out: Path, skip: list[str], max_steps: int | None = None, retry: list[str] = ()) -> dict:
        """Do what fits in this call (at most ``max_steps`` steps), send what is ready, and say what comes next."""
        self.state.setdefault("failures", {})
        out.mkdir(parents=True, exist_ok=True)
        for step in skip:
            self.state["steps"][step]["status"] = "done"
        for step in retry:
            self.state["steps"][step]["status"] = "todo"
            self.state["failures"].pop(step, None)
        self.stage()
        for number, step in enumerate(self.pending()):
            if self.left() < MIN_START_S.get(step, self.min_step) or number == max_steps:
                break
            lacking = self.lacking(step)
            if lacking:
                self.state["lacking"] = lacking
                print(f"[gpu_kit] {step} cannot start: {lacking}", flush=True)
                break
            self.state["lacking"] = None
            entry = self.state["steps"][step]
            entry["tries"] += 1
            started = time.monotonic()
            print(f"[gpu_kit] {step} (try {entry['tries']}, {self.left():.0f} s left) ...", flush=True)
            entry["status"] = self.attempt(step)
            entry["seconds"] = round(entry["seconds"] + time.monotonic() - started, 1)
            print(f"[gpu_kit] {step}: {entry['status']} ({entry['seconds']} s in all)", flush=True)
            self.save()
            if entry["status"] == "interrupted":
                break
        sent = self.send(out)
        waiting = sorted(p.name for p in self.outbox.iterdir() if not p.name.startswith("."))
        status = {
            **self.state,
            "new_machine": self.new,
            "sent_now": sent,
            "waiting": waiting,
            "pending": self.pending(),
        }
        (out / "kit-status.json").write_text(json.dumps(status, indent=1))
        self.save()
        return status


def next_step(status: dict, profile: str) -> str:
    """What to run after this call, for people."""
    here = "here: .venv/bin/python benchmarks/gpu_kit.py unpack <files_at>"
    failed = sorted(status.get("failures", {}))
    if failed:
        here += (
            f"; FAILED {failed} (their log ends are in kit-status.json 'failures'): fix them here, then add "
            f"`--retry {' '.join(failed)}` to the next run"
        )
    if not status["pending"] and not status["waiting"]:
        return f"NEXT: {here} -- then the kit is finished (nothing left to do or send on the device)"
    if status.get("lacking"):
        carry = status["lacking"].split("carry ")[1].split(" ")[0]
    elif status["new_machine"] and any(step in CHAPTERS for step in status["pending"]):
        carry = ".gpu/chapters"  # the first call on a machine staged .gpu/style; the chapters need the other one
    else:
        carry = None
    return (
        f"NEXT: {here}; then, within 30 s of this call's end (the machine stays warm only that long), device run "
        f"`python3 benchmarks/gpu_kit.py run --profile {profile}`, timeout_s 600, carry "
        f"{json.dumps([carry] if carry else [])}. Pending steps: {status['pending']}; files waiting: "
        f"{len(status['waiting'])}"
    )
