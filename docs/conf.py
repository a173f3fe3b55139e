"""Sphinx configuration of the skmixup documentation.

Builds offline: no intersphinx, no remote images, no binder/jupyterlite links.
Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
# The local helpers (benchmark page generator, gallery sort key) live beside this file.
sys.path.insert(0, str(DOCS / "sphinxext"))

import skmixup_docs  # noqa: E402

import skmixup  # noqa: E402

project = "skmixup"
author = "the skmixup developers"
copyright = "the skmixup developers"
version = release = skmixup.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "sphinxarg.ext",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "README.md",
    "sphinxext",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
    # Parts included into other pages, not pages of their own.
    "_generated/*.rst",
    "_generated/*.md",
]
default_role = "literal"
nitpicky = False

# -- autodoc / autosummary / numpydoc -------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections already give the types
autoclass_content = "class"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# No intersphinx (the build is offline): references to scikit-learn, skorch or
# PyTorch objects render as plain code, and nitpicky stays off so they do not warn.

# -- HTML ---------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skmixup {release}"
html_static_path = ["_static"]
html_css_files = ["skmixup.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_sidebars = {
    "index": [],
    "quick_start": [],
    "benchmarks": [],
    "_generated/bench/*": [],
}
html_show_sourcelink = True
html_last_updated_fmt = None

# -- matplotlib plot directive (user guide figures) -----------------------------------

plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.dpi": 100, "savefig.bbox": "tight"}

# -- sphinx-gallery -------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(REPO / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "skmixup_docs.ExampleOrder",
    "reset_modules": ("matplotlib", "skmixup_docs.reset_torch"),
    "doc_module": ("skmixup",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skmixup": None},
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_signature": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}


def setup(app):
    # The benchmark pages are regenerated from benchmarks/results/ on every build,
    # so the published numbers always match the committed result files.
    app.connect("builder-inited", skmixup_docs.write_benchmark_pages)
    app.connect("builder-inited", skmixup_docs.check_api_coverage)
    app.connect("autodoc-process-docstring", skmixup_docs.unlink_sklearn_refs)
