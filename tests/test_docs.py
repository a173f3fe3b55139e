"""The docs' own guarantees, checked without building the site.

The full build (``sphinx-build -W --keep-going -b html docs docs/_build/html``)
runs the gallery; these tests only cover what it promises about its inputs, and
run every python code block of the README and the quick start on its own.
"""

import ast
import importlib.util
import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest
import torch

import skmixup

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_api_reference_lists_every_public_name():
    text = (DOCS / "api.rst").read_text()
    listed = {line.strip() for line in text.splitlines()}
    listed |= set(re.findall(r"\.\. py:data:: (\S+)", text))
    assert [name for name in skmixup.__all__ if name not in listed] == []


@pytest.fixture
def docs_helpers(tmp_path, monkeypatch):
    pytest.importorskip("sphinx")
    spec = importlib.util.spec_from_file_location(
        "skmixup_docs", DOCS / "sphinxext" / "skmixup_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(module, "REPO", tmp_path)
    monkeypatch.setattr(module, "GENERATED", tmp_path / "generated")
    return module


def _results_file(folder: Path) -> None:
    folder.mkdir(parents=True)
    head = {
        "kind": "header",
        "command": ["skmixup-bench", "--suite", "tiny"],
        "suite": {
            "name": "tiny",
            "description": "a tiny suite",
            "methods": ["erm", "mixup-0.4"],
        },
        "context": {"seed": 0},
        "versions": {"skmixup": skmixup.__version__},
    }
    rows = [
        {
            "kind": "run",
            "key": f"sklearn:iris|{method}|{repeat}",
            "dataset": "iris",
            "task": "classification",
            "method": method,
            "repeat": repeat,
            "alpha": alpha,
            "error": error,
            "log_loss": 0.2,
            "ece": 0.05,
            "fit_seconds": 1.0,
            "predict_seconds": 0.01,
        }
        for method, alpha, errors in [
            ("erm", 0.0, (0.1, 0.2)),
            ("mixup-0.4", 0.4, (0.05, 0.15)),
        ]
        for repeat, error in enumerate(errors)
    ]
    lines = [json.dumps(r) for r in [head, *rows]]
    # A run still writing leaves a partial last line: it must be ignored.
    (folder / "results.jsonl").write_text("\n".join(lines) + '\n{"kind": "ru')


def test_benchmark_page_without_results_says_so(docs_helpers):
    docs_helpers.write_benchmark_pages(None)
    index = (docs_helpers.GENERATED / "benchmark_index.rst").read_text()
    assert "No benchmark results are committed yet" in index


def test_benchmark_pages_follow_the_results_files(docs_helpers):
    pytest.importorskip("pandas")
    _results_file(docs_helpers.RESULTS / "tiny")
    docs_helpers.write_benchmark_pages(None)
    page = (docs_helpers.GENERATED / "bench" / "tiny.md").read_text()
    # Mean ± std of the test error in %, as the benchmark's report writes it.
    assert "| iris | 15.0 ± 7.1 | 10.0 ± 7.1 | 2 |" in page
    # The "When does mixup help?" page reads only the suites it answers from.
    when = (docs_helpers.GENERATED / "when_mixup_helps.md").read_text()
    assert "No results yet" in when
    _results_file(docs_helpers.RESULTS / "paper")
    docs_helpers.write_benchmark_pages(None)
    when = (docs_helpers.GENERATED / "when_mixup_helps.md").read_text()
    assert "| iris | 2 | 15.0 | `mixup-0.4` | 10.0 |" in when
    assert "no revision recorded" in when
    shutil.rmtree(docs_helpers.RESULTS / "paper")

    # A folder removed later takes its page with it.
    for path in (docs_helpers.RESULTS / "tiny").iterdir():
        path.unlink()
    (docs_helpers.RESULTS / "tiny").rmdir()
    docs_helpers.write_benchmark_pages(None)
    assert not (docs_helpers.GENERATED / "bench" / "tiny.md").exists()


def test_hand_written_markdown_is_made_safe_to_include(docs_helpers):
    results = docs_helpers.RESULTS
    (results / "paper").mkdir(parents=True)
    (results / "paper" / "plot.png").write_bytes(b"\x89PNG fake")
    (results / "README.md").write_text(
        "# Side by side\n\n### Skipped a level\n\n"
        "See [the paper suite](paper/results.md), ![plot](paper/plot.png) and "
        "[the paper](https://arxiv.org/abs/1710.09412).\n"
    )
    docs_helpers.write_benchmark_pages(None)
    page = (docs_helpers.GENERATED / "bench" / "overview.md").read_text()
    assert page.startswith("# Side by side\n\n## Skipped a level\n")
    assert "the paper suite (`results/paper/results.md`)" in page
    assert "![plot](overview/plot.png)" in page
    assert "(https://arxiv.org/abs/1710.09412)" in page
    assert (docs_helpers.GENERATED / "bench" / "overview" / "plot.png").exists()


REPO = DOCS.parent


def _readme_blocks(language: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    # Fences may be indented (a block inside a list item); strip that indent.
    fence = re.compile(
        rf"^([ \t]*)```{language}\n(.*?)^\1```[ \t]*$", re.MULTILINE | re.DOTALL
    )
    return [textwrap.dedent(body) for _, body in fence.findall(text)]


def _rst_python_blocks(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        indent = len(line) - len(line.lstrip())
        body = []
        for following in lines[i + 1 :]:
            stripped = following.strip()
            if stripped and len(following) - len(following.lstrip()) <= indent:
                break
            # Directive options (":linenos:", ...) are not code.
            if not body and stripped.startswith(":"):
                continue
            body.append(following)
        blocks.append(textwrap.dedent("\n".join(body)).strip("\n") + "\n")
    return blocks


DOC_BLOCKS = {
    f"README.md:block{i}": code
    for i, code in enumerate(_readme_blocks("python"), start=1)
} | {
    f"quick_start.rst:block{i}": code
    for i, code in enumerate(_rst_python_blocks(DOCS / "quick_start.rst"), start=1)
}


def test_doc_blocks_are_found():
    # A changed fence or directive spelling must not silently empty the test below.
    assert len(_readme_blocks("python")) >= 2
    assert len(_rst_python_blocks(DOCS / "quick_start.rst")) >= 4


@pytest.mark.parametrize("name", DOC_BLOCKS)
def test_doc_block_runs_on_its_own(name):
    # A fresh namespace per block: a block that leans on an earlier one's imports
    # or data fails here, as it would for a reader who copies only that block. A
    # block may seed torch's global generator; the fork gives it back unchanged.
    code = compile(DOC_BLOCKS[name], name, "exec")
    with torch.random.fork_rng(devices=[]):
        exec(code, {"__name__": "__main__"})


@pytest.mark.parametrize("name", DOC_BLOCKS)
def test_doc_block_output_is_reproducible(name):
    # What a block prints must be what a reader gets: every estimator and split
    # it builds takes a fixed random_state.
    unseeded = [
        ast.unparse(node)
        for node in ast.walk(ast.parse(DOC_BLOCKS[name]))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and (node.func.id.startswith("Mixup") or node.func.id == "train_test_split")
        and "random_state" not in {keyword.arg for keyword in node.keywords}
    ]
    assert unseeded == []


def test_readme_commands_are_what_ci_runs():
    ci = (REPO / ".ci" / "run").read_text()
    commands = [
        line.strip()
        for block in _readme_blocks("bash")
        for line in block.splitlines()
        if line.strip()
    ]
    # The test command (install, then pytest) verbatim; of the docs command,
    # the build (CI installs quietly). The GPU-only run is not CI's.
    tests = [c for c in commands if "pytest" in c and "pip install" in c]
    docs = [c.split("&&")[-1].strip() for c in commands if "sphinx-build" in c]
    assert tests and docs, "the README shows no test or docs command"
    assert [c for c in tests if c not in ci.splitlines()] == []
    assert [c for c in docs if c not in ci] == []


# A figure typed into a page goes stale: a speed ratio ("4.77x"), a percentage
# with decimals, a value with its spread, a timing or a size. Such numbers belong
# to generated includes (the results pages, the speed tables).
_TYPED_FIGURE = re.compile(
    r"\b\d+\.\d+\s?[x×](?![\w.])"
    r"|\b\d+\.\d+\s?%"
    r"|±\s?\d"
    r"|\b\d+(?:\.\d+)?\s?(?:ms|s|min|MB|GB)\b(?![\w-])"
)


def _hand_written_pages() -> dict[str, str]:
    pages = {"README.md": (REPO / "README.md").read_text()}
    pages |= {f"docs/{p.name}": p.read_text() for p in sorted(DOCS.glob("*.rst"))}
    pages["docs/README.md"] = (DOCS / "README.md").read_text()
    results = (REPO / "benchmarks" / "results" / "README.md").read_text()
    # The generated part is skmixup-bench summarize's.
    pages["benchmarks/results/README.md"] = results.split("<!-- BEGIN GENERATED")[0]
    return pages


def test_typed_figure_pattern_catches_what_it_should():
    typed = ["cost 4.77x one fit", "73.9 % error", "2.90 ± 0.15", "took 11 min", "9 MB"]
    fine = ["a 2x128 MLP", "mean ± standard deviation", "alpha=0.4", "10 repeats"]
    assert all(_TYPED_FIGURE.search(text) for text in typed)
    assert not any(_TYPED_FIGURE.search(text) for text in fine)


def test_no_result_is_typed_by_hand_into_readme_or_docs():
    found = [
        f"{name}:{number}: {match.group()!r}"
        for name, text in _hand_written_pages().items()
        for number, line in enumerate(text.splitlines(), start=1)
        for match in _TYPED_FIGURE.finditer(line)
    ]
    assert found == []
