"""``skmixup-bench download``: fetch a suite's UCI files into the data home."""

from __future__ import annotations

import argparse
import sys

from ..datasets import DownloadError, fetch_uci_files, get_data_home
from . import datasets
from .suites import SUITES

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``download`` subcommand to ``skmixup-bench``'s parser."""
    parser = subparsers.add_parser(
        "download",
        help="download the UCI files a suite needs into the data home",
        description="Download the files of the uci:NAME datasets of a suite from "
        "public copies at pinned commits, check each file's sha256, and keep them "
        "in the data home ($SKMIXUP_DATA, else ~/skmixup_data). Files already "
        "there are not downloaded again. Runs without --data-dir read the same data "
        "home.",
    )
    parser.add_argument(
        "--suite",
        choices=list(SUITES),
        help="download every UCI dataset of this suite (e.g. paper, uci-regression)",
    )
    parser.add_argument(
        "--datasets",
        type=lambda text: [p.strip() for p in text.split(",") if p.strip()],
        help="comma-separated dataset names instead (e.g. iris,yacht)",
    )
    parser.add_argument(
        "--mirror",
        help="base URL of a mirror holding the files at the same paths as "
        "https://raw.githubusercontent.com (default: $SKMIXUP_DATA_MIRROR, else "
        "that site)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no chatter")
    return parser


def run(args: argparse.Namespace) -> int:
    """Download what ``args`` asks for; 0 if all is there, 1 if a download failed."""

    def say(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr)

    if (args.suite is None) == (args.datasets is None):
        print(
            "skmixup-bench download: error: give either --suite or --datasets",
            file=sys.stderr,
        )
        return 2
    preferred = () if args.suite is None else SUITES[args.suite].datasets
    try:
        specs = [datasets.resolve(n, preferred) for n in (args.datasets or preferred)]
    except datasets.DatasetError as exc:
        print(f"skmixup-bench download: error: {exc}", file=sys.stderr)
        return 2
    names = [s.split(":", 1)[1] for s in specs if s.startswith("uci:")]
    others = [s for s in specs if not s.startswith("uci:")]
    if others:
        say(
            f"nothing to download for {', '.join(others)}: scikit-learn's and "
            "synthetic sets are bundled, OpenML's are fetched by the run itself"
        )
    home = get_data_home()
    for name in names:
        try:
            fetch_uci_files(name, download_if_missing=False)
            say(f"uci:{name}: already in {home}")
            continue
        except FileNotFoundError:
            pass
        say(f"uci:{name}: downloading into {home}")
        try:
            fetch_uci_files(name, base_url=args.mirror)
        except DownloadError as exc:
            print(f"skmixup-bench download: error: {exc}", file=sys.stderr)
            return 1
    if names:
        say(f"{len(names)} dataset(s) ready in {home}")
    return 0
