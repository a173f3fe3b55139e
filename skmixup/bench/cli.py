"""The ``skmixup-bench`` command: does mixup help on real tables, and by how much?"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import datasets, download, report, runner, summarize
from .suites import SUITES, Suite, check_method

__all__ = ["main"]

_RESULTS = "results.jsonl"


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``skmixup-bench``."""
    # A bullet list: plain text that is also reStructuredText, which the API
    # reference renders.
    suites = "\n".join(
        textwrap.fill(
            f"{s.name}: {s.description}",
            80,
            initial_indent="- ",
            subsequent_indent="  ",
            break_on_hyphens=False,
        )
        for s in SUITES.values()
    )
    parser = argparse.ArgumentParser(
        prog="skmixup-bench",
        # The epilog's lists keep their own line breaks.
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            "Benchmark mixup against plain training (ERM) and common baselines on "
            "tabular data. With no arguments, runs the offline default suite on "
            "scikit-learn's bundled datasets.",
            80,
        ),
        epilog=f"suites:\n\n{suites}\n\n{datasets.local_data_help()}",
    )
    parser.add_argument(
        "--suite",
        default="default",
        help=f"one of {', '.join(SUITES)}, or a suite config .json file (default: "
        "default)",
    )
    parser.add_argument(
        "--datasets",
        type=_csv,
        help="comma-separated dataset names or specs (sklearn:NAME, uci:NAME, "
        "openml:NAME_OR_ID, synthetic:classification); default: the suite's",
    )
    parser.add_argument(
        "--methods",
        type=_csv,
        help="comma-separated methods (erm, mixup-ALPHA, mixup-cv, sklearn-mlp, "
        "hgb, or a mixup variant such as knn, samplepairing, manifold, "
        "dropout-0.5, optionally VARIANT@ALPHA; see skmixup.bench.suites."
        "VARIANTS); default: the suite's",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder of the uci:NAME datasets' files: manifest.json, "
        "uci_classification/ and uci_regression/ (see 'local data' below)",
    )
    parser.add_argument(
        "--openml-cache", type=Path, help="openml cache folder (default: openml's own)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("skmixup-bench-results"),
        help="output folder (default: ./skmixup-bench-results)",
    )
    parser.add_argument("--repeats", type=int, help="splits/seeds per dataset")
    parser.add_argument("--max-epochs", type=int, help="cap on training epochs")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default: 0)")
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        help="parallel runs; -1 for one per CPU, -2 for all but one, as in "
        "joblib (default: 1)",
    )
    parser.add_argument(
        "--backend",
        choices=("joblib", "dask"),
        default="joblib",
        help="where runs execute: local joblib workers, or a Dask cluster (needs "
        "pip install 'skmixup[dask]') (default: joblib)",
    )
    parser.add_argument(
        "--scheduler",
        help="Dask scheduler address for --backend dask (default: a LocalCluster "
        "of --n-jobs workers)",
    )
    parser.add_argument(
        "--device", default="auto", help="torch device for skmixup (default: auto)"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--resume",
        action="store_true",
        help="skip runs already in the results file (to continue after Ctrl-C or a "
        "crash)",
    )
    group.add_argument(
        "--overwrite", action="store_true", help="discard an existing results file"
    )
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="run even if the skmixup source has uncommitted changes (the results "
        "header and report then say so)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or chatter"
    )
    parser.add_argument(
        "--list", action="store_true", help="list suites and datasets, then exit"
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="only rewrite the table and plots from the results file in --out",
    )
    # skmixup-bench download --suite paper: the UCI files, into the data home.
    # skmixup-bench summarize: the "When does mixup help?" page from the results.
    commands = parser.add_subparsers(dest="command", title="commands")
    download.add_parser(commands)
    summarize.add_parser(commands)
    return parser


def _load_suite(name: str) -> Suite:
    if name in SUITES:
        return SUITES[name]
    path = Path(name)
    if path.suffix != ".json" or not path.is_file():
        raise ValueError(
            f"--suite {name!r} is neither one of {list(SUITES)} nor a .json file"
        )
    try:
        return Suite.from_dict(json.loads(path.read_text()))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"--suite {name}: not a valid suite config ({exc})") from None


def _suite(args: argparse.Namespace) -> Suite:
    suite = _load_suite(args.suite)
    if args.max_epochs is not None:
        suite = suite.with_max_epochs(args.max_epochs)
    if args.repeats is not None:
        suite = suite.with_repeats(args.repeats)
    return suite.with_overrides(
        methods=None if args.methods is None else tuple(args.methods)
    )


