"""Sphinx configuration of skdl's documentation.

Build the site (the gallery runs every ``examples/plot_*.py``)::

    sphinx-build -W -b html docs docs/_build/html

Run the user guide's doctests (the gallery is not executed for this builder)::

    sphinx-build -b doctest docs docs/_build/doctest
"""

import doctest
import os
import subprocess
import sys
import warnings
from pathlib import Path

# Quiet TensorFlow before anything imports it (autodoc imports skdl, which imports Keras).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# oneDNN's start-up notice is printed by absl whatever TF_CPP_MIN_LOG_LEVEL says.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
GENERATED = Path(__file__).resolve().parent / "_generated"  # drawn at build time, git-ignored
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # _gallery_order
sys.path.insert(0, str(BENCHMARKS))  # the reports' reader and table writer

import _common as benchmark_reports  # noqa: E402
import report_table  # noqa: E402
import skdl  # noqa: E402
from sphinx.util.docutils import SphinxDirective  # noqa: E402

# Examples and doctests train for a handful of epochs on purpose.
warnings.filterwarnings("ignore", message=".*Maximum iterations.*")

# -- Project -----------------------------------------------------------------
project = "skdl"
author = "the skdl developers"
copyright = "%Y, the skdl developers"  # Sphinx puts the build's year (SOURCE_DATE_EPOCH's if set)
release = skdl.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
exclude_patterns = ["_build", "_generated", "_gallery_order.py", "Thumbs.db", ".DS_Store",
                    "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

autodoc_default_options = {"member-order": "alphabetical"}
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- Doctests ----------------------------------------------------------------
doctest_global_setup = """
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import warnings
warnings.filterwarnings("ignore", message=".*Maximum iterations.*")
import numpy as np
"""
doctest_default_flags = (doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
                         | doctest.DONT_ACCEPT_TRUE_FOR_1)

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skdl {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sg_download_links", "sg_launcher_links"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "changelog": [], "benchmarks": []}
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["custom.css"]

# -- Gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "_gallery_order.GuideOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "matplotlib_animations": False,
    "doc_module": ("skdl",),
    "backreferences_dir": "api/backrefs",
    "min_reported_time": 0,
    "abort_on_example_error": True,
}


def _no_gallery_for_doctest(app):
    """The doctest builder checks the guide, not the gallery: don't run the examples."""
    if app.builder.name == "doctest":
        app.config.plot_gallery = "False"


# -- Benchmarks page ---------------------------------------------------------
class BenchmarkReport(SphinxDirective):
    """``.. benchmark-report:: NAME.json``: a report of ``benchmarks/reports/`` as a table."""

    required_arguments = 1

    def run(self):
        path = BENCHMARKS / "reports" / self.arguments[0]
        self.env.note_dependency(str(path))
        report = benchmark_reports.load_report(path)
        return self.parse_text_to_nodes("\n".join(report_table.report_rst(report)))


def _draw_benchmark_ratios(app):
    """Run ``benchmarks/plot_ratios.py``, so the page's figure is drawn from the committed reports."""
    GENERATED.mkdir(exist_ok=True)
    command = [sys.executable, str(BENCHMARKS / "plot_ratios.py"), "--out", str(GENERATED / "benchmark_ratios.png")]
    drawn = subprocess.run(command, capture_output=True, text=True)
    if drawn.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{drawn.stderr}")


def setup(app):
    app.connect("builder-inited", _no_gallery_for_doctest, priority=5)
    app.connect("builder-inited", _draw_benchmark_ratios)
    app.add_directive("benchmark-report", BenchmarkReport)
