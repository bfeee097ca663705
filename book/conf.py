"""Sphinx configuration of the book: the executed chapters as pages, never executed again.

``make book`` builds it (``sphinx -W``: a warning fails the build). Before Sphinx reads anything, this file

* copies the executed chapters (``$NSEM_BOOK_CHAPTERS``, default ``notebooks/``) into ``book/notebooks/``, which
  the start page's table of contents takes whole (every ``NN_name.ipynb``, a new chapter included); the folder has
  the repository's name for the chapters, so that a page's launch button opens ``notebooks/NN_name.ipynb``;
* writes ``book/_generated/``: the table of the runs behind these chapters (profile, device, date, commit, run
  time, from each chapter's run stamp) and the list of results files with the run that wrote each.

MathJax and the Jupyter widget manager are served from ``_static/`` (``book/_vendor/``, fetched from the npm
registry by ``make book``), so the book shows its maths and widgets with no network access.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from helpers.paths import RESULTS, ROOT
from tools.run_stamp import results_list, run_table

BOOK = Path(__file__).resolve().parent
CHAPTERS = (ROOT / os.environ.get("NSEM_BOOK_CHAPTERS", "notebooks")).resolve()  # relative to the repository
STAGED = BOOK / "notebooks"
GENERATED = BOOK / "_generated"
VENDOR = BOOK / "_vendor"


def stage_chapters(source: Path, target: Path) -> list[Path]:
    """Copy the executed chapters into the book's source folder, dropping chapters that are gone.

    Args:
        source: folder of executed ``NN_name.ipynb`` files.
        target: the book's chapter folder (recreated).

    Returns:
        The staged chapters, in order.

    Raises:
        FileNotFoundError: when ``source`` holds no chapter.
    """
    chapters = sorted(source.glob("[0-9A][0-9]_*.ipynb"))
    if not chapters:
        raise FileNotFoundError(f"no executed chapters (NN_name.ipynb) in {source}")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    return [Path(shutil.copy2(chapter, target / chapter.name)) for chapter in chapters]


staged = stage_chapters(CHAPTERS, STAGED)
GENERATED.mkdir(exist_ok=True)
source = CHAPTERS.relative_to(ROOT) if CHAPTERS.is_relative_to(ROOT) else CHAPTERS
(GENERATED / "runs.md").write_text(f"Chapters from `{source}/`:\n\n{run_table(staged)}\n")
(GENERATED / "results.md").write_text(results_list(RESULTS) + "\n")

project = "neural-style-em"
author = "the neural-style-em authors"
copyright = "2026, the neural-style-em authors"
extensions = ["myst_nb"]
exclude_patterns = ["_build", "_vendor", "_generated", "Thumbs.db", ".DS_Store", "**/.ipynb_checkpoints"]

# The chapters are shown as executed: nothing runs here.
nb_execution_mode = "off"
nb_render_markdown_format = "myst"  # Markdown that a cell renders from the results: tables and maths too
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True  # $$...$$ display maths inside a paragraph, as JupyterLab shows it
myst_heading_anchors = 3

# Served from the book itself: no content delivery network at view time.
html_static_path = [str(VENDOR), "_static"]
html_js_files = ["figures.js"]  # a figure opens at full size when clicked
html_css_files = ["tables.css"]  # tables in the size of the code, so they fit the column
mathjax_path = "mathjax/tex-chtml.js"
mathjax_config_path = "mathjax-config.js"  # also answers the widget manager's MathJax 2 calls
nb_ipywidgets_js = {"widgets/require.js": {}, "require-config.js": {}, "widgets/embed-amd.js": {}}

html_theme = "sphinx_book_theme"
html_title = "Neuron segmentation with deep style transfer, re-done"
REPOSITORY = "https://github.com/neural-style-em/neural-style-em"  # the project's public home (also in CITATION.cff)
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    # a chapter opens in JupyterLab on Binder (binder/: the same pins, CPU-only torch, the `ci` profile by default)
    "repository_url": REPOSITORY,
    "repository_branch": "main",
    "path_to_docs": "",
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
    "extra_footer": (
        "<p>Code: MIT licence (<code>LICENSE</code>). Text and figures: "
        '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a> (<code>LICENSE-CONTENT.md</code>). '
        "Data: the terms beside each data set (<code>data/README.md</code>). Cite: <code>CITATION.cff</code>.</p>"
    ),
}
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "light"}
html_last_updated_fmt = None
html_show_sourcelink = False
