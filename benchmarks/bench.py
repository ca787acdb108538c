"""Benchmark: how msp-audit scales with the number of case files.

Builds a corpus with ``msp-audit samples`` (every layout) at 1,000 and 5,000 files,
measures the floor (reading every input and inflating every zip member once, in
one process), then times ``msp-audit score`` with and without per-case workbooks,
and prints ms per file, the ratio to the floor, peak memory and the per-file cost
at both sizes. At the smallest size it also times a one-file run and one-process
(``--jobs 1``) runs, and prints the bound they set on any number of workers: the fixed
cost plus the one-process work shared perfectly over the cores. Last, ``msp-audit --help``
against a bare two-command Typer app.

Run: python benchmarks/bench.py [--sizes 1000 5000] [--jobs N] [--keep DIR] [--repeat R]
     [--help-repeat R] [--no-bound]
Figures are printed, not asserted: targets are checked by reading them.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

TARGETS = {
    "per_case_ratio": 6.0,
    "no_per_case_ratio": 2.5,
    "peak_mb": 250.0,
    "growth": 1.25,
    "help_ratio": 1.3,
}


def build_corpus(folder: Path, count: int) -> float:
    from audit_cli.samples import generate_samples

    t = time.perf_counter()
    generate_samples(folder, count=count, seed=7)
    return time.perf_counter() - t


def floor(folder: Path) -> float:
    """Read every input and inflate every zip member once, in one process: the least any reader could do."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    t = time.perf_counter()
    for p in files:
        data = p.read_bytes()
        if data[:4] == b"PK\x03\x04":
            import io

            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for name in zf.namelist():
                    zf.read(name)
    return time.perf_counter() - t


def run_score(folder: Path, out: Path, per_case: bool, jobs: int | None) -> tuple[float, float, float]:
    """Wall time, CPU time (user + system, every process of the run) and peak RSS (MB, largest
    process of the run) of one ``score`` run in a fresh process."""
    cmd = [sys.executable, "-m", "audit_cli", "score", str(folder), "-o", str(out), "-q", "--exit-zero"]
    if not per_case:
        cmd.append("--no-per-case")
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    script = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "dt = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(dt, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024, r.returncode)\n"
    )
    shutil.rmtree(out, ignore_errors=True)
    res = subprocess.run([sys.executable, "-c", script, *cmd], capture_output=True, text=True, check=True)
    dt, cpu, peak, rc = res.stdout.split()
    if int(rc) not in (0, 1):
        raise SystemExit(f"score failed with exit code {rc}: {res.stderr[-500:]}")
    return float(dt), float(cpu), float(peak)


def one_file_folder(folder: Path, base: Path) -> Path:
    """A folder holding the corpus's first file alone: a run over it costs what every run costs
    whatever its size (start-up, the template, writing the outputs)."""
    one = base / "corpus-one-file"
    shutil.rmtree(one, ignore_errors=True)
    one.mkdir(parents=True)
    first = min(p for p in folder.rglob("*") if p.is_file())
    shutil.copyfile(first, one / first.name)
    return one


def print_bounds(bounds: dict[str, list[tuple[float, float, float]]], cores: int, size: int) -> None:
    """The best wall time this design could reach on ``cores`` cores: the fixed cost of a run,
    plus the rest of a one-process (``--jobs 1``) run shared perfectly over the cores, with no
    serial tail and no slowdown of busy cores. A target below it cannot be met by better
    parallelism alone: only by less work per file."""
    print(f"\none-process runs at {size} files, and the bound on {cores} core(s): fixed + (one-process - fixed) / {cores}")
    print(f"{'mode':<12} {'fixed s':>8} {'1-process s':>12} {'bound s':>8} {'bound x floor':>14} {'target':>7}")
    for label, got in bounds.items():
        fixed = statistics.median(r[0] for r in got)
        serial = statistics.median(r[1] for r in got)
        ratio = statistics.median((r[0] + (r[1] - r[0]) / cores) / r[2] for r in got)
        bound = fixed + (serial - fixed) / cores
        target = TARGETS["per_case_ratio" if label == "per-case" else "no_per_case_ratio"]
        print(f"{label:<12} {fixed:>8.2f} {serial:>12.2f} {bound:>8.2f} {ratio:>14.2f} {target:>7.1f}")


