"""Build-time helpers of the skmixup docs.

* :func:`write_benchmark_pages` turns every results folder under
  ``benchmarks/results/`` into a page, recomputing its tables from the committed
  ``results.jsonl`` with the benchmark's own report code, so the numbers on the site
  are the numbers in the files. Folders that appear later are picked up by the next
  build; with none, the page says so. It also writes the "When does mixup help?"
  page (:mod:`skmixup.bench.summarize`) and the speed tables
  (``benchmarks/render_speed.py``) that the guide and benchmark pages include.
* :class:`ExampleOrder` and :func:`reset_torch` configure sphinx-gallery.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
RESULTS = REPO / "benchmarks" / "results"
GENERATED = DOCS / "_generated"
# The speed tables' renderer, a script beside the benchmarks that wrote them.
RENDER_SPEED = REPO / "benchmarks" / "render_speed.py"

# Reading order of the gallery; examples not listed come after, by file name.
_EXAMPLE_ORDER = [
    "plot_decision_boundary.py",
    "plot_grid_search_alpha.py",
    "plot_regression.py",
    "plot_custom_module.py",
    "plot_gpu_and_dask.py",
]


class ExampleOrder:
    """sphinx-gallery ``within_subsection_order``: the order of ``_EXAMPLE_ORDER``."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        if filename in _EXAMPLE_ORDER:
            return (_EXAMPLE_ORDER.index(filename), filename)
        return (len(_EXAMPLE_ORDER), filename)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def reset_torch(gallery_conf, fname) -> None:
    """Run every example on one torch thread.

    The examples train tiny networks, for which extra threads only add overhead,
    and the docs build shares two cores with whatever else is running.
    """
    import torch

    torch.set_num_threads(1)


# -- benchmark pages ----------------------------------------------------------------


def _write(path: Path, text: str | bytes) -> None:
    """Write only on change, so Sphinx does not rebuild unchanged pages."""
    data = text.encode() if isinstance(text, str) else text
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _result_dirs() -> list[Path]:
    """Folders under ``benchmarks/results`` that hold any result file."""
    if not RESULTS.is_dir():
        return []
    kinds = ("*.jsonl", "*.csv", "*.md", "*.png")
    dirs = {p.parent for kind in kinds for p in RESULTS.rglob(kind)}
    return sorted(dirs)


def _read_jsonl(path: Path) -> list[dict]:
    """Complete records; a run still writing may leave a partial last line."""
    data = path.read_text()
    end = data.rfind("\n") + 1
    return [json.loads(line) for line in data[:end].splitlines() if line.strip()]


_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def _tidy(markdown: str, md_path: Path, out_dir: Path, slug: str, top: int) -> str:
    """A hand-written Markdown file, made safe to include in a generated page.

    Headings are renumbered so that the highest is level ``top`` and levels never
    skip (MyST warns otherwise). Relative links point into the repository, not the
    site: images are copied next to the page, other links become plain paths.
    """

    def link(m: re.Match) -> str:
        bang, text, target = m.groups()
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            return m.group(0)
        if target.startswith("#"):
            # In-page anchors: MyST would need heading anchors; keep the text.
            return text
        source = (md_path.parent / target).resolve()
        if bang and source.is_file():
            _write(out_dir / source.name, source.read_bytes())
            return f"![{text}]({slug}/{source.name})"
        try:
            shown = source.relative_to(REPO).as_posix()
        except ValueError:
            shown = target
        return f"{text} (`{shown}`)" if text else f"`{shown}`"

    out, fenced, levels = [], False, []
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"(#{1,6}) (.*)", line)
        if heading:
            level = len(heading.group(1))
            while levels and levels[-1] >= level:
                levels.pop()
            levels.append(level)
            line = "#" * min(6, top + len(levels) - 1) + " " + heading.group(2)
        elif not fenced:
            line = _LINK.sub(link, line)
        out.append(line)
    return "\n".join(out)


