"""`make bench`: measured speed and memory, each against a baseline run alongside.

Each benchmark is a function registered with `@benchmark`; it gets a `Bench` (work
folder, cached demo databases, a way to run a measured child process) and returns a
`Section`: a title, a table of rows and notes. Results go to bench/results/latest.md
(git-ignored) and to standard output. Add a section by writing one more function.

Peak memory is the maximum resident set of a child process (os.wait4), because
tracemalloc does not see what SQLite, numpy or pandas allocate in C.

    python -m tests.bench                 # every section
    python -m tests.bench --only sync     # sections whose name contains "sync"
    python -m tests.bench --scale 2       # a smaller demo, for a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "latest.md"
CACHE = REPO / "var" / "bench"
SEED = 1


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"## {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "---|" * len(self.columns))
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in self.rows]
        return "\n".join(lines + [""] + [f"- {note}" for note in self.notes] + [""])


@dataclass
class Measured:
    seconds: float  # what the child timed itself (imports excluded)
    peak_mib: float  # the child's maximum resident set
    result: dict


class Bench:
    """Shared context: where to work, demo databases, measured child processes."""

    def __init__(self, scale: float):
        self.scale = scale
        CACHE.mkdir(parents=True, exist_ok=True)

    def demo(self, scale: float) -> Path:
        """Sources file of the 7 demo countries at `scale`, made once and cached."""
        folder = CACHE / f"demo-s{scale:g}-seed{SEED}"
        sources = folder / "sources.toml"
        stamp = folder / "stamp"
        version = _demo_version()
        if not (sources.exists() and stamp.exists() and stamp.read_text() == version):
            print(f"writing demo databases at scale {scale:g} (once)", flush=True)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "data_loaders",
                    "demo",
                    "--out",
                    str(folder),
                    "--scale",
                    str(scale),
                    "--seed",
                    str(SEED),
                ],
                check=True,
                cwd=REPO,
                stdout=subprocess.DEVNULL,
            )
            # a loaded machine must not turn a benchmark into a timeout
            text = sources.read_text(encoding="utf-8")
            sources.write_text(
                text.replace(
                    "synthetic = true", "synthetic = true\ntimeout_seconds = 600"
                ),
                encoding="utf-8",
            )
            stamp.write_text(version)
        return sources

    def measure(self, *argv: str) -> Measured:
        """Run `python -m tests.bench_child ARGV` alone; its time, peak RSS, result."""
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench_child", *argv],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"bench child {argv} failed ({process.returncode})")
        result = json.loads(output.strip().splitlines()[-1])
        return Measured(result.pop("seconds"), usage.ru_maxrss / 1024, result)


def _demo_version() -> str:
    """Demo databases are remade when the generator changes."""
    import hashlib

    return hashlib.sha256((REPO / "data_loaders" / "demo.py").read_bytes()).hexdigest()


BENCHMARKS: list[Callable[[Bench], Section]] = []


def benchmark(function: Callable[[Bench], Section]) -> Callable[[Bench], Section]:
    BENCHMARKS.append(function)
    return function


@benchmark
def sync_vs_pandas(bench: Bench) -> Section:
    """The loader's sync against reading child-level rows into pandas."""
    small, large = bench.demo(1), bench.demo(bench.scale)
    work = CACHE / "runs"
    work.mkdir(exist_ok=True)
    runs = {}
    for name, mode, sources in (
        ("sync, scale 1", "sync", small),
        ("sync", "sync", large),
        ("baseline: rows into pandas", "baseline", large),
        ("sync, aggregation only", "cells-sql", large),
        ("baseline, aggregation only", "cells-pandas", large),
    ):
        out = work / f"{mode}-{'small' if sources == small else 'large'}"
        runs[name] = bench.measure(mode, str(sources), str(out))
        print(f"  {name}: {runs[name].seconds:.2f} s", flush=True)
    _assert_same_cells(runs)
    section = Section(
        f"Sync of the 7 demo countries, scale {bench.scale:g}, against a pandas "
        "baseline",
        ["run", "contacts", "wall s", "peak RSS MiB", "time vs sync", "memory vs sync"],
    )
    for name, run in runs.items():
        reference = (
            runs["sync"]
            if "aggregation" not in name
            else runs["sync, aggregation only"]
        )
        section.rows.append(
            [
                name,
                f"{run.result['contacts']:,}",
                f"{run.seconds:.2f}",
                f"{run.peak_mib:.0f}",
                f"{run.seconds / reference.seconds:.1f}×",
                f"{run.peak_mib / reference.peak_mib:.2f}×",
            ]
        )
    speed = runs["baseline: rows into pandas"].seconds / runs["sync"].seconds
    aggregation = (
        runs["baseline, aggregation only"].seconds
        / runs["sync, aggregation only"].seconds
    )
    memory = runs["sync"].peak_mib / runs["sync, scale 1"].peak_mib
    section.notes += [
        f"sync is {speed:.1f}× faster than the baseline end to end (goal ≥ 10×); "
        f"{aggregation:.1f}× on the aggregation alone",
        f"sync peak memory at scale {bench.scale:g} is {memory:.2f}× that at scale 1 "
        "(goal ≤ 1.3×)",
        "both compute the same true cells (asserted, every country and cell) and "
        "store the same published cells; the baseline skips the data-quality "
        "counts, in its favour",
        "sync = `sync_all` as `python -m data_loaders sync` runs it (concurrent "
        "countries, protection, warehouse writes); the baseline swaps only the "
        "aggregation: SELECT every row, clean and group in pandas",
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}; other processes may share the cores",
    ]
    return section


def _assert_same_cells(runs: dict[str, Measured]) -> None:
    import pandas as pd

    def frame(name: str, key: str):
        return pd.read_pickle(runs[name].result[key]).reset_index(drop=True)

    pd.testing.assert_frame_equal(
        frame("sync, aggregation only", "cells"),
        frame("baseline, aggregation only", "cells"),
    )
    pd.testing.assert_frame_equal(
        frame("sync", "published"), frame("baseline: rows into pandas", "published")
    )


# Sections kept in modules of their own, each exporting SECTIONS (a list of functions
# taking a Bench and returning a Section).
SECTION_MODULES = ("tests.bench_protection", "tests.bench_pages")


def _other_sections() -> list[Callable[[Bench], Section]]:
    import importlib

    return [f for m in SECTION_MODULES for f in importlib.import_module(m).SECTIONS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--scale", type=float, default=10.0, help="demo scale")
    parser.add_argument("--only", help="run the sections whose name contains this")
    args = parser.parse_args(argv)
    bench = Bench(args.scale)
    sections = []
    for function in BENCHMARKS + _other_sections():
        if args.only and args.only not in function.__name__:
            continue
        print(f"{function.__name__} …", flush=True)
        sections.append(function(bench))
    text = "# Benchmarks\n\n" + "\n".join(s.markdown() for s in sections)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print()
    print(text)
    print(f"written to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