def compile_package() -> str:
    """Compile the bytecode of the ``audit_cli`` the timed runs import (found the way they find
    it, from this folder), as ``pip install`` does for a regular install. Without it, a source
    checkout under PYTHONDONTWRITEBYTECODE compiles every module again in every run, which no
    installed copy does: about 0.2 s a run here. Returns the line to print about it."""
    where = subprocess.run(
        [sys.executable, "-c", "import audit_cli, os; print(os.path.dirname(audit_cli.__file__))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    if not compileall.compile_dir(where, quiet=1):
        return f"could not compile the bytecode of {where} (read-only?): each run may compile it again"
    note = " (PYTHONDONTWRITEBYTECODE is set here)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
    return f"bytecode compiled for {where}, as an install does{note}"


def help_times(repeats: int = 15) -> tuple[float, float]:
    bare = Path(tempfile.mkdtemp()) / "bare.py"
    bare.write_text(
        "import typer\napp = typer.Typer()\n@app.command()\ndef a() -> None:\n    pass\n"
        "@app.command()\ndef b() -> None:\n    pass\napp()\n",
        encoding="utf-8",
    )

    def median(cmd: list[str]) -> float:
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    return median([sys.executable, "-m", "audit_cli", "--help"]), median([sys.executable, str(bare), "--help"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--jobs", type=int, default=None, help="passed to score (default: its own default)")
    ap.add_argument("--keep", type=Path, default=None, help="build corpora here and keep them")
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds per size, each a floor and both runs; medians are printed (default 3)")
    ap.add_argument("--help-repeat", type=int, default=15, help="runs of each --help, median taken (default 15)")
    ap.add_argument("--no-bound", action="store_true",
                    help="skip the one-process runs that bound what perfect parallelism could reach")
    args = ap.parse_args()

    base = args.keep or Path(tempfile.mkdtemp(prefix="msp-bench-"))
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; corpus in {base}; "
          f"{args.repeat} round(s) per size")
    print(compile_package())
    per_file: dict[str, dict[int, float]] = {"per-case": {}, "no-per-case": {}}
    bounds: dict[str, list[tuple[float, float, float]]] = {"per-case": [], "no-per-case": []}
    peaks: list[float] = []
    rows = []
    for n in args.sizes:
        folder = base / f"corpus-{n}"
        if not folder.exists():
            build_corpus(folder, n)
        files = sum(1 for p in folder.rglob("*") if p.is_file())
        # On a shared machine the load drifts: each round measures its own floor just before its
        # runs, and a run is judged against the floor of its round.
        rounds: dict[str, list[tuple[float, float, float, float, float]]] = {"per-case": [], "no-per-case": []}
        bounding = n == min(args.sizes) and not args.no_bound
        one = one_file_folder(folder, base) if bounding else None
        for _ in range(args.repeat):
            fl = min(floor(folder) for _ in range(2))
            for label, per_case in (("per-case", True), ("no-per-case", False)):
                dt, cpu, peak = run_score(folder, base / f"out-{n}-{label}", per_case, args.jobs)
                rounds[label].append((dt, cpu, fl, dt / fl, peak))
                peaks.append(peak)
                if one is not None:
                    fixed = run_score(one, base / f"out-one-{label}", per_case, 1)[0]
                    serial = run_score(folder, base / f"out-{n}-{label}-serial", per_case, 1)[0]
                    bounds[label].append((fixed, serial, fl))
        for label, got in rounds.items():
            dt = statistics.median(r[0] for r in got)
            cpu = statistics.median(r[1] for r in got)
            fl = statistics.median(r[2] for r in got)
            ratios = [r[3] for r in got]
            per_file[label][n] = dt / files
            rows.append((n, files, label, dt, cpu, 1000 * dt / files, 1000 * fl / files, statistics.median(ratios),
                         min(ratios), max(ratios), max(r[4] for r in got)))
    print(f"\n{'size':>6} {'files':>6} {'mode':<12} {'total s':>8} {'cpu s':>7} {'ms/file':>8} {'floor ms/file':>14}"
          f" {'x floor':>8} {'range':>12} {'peak MB':>8}")
    for n, files, label, dt, cpu, ms, fms, ratio, lo, hi, peak in rows:
        print(f"{n:>6} {files:>6} {label:<12} {dt:>8.2f} {cpu:>7.2f} {ms:>8.2f} {fms:>14.3f} {ratio:>8.2f}"
              f" {f'{lo:.2f}-{hi:.2f}':>12} {peak:>8.1f}")
    print("(medians over the rounds; x floor is each run against its own round's floor, range its spread)")
    if bounds["per-case"]:
        # workers beyond the machine's cores add no capacity
        print_bounds(bounds, min(args.jobs or os.cpu_count() or 1, os.cpu_count() or 1), min(args.sizes))
    print()
    if len(args.sizes) >= 2:
        lo, hi = min(args.sizes), max(args.sizes)
        for label in per_file:
            growth = per_file[label][hi] / per_file[label][lo]
            print(f"per-file cost {label}: {hi} files / {lo} files = {growth:.2f} (target <= {TARGETS['growth']})")
    ours, bare = help_times(args.help_repeat)
    print(f"--help: msp-audit {1000 * ours:.0f} ms, bare Typer app {1000 * bare:.0f} ms, ratio {ours / bare:.2f} "
          f"(target <= {TARGETS['help_ratio']})")
    print(f"peak memory: {max(peaks):.1f} MB (target < {TARGETS['peak_mb']:.0f})")
    print(f"targets: per-case <= {TARGETS['per_case_ratio']}x floor, --no-per-case <= {TARGETS['no_per_case_ratio']}x floor")
    print(f"(ru_maxrss of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