def _page(folder: Path, slug: str, out_dir: Path) -> tuple[str, dict | None]:
    """The markdown page of one results folder, and its summary for the guide."""
    rel = folder.relative_to(REPO).as_posix()
    lines: list[str] = []
    summary = None
    jsonl = sorted(folder.glob("*.jsonl"))
    committed_md = folder / "results.md"
    for path in jsonl:
        records = _read_jsonl(path)
        heads = [r for r in records if r.get("kind") == "header"]
        runs = [r for r in records if r.get("kind") == "run"]
        if not heads or not runs:
            lines += [
                f"# Results in `{rel}`",
                "",
                f"`{path.name}` has no finished runs yet.",
                "",
            ]
            continue
        from skmixup.bench import report

        # The command writes results.md with the header of its last invocation.
        text = report.markdown(runs, heads[-1])
        lines += [text, ""]
        if committed_md.exists() and path.name == "results.jsonl":
            if committed_md.read_text() == text:
                note = (
                    f"The tables above are recomputed from `{rel}/{path.name}` at "
                    f"build time and are identical to the committed "
                    f"`{rel}/results.md`."
                )
            else:
                note = (
                    f"The tables above are recomputed from `{rel}/{path.name}` at "
                    f"build time. The committed `{rel}/results.md` differs from "
                    "them (it was written by a run over part of the file, or "
                    "before its last rows); the JSONL file is the record."
                )
                logger.info("benchmarks: %s/results.md differs from its JSONL", rel)
        else:
            note = (
                f"The tables above are recomputed from `{rel}/{path.name}` at "
                "build time."
            )
        lines += ["## About these numbers", "", note, ""]
        summary = {"slug": slug, "head": heads[-1], "runs": runs}
    if not jsonl:
        # A folder of hand-made reports: the first Markdown file's title is the
        # page title, the rest nest under it.
        mds = sorted(folder.glob("*.md"))
        first = mds[0].read_text() if mds else ""
        top = 1
        if not first.startswith("# "):
            lines += [f"# Results in `{rel}`", ""]
            top = 2
        if mds:
            lines += [_tidy(first, mds[0], out_dir, slug, top), ""]
        for md in mds[1:]:
            lines += [_tidy(md.read_text(), md, out_dir, slug, 2), ""]
    for md in sorted(folder.glob("*.md")):
        if md.name == "results.md" or not jsonl:
            continue
        text = _tidy(md.read_text(), md, out_dir, slug, 3)
        lines += [f"## Notes: `{md.name}`", "", text, ""]
    for csv in sorted(folder.glob("*.csv")):
        _write(out_dir / csv.name, csv.read_bytes())
        lines += [
            f"## `{csv.name}`",
            "",
            "```{csv-table}",
            f":file: {slug}/{csv.name}",
            ":header-rows: 1",
            "```",
            "",
        ]
    pngs = sorted(folder.glob("*.png"))
    if pngs:
        lines += ["## Figures", ""]
        for png in pngs:
            _write(out_dir / png.name, png.read_bytes())
            lines += [f"![{png.stem}]({slug}/{png.name})", ""]
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    lines += ["## Files", "", f"Committed in `{rel}/`: " + ", ".join(files) + "."]
    return "\n".join(lines) + "\n", summary


# Licences of the UCI files, as UCI's dataset pages state them (checked through
# public projects quoting those pages); None where no licence could be found.
_LICENCES = {
    "arcene": None,
    "boston": None,
    "kin8nm": None,
    "naval": "CC BY 4.0 (UCI's page today; the 2014 archive's README had a "
    "non-commercial note)",
}


def _datasets_rst() -> str:
    """The UCI datasets ``skmixup-bench download`` fetches: source, DOI, licence,
    read from :mod:`skmixup.datasets`' registry."""
    from skmixup.datasets._registry import DATASETS

    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 14 12 42 32",
        "",
        "   * - name",
        "     - task",
        "     - dataset and DOI",
        "     - licence",
    ]
    for d in DATASETS.values():
        doi = f" (`doi:{d.doi} <https://doi.org/{d.doi}>`__)" if d.doi else ""
        licence = _LICENCES.get(d.name, "CC BY 4.0")
        lines += [
            f"   * - ``{d.name}``",
            f"     - {d.task}",
            f"     - {d.title}{doi}",
            f"     - {licence or 'unknown: none found'}",
        ]
    return "\n".join(lines) + "\n"