def _check(args: argparse.Namespace, suite: Suite) -> str | None:
    for name in ("repeats", "max_epochs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            return f"--{name.replace('_', '-')} must be >= 1, got {value}"
    if args.n_jobs == 0:
        return "--n-jobs must be >= 1, or negative as in joblib (-1: one per CPU)"
    for method in suite.methods:
        try:
            check_method(method)
        except ValueError as exc:
            return str(exc)
    if args.data_dir is not None and not args.data_dir.is_dir():
        return f"--data-dir {args.data_dir} is not a folder"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``skmixup-bench``; return the exit status.

    0: every run finished; 1: some runs failed; 2: a usage or data error; 130:
    interrupted (Ctrl-C), with every finished run saved for ``--resume``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "download":
        return download.run(args)
    if args.command == "summarize":
        return summarize.run(args)
    say: Callable[..., None] = (
        (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    )
    if args.list:
        for suite in SUITES.values():
            print(f"suite {suite.name}: {suite.description}")
        print("datasets: " + ", ".join(datasets.choices()))
        return 0
    missing = _missing_extras()
    if missing:
        print(
            f"skmixup-bench: error: missing {', '.join(missing)}; install the "
            "benchmark extra: pip install 'skmixup[bench]'",
            file=sys.stderr,
        )
        return 2
    if args.report:
        return _report_only(args.out)
    command = ["skmixup-bench", *(sys.argv[1:] if argv is None else argv)]
    with _noting_ctrl_c() as ctrl_c:
        try:
            return _run(parser, args, command, say, ctrl_c)
        except KeyboardInterrupt:
            # A traceback from inside some estimator tells the user nothing;
            # what they need is what was kept and how to go on.
            print(_interrupted(args, command), file=sys.stderr)
            return 130


def _run(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    command: list[str],
    say: Callable[..., None],
    ctrl_c: _CtrlC,
) -> int:
    try:
        suite = _suite(args)
    except ValueError as exc:
        parser.print_usage(sys.stderr)
        print(f"skmixup-bench: error: {exc}", file=sys.stderr)
        return 2
    problem = _check(args, suite)
    if problem:
        parser.print_usage(sys.stderr)
        print(f"skmixup-bench: error: {problem}", file=sys.stderr)
        return 2
    if args.n_jobs < 0:  # joblib's count: -1 is every CPU, -2 all but one
        from joblib import cpu_count

        args.n_jobs = max(1, cpu_count() + 1 + args.n_jobs)
    ctx = runner.Context(
        seed=args.seed,
        data_dir=None if args.data_dir is None else str(args.data_dir.resolve()),
        openml_cache=None if args.openml_cache is None else str(args.openml_cache),
        device=args.device,
        # Small MLPs gain nothing from more threads, and spinning OpenMP threads
        # slow down badly when the cores are shared (other runs, other users).
        torch_threads=1,
    )
    try:
        names = args.datasets or list(suite.datasets)
        specs = [datasets.resolve(n, suite.datasets) for n in names]
        problem = _missing_openml(specs)
        if problem:
            print(f"skmixup-bench: error: {problem}", file=sys.stderr)
            return 2
        if args.datasets:
            suite = suite.with_overrides(datasets=tuple(specs))
        runs = runner.plan(suite, specs, ctx)
        skipped = runner.skipped(suite, specs, ctx)
    except datasets.DatasetError as exc:
        print(f"skmixup-bench: error: {exc}", file=sys.stderr)
        return 2

    head = runner.header(suite, ctx, command, specs) | {"skipped": skipped}
    if head["dirty"] and not args.allow_dirty:
        print(
            f"skmixup-bench: error: the skmixup source ({head['skmixup_source']}) "
            "has uncommitted changes, so the results could not be traced to a "
            "revision; commit them, or pass --allow-dirty to run anyway",
            file=sys.stderr,
        )
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(
            f"skmixup-bench: error: cannot create the output folder --out "
            f"{args.out}: {exc.strerror}; choose a folder you can write to",
            file=sys.stderr,
        )
        return 2
    results = runner.ResultsFile(args.out / _RESULTS)
    previous = results.read(repair=args.resume)
    if previous and not (args.resume or args.overwrite):
        print(
            f"skmixup-bench: error: {results.path} already has results; pass "
            "--resume to continue it or --overwrite to start over",
            file=sys.stderr,
        )
        return 2
    if args.overwrite:
        results.path.unlink(missing_ok=True)
        previous = []
        # Done: from here on, going on after Ctrl-C means resuming this file.
        args.overwrite = False
    first = next((r for r in previous if r.get("kind") == "header"), None)
    if first is not None and runner.fingerprint(first) != runner.fingerprint(head):
        print(
            f"skmixup-bench: error: {results.path} was written with another "
            "configuration (suite settings or --seed); resume it with the same "
            "options, or use another --out",
            file=sys.stderr,
        )
        return 2
    if first is not None:
        why = runner.changed_source(first.get("skmixup_source"), head["skmixup_source"])
        if why is not None:
            print(
                f"skmixup-bench: error: {results.path} holds runs of skmixup "
                f"{first.get('skmixup_source')}, and {why}, so the suite would mix "
                f"two versions of the code; resume it from a checkout of "
                f"{first.get('skmixup_source')}, or use another --out",
                file=sys.stderr,
            )
            return 2
    done = {r["key"] for r in previous if r.get("kind") == "run"}
    todo = [r for r in runs if r.key not in done]
    results.append(head)
    say(
        f"suite {suite.name}: {len(runs)} runs, {len(runs) - len(todo)} already "
        f"done; writing {results.path}"
    )
    failures = _execute(todo, suite, ctx, args, results, ctrl_c)

    rows = [r for r in results.read() if r.get("kind") == "run"]
    wanted = {r.key for r in runs}
    _write_report([r for r in rows if r["key"] in wanted], head, args.out, say)
    if failures:
        print(f"skmixup-bench: {failures} run(s) failed", file=sys.stderr)
        return 1
    return 0


@dataclass
class _CtrlC:
    seen: bool = False


@contextmanager
def _noting_ctrl_c() -> Iterator[_CtrlC]:
    """Note Ctrl-C even where an estimator swallows it; then the caller's handler.

    skorch's and scikit-learn's MLP fit loops catch KeyboardInterrupt and return
    the model trained so far: a run cut short so must not be saved as finished.
    """
    ctrl_c = _CtrlC()
    previous = signal.getsignal(signal.SIGINT)
    # Only the main thread may set a handler; a Ctrl-C ignored stays ignored, and
    # a handler not set from Python (None) could not be put back.
    if threading.current_thread() is not threading.main_thread() or previous in (
        signal.SIG_IGN,
        None,
    ):
        yield ctrl_c
        return

    def note(signum: int, frame: object) -> None:
        ctrl_c.seen = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    try:
        yield ctrl_c
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted(args: argparse.Namespace, command: list[str]) -> str:
    """The one line ``skmixup-bench`` prints on Ctrl-C: what is saved, how to go on."""
    path = args.out / _RESULTS
    if args.overwrite:  # stopped before the file was cleared
        return (
            f"skmixup-bench: interrupted before any run; {path} is as it was; to "
            f"start over: {shlex.join(command)}"
        )
    try:
        records = runner.ResultsFile(path).read()
    except (OSError, ValueError):
        saved = f"the finished runs are saved in {path}"
    else:
        n = sum(r.get("kind") == "run" for r in records)
        saved = f"{n} finished run{' is' if n == 1 else 's are'} saved in {path}"
    if not args.resume:
        # Any --overwrite is done by now, and --resume excludes it (argparse
        # also accepts it shortened down to --ov).
        command = [
            a for a in command if not (len(a) >= 4 and "--overwrite".startswith(a))
        ]
        command = [*command, "--resume"]
    return f"skmixup-bench: interrupted; {saved}; to continue: {shlex.join(command)}"


def _missing_openml(specs: list[str]) -> str | None:
    from importlib.util import find_spec

    wanted = [s for s in specs if s.startswith("openml:")]
    if wanted and find_spec("openml") is None:
        return (
            f"{', '.join(wanted)} need the openml package: "
            'pip install "skmixup[openml]"'
        )
    return None


def _missing_extras() -> list[str]:
    from importlib.util import find_spec

    return [name for name in ("tqdm", "matplotlib") if find_spec(name) is None]


def _write_report(
    rows: list[dict], head: dict, out: Path, say: Callable[..., None]
) -> None:
    if not rows:
        return
    text = report.markdown(rows, head)
    (out / "results.md").write_text(text)
    pngs = report.plots(rows, out, list(head["suite"]["methods"]))
    print(text)
    say(f"wrote {out / 'results.md'} and {', '.join(map(str, pngs))}")


def _report_only(out: Path) -> int:
    records = runner.ResultsFile(out / _RESULTS).read()
    heads = [r for r in records if r.get("kind") == "header"]
    if not heads:
        print(f"skmixup-bench: error: no results in {out / _RESULTS}", file=sys.stderr)
        return 2
    rows = [r for r in records if r.get("kind") == "run"]
    _write_report(rows, heads[-1], out, lambda *a: None)
    return 0


def _execute(
    todo: list[runner.Run],
    suite: Suite,
    ctx: runner.Context,
    args: argparse.Namespace,
    results: runner.ResultsFile,
    ctrl_c: _CtrlC,
) -> int:
    from tqdm.auto import tqdm

    failures = 0
    rows = runner.run_all(
        todo,
        suite,
        ctx,
        n_jobs=args.n_jobs,
        backend=args.backend,
        scheduler=args.scheduler,
    )
    with tqdm(total=len(todo), unit="run", disable=args.quiet) as bar:
        for row in rows:
            if ctrl_c.seen:
                # This row may come from a fit that Ctrl-C cut short.
                raise KeyboardInterrupt
            if row["kind"] == "error":
                failures += 1
                print(f"run {row['key']} failed: {row['error']}", file=sys.stderr)
            else:
                results.append(row)
            bar.update()
    return failures
