"""How soon the command line answers, side by side with importing click alone.

    python3 bench/cli_startup.py [--runs 15] [--demo DIR] [--before TREE]

Runs `python3 -c "import click"`, `policywatch --help` and `policywatch history --limit 20` on the
demo's store (made with `policywatch demo --dir DIR` first when DIR has none), each as a new
process, in turn, RUNS times, and prints the median wall time and CPU (user + system) of each
and its ratio to importing click. Alternating the three keeps the machine's load alike for all.
`--before TREE` also runs the two policywatch commands of another copy of the project (another
version of the code, PYTHONPATH=TREE) in the same turns.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `argv` (which must succeed) in folder `cwd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--demo", type=Path, default=Path("/tmp/policywatch-cli-startup"))
    parser.add_argument("--before", type=Path, metavar="TREE",
                        help="another copy of the project whose commands run in the same turns")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    store = args.demo / "demo.sqlite"
    if not store.exists():
        subprocess.run([sys.executable, "-m", "policywatch", "demo", "--dir", str(args.demo)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    python = sys.executable
    policywatch = {
        "policywatch --help": [python, "-m", "policywatch", "--help"],
        "policywatch history --limit 20": [python, "-m", "policywatch", "--db", f"sqlite:///{store}",
                                           "history", "--limit", "20"],
    }
    Run = tuple[list[str], dict[str, str], Path | None]  # argv, environment, folder
    commands: dict[str, Run] = {'python3 -c "import click"': ([python, "-c", "import click"], env, None)}
    commands |= {name: (argv, env, None) for name, argv in policywatch.items()}
    if args.before:  # run in its folder: `python -m` reads the current folder first
        tree = args.before.resolve()
        before = env | {"PYTHONPATH": str(tree)}
        commands |= {f"{name} (before: {args.before})": (argv, before, tree)
                     for name, argv in policywatch.items()}
    for run in commands.values():  # warm the file cache and the bytecode
        timed(*run)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, run in commands.items():
            samples[name].append(timed(*run))
    base_wall = statistics.median(w for w, _ in samples['python3 -c "import click"'])
    base_cpu = statistics.median(c for _, c in samples['python3 -c "import click"'])
    print(f"{args.runs} runs each, alternating, medians; load average {os.getloadavg()[0]:.1f}\n")
    print("| command | wall ms | CPU ms | wall ratio | CPU ratio |")
    print("|---|---|---|---|---|")
    for name, pairs in samples.items():
        wall = statistics.median(w for w, _ in pairs)
        cpu = statistics.median(c for _, c in pairs)
        print(f"| `{name}` | {wall * 1000:.0f} | {cpu * 1000:.0f} | {wall / base_wall:.2f}× | "
              f"{cpu / base_cpu:.2f}× |")


if __name__ == "__main__":
    main()
