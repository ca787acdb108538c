"""The benchmark script runs end to end and prints every figure its targets are read from.

Its figures are not asserted (speed is checked by reading them, not by timed tests); this only
keeps the script from rotting as the command line and the outputs change."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def test_benchmark_prints_every_figure(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "9", "18", "--repeat", "1", "--help-repeat", "1",
         "--keep", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=BENCH.parent.parent,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    out = res.stdout
    number = r"\d+\.\d+"
    for size in (9, 18):
        for mode in ("per-case", "no-per-case"):
            # size, files, mode, total s, cpu s, ms/file, floor ms/file, x floor, range, peak MB
            row = rf"^\s+{size}\s+{size}\s+{mode}\s+" + r"\s+".join([number] * 5) + rf"\s+{number}-{number}\s+{number}$"
            assert re.search(row, out, re.M), (size, mode, out)
    for mode in ("per-case", "no-per-case"):  # the bound, at the smallest size only
        assert re.search(rf"^{mode}\s+" + r"\s+".join([number] * 5) + "$", out, re.M), (mode, out)
    assert re.search(rf"per-file cost per-case: 18 files / 9 files = {number}", out)
    assert re.search(rf"per-file cost no-per-case: 18 files / 9 files = {number}", out)
    assert re.search(rf"--help: msp-audit \d+ ms, bare Typer app \d+ ms, ratio {number}", out)
    assert re.search(rf"peak memory: {number} MB", out)
    # it scored the corpus it built: every run wrote its outputs
    assert (tmp_path / "out-18-per-case" / "results.json").is_file()
    assert any((tmp_path / "out-18-per-case" / "cases").iterdir())
    assert not (tmp_path / "out-18-no-per-case" / "cases").exists()