def _speed_pages() -> dict[str, str]:
    """The speed tables, rendered from the speed JSON files by
    ``benchmarks/render_speed.py``: all of them, and the alpha search's alone
    with its templated sentences (for the user guide)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("render_speed", RENDER_SPEED)
    render_speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render_speed)
    # Headings from H1 up, as MyST wants them in an included file.
    tables = re.sub(r"^### ", "# ", render_speed.render(RESULTS), flags=re.MULTILINE)
    pages = {"speed_tables.md": tables}
    cv = RESULTS / "speed" / "speed_cv.json"
    if cv.exists():
        data = json.loads(cv.read_text())
        lines = render_speed.speed_cv(data)[2:]  # the page gives its own heading
        lines += ["", *render_speed.speed_cv_sentences(data)]
    else:
        lines = ["No `benchmarks/results/speed/speed_cv.json` is committed yet."]
    pages["speed_cv.md"] = "\n".join(lines) + "\n"
    return pages


def write_benchmark_pages(app) -> None:
    """Regenerate ``docs/_generated`` from ``benchmarks/results``."""
    bench_dir = GENERATED / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    wanted: set[Path] = set()
    entries = []
    for folder in _result_dirs():
        rel = folder.relative_to(RESULTS)
        slug = "overview" if rel == Path(".") else "-".join(rel.parts)
        out_dir = bench_dir / slug
        out_dir.mkdir(parents=True, exist_ok=True)
        text, summary = _page(folder, slug, out_dir)
        _write(bench_dir / f"{slug}.md", text)
        wanted |= {bench_dir / f"{slug}.md", out_dir}
        wanted |= set(out_dir.iterdir())
        if summary is not None:
            suite = summary["head"]["suite"]
            datasets = sorted({r["dataset"] for r in summary["runs"]})
            about = (
                f"{suite['description']}. {len(summary['runs'])} runs on "
                f"{len(datasets)} datasets: {', '.join(datasets)}."
            )
        else:
            titles = [
                md.read_text().partition("\n")[0].lstrip("# ").strip()
                for md in sorted(folder.glob("*.md"))
            ]
            about = (titles[0] + "; " if titles and titles[0] else "") + (
                f"files in ``{folder.relative_to(REPO).as_posix()}``."
            )
        entries.append((slug, about))
    # Drop pages of folders that are gone, so no stale numbers are published.
    for path in sorted(bench_dir.rglob("*"), reverse=True):
        if path not in wanted:
            path.unlink() if path.is_file() else path.rmdir()

    if entries:
        index = [
            "The committed results, one page per results folder:",
            "",
            *(
                f"* :doc:`{slug} </_generated/bench/{slug}>`: {about}"
                for slug, about in entries
            ),
            "",
            ".. toctree::",
            "   :hidden:",
            "",
            *(f"   /_generated/bench/{slug}" for slug, _ in entries),
        ]
    else:
        index = [
            ".. note::",
            "",
            "   No benchmark results are committed yet. When result files appear",
            "   under ``benchmarks/results/`` (one folder per suite), the next docs",
            "   build turns each folder into a page here.",
        ]
    _write(GENERATED / "benchmark_index.rst", "\n".join(index) + "\n")
    from skmixup.bench import summarize

    # "When does mixup help?": computed from the suites' results files.
    _write(
        GENERATED / "when_mixup_helps.md",
        # MyST numbers an included file's headings from H1 up, nested under
        # the including page's current section.
        summarize.page(RESULTS, REPO, level=0, title=False),
    )
    for name, text in _speed_pages().items():
        _write(GENERATED / name, text)
    _write(GENERATED / "datasets.rst", _datasets_rst())
    logger.info("benchmarks: %d results folder(s) rendered", len(entries))


def check_api_coverage(app) -> None:
    """Warn (an error under ``-W``) for a public name missing from ``api.rst``."""
    import skmixup

    text = (DOCS / "api.rst").read_text()
    listed = {line.strip() for line in text.splitlines()}
    listed |= set(re.findall(r"\.\. py:data:: (\S+)", text))
    missing = [name for name in skmixup.__all__ if name not in listed]
    if missing:
        logger.warning(
            "api.rst does not list these names of skmixup.__all__: %s",
            ", ".join(missing),
        )


_SKLEARN_ROLE = re.compile(r":(?:ref|term):`(?:([^`<]*?)\s*<[^>]*>|([^`]*))`")


def unlink_sklearn_refs(app, what, name, obj, options, lines) -> None:
    """Plain text for ``:ref:``/``:term:`` in docstrings inherited from sklearn.

    Those roles point into scikit-learn's own docs (its user guide, glossary),
    which an offline build without intersphinx cannot reach.
    """
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn"):
        return
    for i, line in enumerate(lines):
        lines[i] = _SKLEARN_ROLE.sub(lambda m: m.group(1) or m.group(2), line)
