"""The site check's rules for what a reader of the built site sees (scripts/check_site.py),
on small hand-written site JSON, and what mystmd does with JupyterLab's caption cells.

The self-test (``python scripts/check_site.py --self-test``) breaks whole copies of the
site; these tests pin the rules themselves, fast enough for every run.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from check_site import (  # noqa: E402
    check_launch_button,
    check_table_images,
    check_thumbnail,
)
from run_notebooks import write_lab_captions  # noqa: E402
from site_stub import myst_command, write_stub  # noqa: E402

GITHUB = "https://github.com/gauss-flows/gauss_flows"
THEBE = {"binder": {"repo": "gauss-flows/gauss_flows"}}


def _config(**project):
    return {"projects": [project]}


def test_launch_button_needs_the_projects_jupyter_settings_and_github():
    assert check_launch_button(_config(thebe=THEBE, github=GITHUB)) == []
    for project in ({"github": GITHUB}, {"thebe": THEBE}, {}):
        problems = check_launch_button(_config(**project))
        assert len(problems) == 1 and "no launch button" in problems[0]


def test_thumbnail_is_a_raster_file_that_exists_and_not_a_badge(tmp_path):
    (tmp_path / "thumb-1.png").write_bytes(b"png")
    (tmp_path / "badge-colab-2.png").write_bytes(b"png")
    (tmp_path / "logo-3.svg").write_text("<svg/>")
    home = {"frontmatter": {}}
    assert check_thumbnail(_config(thumbnail="/thumb-1.png"), {"index.md": home},
                           tmp_path) == []
    cases = {
        None: "no thumbnail",
        "/missing.png": "no thumbnail",
        "/logo-3.svg": "not a raster figure",
        "/badge-colab-2.png": "not a raster figure",
    }
    for thumb, expected in cases.items():
        problems = check_thumbnail(_config(thumbnail=thumb), {}, tmp_path)
        assert len(problems) == 1 and expected in problems[0], (thumb, problems)
    # a page's own thumbnail is checked too
    badge_page = {"frontmatter": {"thumbnail": "/badge-colab-2.png"}}
    problems = check_thumbnail(_config(thumbnail="/thumb-1.png"),
                               {"index.md": badge_page}, tmp_path)
    assert problems == ["index.md: thumbnail (og:image) badge-colab-2.png is not a raster "
                        "figure"]


def test_an_image_inside_a_table_is_a_problem_and_a_link_in_words_is_not():
    def table(cell):
        return {"type": "root", "children": [{"type": "table", "children": [
            {"type": "tableRow", "children": [{"type": "tableCell", "children": [cell]}]}
        ]}]}

    image = {"type": "link", "url": "https://colab", "children": [
        {"type": "image", "url": "/badge.svg"}]}
    words = {"type": "link", "url": "https://colab", "children": [
        {"type": "text", "value": "Colab"}]}
    problems = check_table_images("index.md", table(image))
    assert len(problems) == 1 and "image in a table (/badge.svg)" in problems[0]
    assert check_table_images("index.md", table(words)) == []
    # an image outside any table is fine
    assert check_table_images("index.md", {"type": "root", "children": [image]}) == []


def test_the_site_drops_the_lab_caption_cell_and_keeps_the_figure_caption(tmp_path):
    """Build a one-notebook site: the caption cell that make notebooks writes for
    JupyterLab gets visibility "remove" (the theme does not render it), while the
    figure cell's caption stays the figure's caption."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    figure = nbformat.v4.new_code_cell(
        "#| label: fig-probe\n#| caption: The caption of the probe figure.\nprint(1)",
        metadata={"tags": ["hide-input"]})
    nb.cells = [nbformat.v4.new_markdown_cell("# Probe"), figure]
    write_lab_captions(nb)
    nbformat.write(nb, tmp_path / "probe.ipynb")
    (tmp_path / "myst.yml").write_text(
        "version: 1\nproject:\n  title: probe\n  toc:\n    - file: probe.ipynb\n"
        "site:\n  template: book-theme\n")
    write_stub(tmp_path / "_build/templates/site/myst/book-theme")
    env = {**os.environ, "CI": "true", "NO_UPDATE_NOTIFIER": "1"}
    subprocess.run([*myst_command(), "build", "--site"], cwd=tmp_path, env=env,
                   check=True, capture_output=True, timeout=300)
    page = json.loads(next((tmp_path / "_build/site/content").glob("*.json")).read_text())
    blocks = [b for b in page["mdast"]["children"] if b.get("type") == "block"]
    lab = [b for b in blocks if '"Figure."' in json.dumps(b)]  # **Figure.** <caption>
    assert len(lab) == 1 and lab[0].get("visibility") == "remove", blocks
    figures = [b for b in blocks if '"container"' in json.dumps(b)]
    assert len(figures) == 1
    assert "The caption of the probe figure." in json.dumps(figures[0])
    assert figures[0].get("visibility") != "remove"
