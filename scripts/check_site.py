"""Offline site check: `myst build --site --strict`, then checks of the built content.

1. Build. mystmd prints warnings (unresolved cross-references, unknown citation keys,
   bad directives, unclosed gates, unknown math macros...) but can still exit 0; every
   warning or error line it prints is a failure here, so a broken reference fails CI.
   The theme cannot be downloaded offline, so the build uses the template stub of
   `scripts/site_stub.py`. Nothing is executed: the site shows the outputs stored in
   the notebooks, which CI re-checks with nbval.
2. Content (`_build/site/config.json`, `_build/site/content/*.json`):
   - every file in the toc of `myst.yml` was built as a page;
   - every citation and cross-reference resolved, and no link was left empty or
     pointing at an unknown target;
   - exercises are numbered, and every solution is collapsed (`:class: dropdown`);
     a notebook `NN_name.ipynb` numbers its exercises `NN.1`, `NN.2`... (frontmatter
     `numbering: {exercise: {enumerator: "NN.%s"}}`), so no two exercises of the
     module share a number;
   - every notebook page has outputs and figures (image outputs, stored in the site's
     public folder), every labelled figure has an image, and no output is an error or
     a stderr stream;
   - the teachers' page (`teaching.md`) refers to every exercise of the notebooks, so
     its exercise table shows the same numbers as the notebooks;
   - every figure (image output) has alt text: its `text/plain`, which the theme uses
     as the image's `alt`, is a description (`_style.show(fig, alt=...)`), not
     missing and not matplotlib's repr (`<Figure size 640x480 with 1 Axes>`);
   - every notebook page offers its `.ipynb` for download, its first code cell is the
     standard install cell, and the home page links it on Colab and Binder;
   - the logo and favicon of the site options were resolved;
   - prose that renders badly or reads out of order (``check_prose``): equation
     references in double parentheses, raw labels in code or outputs, "notebook
     <title>", and references to a later notebook outside the closing "Next".

Usage: python scripts/check_site.py [--self-test]

`--self-test` copies the site sources to a temporary folder, breaks them in several
ways and confirms that each breakage makes the check fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from site_stub import myst_command, write_stub  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MYST = myst_command()
PROBLEM = re.compile(r"⚠️|⛔|🚨|\berror\b", re.IGNORECASE)
# Extra advice printed under a failure whose message contains the key.
HINTS = {
    "Gated node is not closed": (
        "mystmd 1.11 cannot gate a solution across notebook cells (solution-start and "
        "solution-end in different cells). Put the solution code in its own cell, labelled "
        "and tagged remove-cell, and embed it in a `:class: dropdown` solution: see "
        "'Exercises and solutions' in CONTRIBUTING.md."
    ),
    "numbered per notebook": (
        "Put `numbering: {exercise: {enumerator: 'NN.%s'}}` in the notebook's frontmatter "
        "(first cell), with NN the notebook's number: see 'Exercises and solutions' in "
        "CONTRIBUTING.md."
    ),
    "alt text": (
        "Show every figure with `_style.show(fig, alt='one sentence on what it shows')` "
        "instead of plt.show(), then re-run the notebook (`make notebooks`)."
    ),
    "Undefined control sequence": (
        "Notebooks use plain LaTeX; the macros of myst.yml project.math are for the site's "
        "markdown pages only."
    ),
}
INSTALL_CELL = """\
# On Colab or a fresh kernel, install gauss_flows if it is missing (does nothing otherwise).
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("gauss_flows") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "gauss_flows @ git+https://github.com/gauss-flows/gauss_flows"], check=True)"""


# --------------------------------------------------------------------------- build
def build(root: Path = ROOT) -> list[str]:
    """Run the offline content build in ``root``; return the problem lines it printed."""
    shutil.rmtree(root / "_build/site", ignore_errors=True)  # never check stale content
    write_stub(root / "_build/templates/site/myst/book-theme")
    env = {**os.environ, "CI": "true", "NO_UPDATE_NOTIFIER": "1"}
    proc = subprocess.run(
        [*MYST, "build", "--site", "--strict"],
        cwd=root, capture_output=True, text=True, env=env,
    )
    out = proc.stdout + proc.stderr
    lines = [ln.strip() for ln in out.splitlines() if PROBLEM.search(ln)]
    lines = list(dict.fromkeys(lines))  # myst repeats each warning in its summary
    if proc.returncode != 0:
        lines.append(f"myst exited with {proc.returncode}")
    print(out if lines else "myst build --site --strict: clean")
    return lines


# ------------------------------------------------------------------------- content
def walk(node: dict) -> Iterator[dict]:
    """Every node of an mdast tree, depth first."""
    yield node
    for child in node.get("children") or []:
        yield from walk(child)


def _has_type(node: dict, kind: str) -> bool:
    return any(n.get("type") == kind for n in walk(node))


def text_of(node: dict) -> str:
    return "".join(n.get("value", "") for n in walk(node) if n.get("type") == "text")


def toc_files(entries: list[dict]) -> list[str]:
    """The `file` entries of a myst.yml toc, in order, children included."""
    files = []
    for entry in entries or []:
        if "file" in entry:
            files.append(entry["file"])
        files.extend(toc_files(entry.get("children", [])))
    return files


def check_links(name: str, tree: dict, cites: dict) -> list[str]:
    """Citations, cross-references and links of one page."""
    problems = []
    for node in walk(tree):
        kind = node.get("type")
        if kind == "cite":
            key = node.get("label") or node.get("identifier")
            if key not in cites or not text_of(node):
                problems.append(f"{name}: citation {key!r} did not resolve")
        elif kind == "crossReference" and not text_of(node):
            ident = node.get("identifier")
            problems.append(f"{name}: cross-reference to {ident!r} is empty")
        elif kind == "link":
            url = node.get("url", "")
            internal = not re.match(r"^[a-z][a-z0-9+.-]*:", url) and not url.startswith("/")
            if url.startswith("#") or (internal and re.search(r"\.(md|ipynb)(#|$)", url)):
                problems.append(f"{name}: link target {url!r} did not resolve")
            elif not text_of(node) and not _has_type(node, "image"):
                problems.append(f"{name}: link to {url!r} has no text")
    return problems


def notebook_number(name: str) -> str | None:
    """``"00"`` for ``notebooks/00_coupling_pattern.ipynb``; None for other pages."""
    match = re.match(r"(\d+)_", Path(name).name)
    return match.group(1) if name.endswith(".ipynb") and match else None


def check_exercises(name: str, tree: dict) -> list[str]:
    """Exercises are numbered (per notebook); solutions are collapsed and name one."""
    problems = []
    exercises = {n.get("identifier"): n for n in walk(tree) if n.get("type") == "exercise"}
    number = notebook_number(name)
    for ident, node in exercises.items():
        enumerator = str(node.get("enumerator") or "")
        if not enumerator:
            problems.append(f"{name}: exercise {ident!r} is not numbered")
        elif number is not None and not re.fullmatch(rf"{number}\.\d+", enumerator):
            problems.append(
                f"{name}: exercise {ident!r} is 'Exercise {enumerator}', not numbered per "
                f"notebook ('Exercise {number}.1', ...)"
            )
    for node in walk(tree):
        if node.get("type") != "solution":
            continue
        refs = [n for n in walk(node) if n.get("type") == "crossReference"]
        target = refs[0].get("identifier") if refs else None
        if "dropdown" not in str(node.get("class", "")).split():
            problems.append(f"{name}: solution to {target!r} is not collapsed (dropdown)")
        if target is None:
            problems.append(f"{name}: a solution does not name its exercise")
    return problems


RAW_LABEL = re.compile(r"\((?:eq|fig|ex|sol|tbl)-[A-Za-z0-9_-]+\)")
LATER_NOTEBOOK = re.compile(r"\b[Nn]otebooks? (\d\d)\b")


def _siblings(tree: dict) -> Iterator[tuple[dict, str, str]]:
    """Every node with the text just before and just after it in its parent."""
    for parent in walk(tree):
        children = parent.get("children") or []
        for i, node in enumerate(children):
            before = text_of(children[i - 1]) if i > 0 else ""
            after = text_of(children[i + 1]) if i + 1 < len(children) else ""
            yield node, before, after


def _next_paragraph(tree: dict) -> set[int]:
    """ids of the nodes in the closing "Next" paragraph of a notebook."""
    ids = set()
    for node in walk(tree):
        if node.get("type") == "paragraph" and text_of(node).lstrip().startswith("Next"):
            ids.update(id(n) for n in walk(node))
    return ids


def check_prose(name: str, tree: dict, slugs: dict[str, str]) -> list[str]:
    """What a reader found on the rendered pages, so that it cannot come back:

    - an equation reference written inside parentheses, ``([](#eq-x))``, renders as
      "((2))", since mystmd already puts an equation's number in parentheses;
    - a raw label in a notebook's code or output ("eq. (eq-menu-mlp-count)") reads as
      noise: code cannot resolve a reference, so name the thing in words (markdown
      pages such as CONTRIBUTING.md may show label syntax in code blocks);
    - "notebook [](01_x.ipynb)" renders as "notebook The bijector menu";
    - a notebook refers to a later notebook only in its closing "Next" paragraph: the
      module reads forward, so nothing may depend on what comes later.
    """
    problems = []
    number = notebook_number(name)
    allowed = _next_paragraph(tree) if number else set()
    for node, before, after in _siblings(tree):
        kind = node.get("type")
        if (kind == "crossReference" and text_of(node).startswith("(")
                and before.rstrip().endswith("(") and after.lstrip().startswith(")")):
            problems.append(f"{name}: reference to {node.get('identifier')!r} is written "
                            f"in parentheses and renders as (({text_of(node)[1:-1]}))")
        if kind == "link" and re.search(r"\bnotebooks?\s*$", before, re.IGNORECASE) and (
                node.get("url", "").lstrip("/") in slugs):
            problems.append(f"{name}: 'notebook' before a link to a notebook renders as "
                            f"'notebook {text_of(node)}'")
    for node in walk(tree):
        kind = node.get("type")
        if number is not None and kind in {"code", "inlineCode", "output"}:
            value = node.get("value", "") if kind != "output" else json.dumps(
                (node.get("jupyter_data") or {}).get("text", ""))
            for label in RAW_LABEL.findall(value):
                problems.append(f"{name}: raw label {label} in code or output")
        if number is None or id(node) in allowed:
            continue
        later = []
        if kind == "link":
            target = slugs.get(node.get("url", "").lstrip("/"))
            if target and target > number:
                later.append(target)
        elif kind == "text":
            found = LATER_NOTEBOOK.findall(node.get("value", ""))
            later += [n for n in found if n > number]
        problems += [f"{name}: refers to the later notebook {n} (only the closing 'Next' "
                     "paragraph may)" for n in later]
    return problems


REPR_ALT = re.compile(r"^<.*>$|^<?Figure size\b", re.DOTALL)


def alt_text(data: dict, public: Path) -> str:
    """The alt text the theme gives an image output: its ``text/plain`` content."""
    plain = data.get("text/plain") or {}
    if "content" in plain:
        return str(plain["content"])
    path = public / str(plain.get("path", "")).lstrip("/")
    return path.read_text() if plain.get("path") and path.is_file() else ""


def _image_mimes(node: dict) -> list[str]:
    data = (node.get("jupyter_data") or {}).get("data") or {}
    return [m for m in data if m.startswith("image/")]


def check_notebook(name: str, page: dict, public: Path) -> list[str]:
    """Stored outputs, figures, errors and the download of one notebook page."""
    problems = []
    tree = page["mdast"]
    outputs = [n for n in walk(tree) if n.get("type") == "output"]
    if not outputs:
        problems.append(f"{name}: notebook page has no stored outputs")
    n_images = 0
    labels = {id(o): f" {c.get('identifier')!r}" for c in walk(tree)
              if c.get("type") == "container" and c.get("identifier")
              for o in walk(c) if o.get("type") == "output"}
    for out in outputs:
        data = out.get("jupyter_data") or {}
        otype = data.get("output_type")
        if any(m.startswith("image/") for m in data.get("data") or {}):
            alt = alt_text(data["data"], public).strip()
            label = labels.get(id(out), "")
            if not alt:
                problems.append(f"{name}: figure{label} has no alt text (no text/plain)")
            elif REPR_ALT.search(alt):
                problems.append(f"{name}: figure{label}: its alt text is a repr "
                                f"({alt[:40]!r}), not a description")
        if otype == "error":
            problems.append(f"{name}: stores an error output ({data.get('ename')})")
        if otype == "stream" and data.get("name") == "stderr":
            snippet = str(data.get("text", ""))[:60].strip()
            problems.append(f"{name}: stores a stderr output ({snippet!r})")
        for mime, item in (data.get("data") or {}).items():
            if mime.startswith("image/"):
                n_images += 1
                path = str(item.get("path", "")).lstrip("/")
                if not path or not (public / path).is_file():
                    problems.append(f"{name}: image {path!r} is missing from the site")
    if n_images == 0:
        problems.append(f"{name}: notebook page has no figures (image outputs)")
    for node in walk(tree):
        if node.get("type") == "container" and node.get("kind") == "figure":
            has_image = _has_type(node, "image") or any(_image_mimes(n) for n in walk(node))
            if not has_image:
                problems.append(f"{name}: figure {node.get('identifier')!r} has no image")
    exports = page["frontmatter"].get("exports", [])
    downloads = [e for e in exports if e.get("format") == "ipynb"]
    if not any((public / str(e.get("url", "")).lstrip("/")).is_file() for e in downloads):
        problems.append(f"{name}: no .ipynb download on the page")
    return problems


def check_install_cell(root: Path, notebook: str) -> list[str]:
    cells = json.loads((root / notebook).read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    source = "".join(code[0]["source"]).strip() if code else ""
    if source != INSTALL_CELL:
        return [f"{notebook}: first code cell is not the standard install cell"]
    return []


def check_launch_links(home: dict | None, notebook: str, github: str) -> list[str]:
    """The home page links the notebook on Colab and on Binder."""
    if home is None:
        return ["index.md: no home page was built"]
    repo = github.removeprefix("https://github.com/").strip("/")
    urls = [n.get("url", "") for n in walk(home["mdast"]) if n.get("type") == "link"]
    wanted = {
        "Colab": f"https://colab.research.google.com/github/{repo}/blob/main/{notebook}",
        "Binder": f"https://mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab/tree/{notebook}",
    }
    return [
        f"index.md: no {where} link for {notebook} ({url})"
        for where, url in wanted.items()
        if url not in urls
    ]


def check_teaching_page(pages: dict[str, dict], name: str = "teaching.md") -> list[str]:
    """The teachers' page refers to every exercise of the notebooks."""
    if name not in pages:
        return []
    referred = {n.get("identifier") for n in walk(pages[name]["mdast"])
                if n.get("type") == "crossReference"}
    return [
        f"{name}: does not list exercise {n.get('identifier')!r} of {page_name}"
        for page_name, page in pages.items() if page.get("kind") == "Notebook"
        for n in walk(page["mdast"])
        if n.get("type") == "exercise" and n.get("identifier") not in referred
    ]


RASTER = (".png", ".jpg", ".jpeg")


def check_launch_button(config: dict) -> list[str]:
    """The book theme draws a launch button on every page from the project's
    ``jupyter`` settings (built into the site config as ``thebe``) and its ``github``
    repository; pages never carry these themselves."""
    project = (config.get("projects") or [{}])[0]
    if project.get("thebe") and project.get("github"):
        return []
    return ["myst.yml: no launch button on any page (project.jupyter and github needed)"]


def check_thumbnail(config: dict, pages: dict[str, dict], public: Path) -> list[str]:
    """Every page's og:image is the project's thumbnail (or the page's own): a raster
    image that exists, not a badge (the theme otherwise takes the home page's first
    image, which was the Colab badge)."""
    projects = config.get("projects") or [{}]
    wanted = {"project": projects[0].get("thumbnail")}
    wanted |= {name: p.get("frontmatter", {}).get("thumbnail") for name, p in pages.items()}
    problems = []
    for where, thumb in wanted.items():
        if where != "project" and not thumb:
            continue  # the page uses the project's thumbnail
        path = str(thumb or "").lstrip("/")
        if not path or not (public / path).is_file():
            problems.append(f"{where}: no thumbnail (og:image); set project.thumbnail")
        elif not path.lower().endswith(RASTER) or "badge" in path.lower():
            problems.append(f"{where}: thumbnail (og:image) {path} is not a raster figure")
    return problems


def check_table_images(name: str, tree: dict) -> list[str]:
    """Images inside table cells are shrunk to the column width (badges became
    unreadable at 46 px); tables link in words instead."""
    return [
        f"{name}: image in a table ({img.get('url', '')}) is shrunk to its column"
        for table in walk(tree) if table.get("type") == "table"
        for img in walk(table) if img.get("type") == "image"
    ]


EMPTY_FIGURE_REF = re.compile(r"\[\]\(#(fig-[\w-]+)\)")


def check_lab_references(root: Path, toc: list[str]) -> list[str]:
    """A figure reference with empty link text, ``[](#fig-x)``, reads "Figure 3" on the
    site but shows as the raw "#fig-x" in JupyterLab, where the label (set in a code
    cell) cannot be resolved. Notebooks name their figures in words instead:
    ``[the figure of the samples below](#fig-x)``, a link on the site, words in Lab."""
    problems = []
    for entry in toc:
        if not entry.endswith(".ipynb"):
            continue
        nb = json.loads((root / entry).read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            source = "".join(cell["source"])
            problems += [f"{entry}: figure reference [](#{label}) has no words (raw in "
                         "JupyterLab)" for label in EMPTY_FIGURE_REF.findall(source)]
    return problems


def check_content(root: Path = ROOT) -> list[str]:
    """Check the built site content in ``root/_build/site``; return the problems."""
    site = root / "_build/site"
    if not (site / "config.json").is_file():
        return ["no site content was written (_build/site/config.json is missing)"]
    config = json.loads((site / "config.json").read_text())
    public = site / "public"
    myst_yml = yaml.safe_load((root / "myst.yml").read_text())
    project_yml = myst_yml.get("project", {})
    pages = {}
    for f in sorted((site / "content").glob("*.json")):
        page = json.loads(f.read_text())
        pages[page.get("location", "").lstrip("/")] = page

    problems = check_lab_references(root, toc_files(project_yml.get("toc", [])))
    toc = toc_files(project_yml.get("toc", []))
    if not toc:
        problems.append("myst.yml: the toc is empty")
    for entry in toc:
        if entry not in pages:
            problems.append(f"{entry}: in the toc of myst.yml but not built as a page")
    slugs = {}  # "notebooks/bijector-menu" -> "01"
    for name, page in pages.items():
        number = notebook_number(name)
        if number:
            slugs[page["slug"].replace(".", "/")] = number
    for name, page in pages.items():
        cites = page.get("references", {}).get("cite", {}).get("data", {})
        problems += check_links(name, page["mdast"], cites)
        problems += check_prose(name, page["mdast"], slugs)
        problems += check_exercises(name, page["mdast"])
        problems += check_table_images(name, page["mdast"])
        if page.get("kind") == "Notebook":
            problems += check_notebook(name, page, public)
    problems += check_launch_button(config)
    problems += check_thumbnail(config, pages, public)
    problems += check_teaching_page(pages)
    github = project_yml.get("github", "")
    for entry in toc:
        if entry.endswith(".ipynb") and (root / entry).is_file():
            problems += check_install_cell(root, entry)
            problems += check_launch_links(pages.get("index.md"), entry, github)
    wanted_options = (myst_yml.get("site") or {}).get("options") or {}
    built_options = config.get("options") or {}
    for key in ("logo", "favicon"):
        if key in wanted_options:
            path = str(built_options.get(key, "")).lstrip("/")
            if not path or not (public / path).is_file():
                problems.append(f"myst.yml: site option {key} was not resolved")
    return problems


def run(root: Path = ROOT, quiet: bool = False) -> list[str]:
    """Build and check the site in ``root``; return every problem found."""
    if quiet:
        with open(os.devnull, "w") as devnull:
            stdout, sys.stdout = sys.stdout, devnull
            try:
                problems = build(root)
            finally:
                sys.stdout = stdout
    else:
        problems = build(root)
    return problems + check_content(root)


# ----------------------------------------------------------------------- self-test
def _first_notebook(root: Path) -> Path:
    toc = toc_files(yaml.safe_load((root / "myst.yml").read_text())["project"]["toc"])
    return root / next(f for f in toc if f.endswith(".ipynb"))


def _edit_notebook(root: Path, edit: Callable[[dict], None]) -> None:
    path = _first_notebook(root)
    nb = json.loads(path.read_text())
    edit(nb)
    path.write_text(json.dumps(nb, indent=1))


def _append(root: Path, file: str, text: str) -> None:
    with open(root / file, "a") as f:
        f.write(text)


def _add_output(root: Path, output: dict) -> None:
    """Append ``output`` to the first code cell with outputs of the first notebook."""
    def edit(nb: dict) -> None:
        cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and c.get("outputs"))
        cell["outputs"].append(output)

    _edit_notebook(root, edit)


def _drop_images(nb: dict) -> None:
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            for mime in [m for m in out.get("data", {}) if m.startswith("image/")]:
                del out["data"][mime]


def _first_image(nb: dict) -> dict:
    return next(o["data"] for c in nb["cells"] for o in c.get("outputs", [])
                if any(m.startswith("image/") for m in o.get("data", {})))


def _drop_numbering(nb: dict) -> None:
    """Remove ``numbering`` from the frontmatter of the notebook's first cell."""
    cell = nb["cells"][0]
    source = "".join(cell["source"])
    _, front, body = source.split("---\n", 2)
    meta = yaml.safe_load(front)
    meta.pop("numbering", None)
    cell["source"] = f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n{body}"


def _edit_yml(root: Path, edit: Callable[[dict], None]) -> None:
    config = yaml.safe_load((root / "myst.yml").read_text())
    edit(config)
    (root / "myst.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def _add_cell(root: Path, cell: dict, at: int | None = None) -> None:
    """Insert ``cell`` (plus empty metadata and a fresh id) into the first notebook."""
    def edit(nb: dict) -> None:
        cells = nb["cells"]
        new = {"metadata": {}, "id": f"selftest-{len(cells)}", **cell}
        cells.insert(len(cells) if at is None else at, new)

    _edit_notebook(root, edit)


def _add_empty_figure_ref(root: Path) -> None:
    nb = json.loads(_first_notebook(root).read_text())
    label = next(m for c in nb["cells"] if c["cell_type"] == "code"
                 for m in re.findall(r"#\| label: (fig-[\w-]+)", "".join(c["source"])))
    _add_cell(root, {"cell_type": "markdown", "source": f"See [](#{label})."})


BREAKAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "figure reference without words": (
        _add_empty_figure_ref,
        "has no words",
    ),
    "unknown cross-reference": (
        lambda r: _append(r, "index.md", "\n\nSee [](#fig-does-not-exist).\n"),
        "fig-does-not-exist",
    ),
    "unknown citation key": (
        lambda r: _append(r, "index.md", "\n\nAs shown by {cite}`nobody1999`.\n"),
        "nobody1999",
    ),
    "link to a missing page": (
        lambda r: _append(r, "index.md", "\n\nRead [](notebooks/99_missing.ipynb).\n"),
        "99_missing",
    ),
    "toc entry that does not exist": (
        lambda r: _edit_yml(r, lambda c: c["project"]["toc"].append({"file": "gone.md"})),
        "gone.md",
    ),
    "solution that is not collapsed": (
        lambda r: _append(
            r, "index.md",
            "\n\n:::{exercise}\n:label: ex-selftest\nDo it.\n:::\n\n"
            ":::{solution} ex-selftest\nDone.\n:::\n",
        ),
        "not collapsed",
    ),
    "error output in a notebook": (
        lambda r: _add_output(r, {"output_type": "error", "ename": "ValueError",
                                  "evalue": "boom", "traceback": []}),
        "error output",
    ),
    "stderr output in a notebook": (
        lambda r: _add_output(r, {"output_type": "stream", "name": "stderr",
                                  "text": "UserWarning: noise\n"}),
        "stderr",
    ),
    "notebook without figures": (
        lambda r: _edit_notebook(r, _drop_images),
        "no figures",
    ),
    "exercises not numbered per notebook": (
        lambda r: _edit_notebook(r, _drop_numbering),
        "numbered per notebook",
    ),
    "figure with matplotlib's repr as alt": (
        lambda r: _edit_notebook(r, lambda nb: _first_image(nb).update(
            {"text/plain": "<Figure size 640x480 with 1 Axes>"})),
        "alt text is a repr",
    ),
    "figure without alt text": (
        lambda r: _edit_notebook(r, lambda nb: _first_image(nb).pop("text/plain")),
        "no alt text",
    ),
    "exercise missing from teaching.md": (
        lambda r: (r / "teaching.md").write_text(
            re.sub(r"\[\]\(#(ex-[\w-]+)\)", "an exercise", (r / "teaching.md").read_text(),
                   count=0)
        ),
        "does not list exercise",
    ),
    "notebook without the install cell": (
        lambda r: _edit_notebook(r, lambda nb: nb["cells"].remove(
            next(c for c in nb["cells"] if c["cell_type"] == "code")
        )),
        "install cell",
    ),
    "no launch button": (
        lambda r: _edit_yml(r, lambda c: c["project"].pop("jupyter")),
        "no launch button",
    ),
    "no thumbnail": (
        lambda r: _edit_yml(r, lambda c: c["project"].pop("thumbnail")),
        "no thumbnail",
    ),
    "badge as thumbnail": (
        lambda r: _edit_yml(r, lambda c: c["project"].update(thumbnail="_static/logo.svg")),
        "not a raster figure",
    ),
    "image in a table": (
        lambda r: _append(r, "index.md", "\n\n| a | b |\n| --- | --- |\n"
                          "| x | ![logo](_static/logo.svg) |\n"),
        "image in a table",
    ),
    "missing logo file": (
        lambda r: (r / "_static/logo.svg").unlink(),
        "logo",
    ),
    "undefined math macro": (
        lambda r: _append(r, "index.md", "\n\n$\\notamacro{x}$\n"),
        "notamacro",
    ),
    "equation reference in parentheses": (
        lambda r: _append(r, "index.md", "\n\n$$\nx = 1\n$$ (eq-selftest)\n\n"
                          "As shown ([](#eq-selftest)).\n"),
        "renders as ((",
    ),
    "raw label in a notebook's code": (
        lambda r: _add_cell(r, {"cell_type": "code", "outputs": [], "execution_count": None,
                                "source": "n = 1  # eq. (eq-selftest)"}),
        "raw label (eq-selftest)",
    ),
    "'notebook' before a notebook link": (
        lambda r: _append(r, "index.md", "\n\nAs notebook "
                          "[](notebooks/01_bijector_menu.ipynb) shows.\n"),
        "renders as 'notebook ",
    ),
    "reference to a later notebook": (
        lambda r: _add_cell(r, {"cell_type": "markdown",
                                "source": "Notebook 07 explains this."}, at=1),
        "later notebook 07",
    ),
}


def _copy_site(dest: Path) -> None:
    skip = shutil.ignore_patterns(".git", ".venv", "_build", "__pycache__", "*.egg-info")
    shutil.copytree(ROOT, dest, ignore=skip)


def self_test() -> int:
    """Break copies of the site; each breakage must make the check fail."""
    failures = []
    with tempfile.TemporaryDirectory(prefix="check_site_") as tmp:
        pristine = Path(tmp) / "pristine"
        _copy_site(pristine)
        baseline = run(pristine, quiet=True)
        if baseline:
            print("self-test: the unbroken site does not pass, so breakages prove nothing:")
            for p in baseline:
                print("  ", p)
            return 1
        print("self-test: unbroken copy passes")
        for label, (breakage, expected) in BREAKAGES.items():
            root = Path(tmp) / "broken"
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(pristine, root, ignore=shutil.ignore_patterns("_build"))
            breakage(root)
            problems = run(root, quiet=True)
            caught = [p for p in problems if expected.lower() in p.lower()]
            status = "caught" if caught else "MISSED"
            print(f"self-test: {label:36s} {status}: {(caught or problems or ['-'])[0]}")
            if not caught:
                failures.append(label)
    if failures:
        print(f"\nself-test FAILED: not caught: {', '.join(failures)}")
        return 1
    print(f"\nself-test passed: all {len(BREAKAGES)} breakages make the check fail.")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--self-test"]:
        return self_test()
    if argv:
        print(__doc__)
        return 2
    problems = run(ROOT)
    if problems:
        print("\nSite check FAILED:")
        for p in problems:
            print("  ", p)
        for key, hint in HINTS.items():
            if any(key in p for p in problems):
                print(f"\nHint: {hint}")
        return 1
    print("Site check passed: clean build, and every page, output, figure (alt text), "
          "citation, cross-reference, exercise number, solution and launch link checked.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
