"""Build the course site: `myst build --html`, or an offline content build if the
theme cannot be downloaded.

`myst build --html` fetches the book-theme from the web on first use. Where the
network is not reachable this script says so plainly, then builds and checks the
site content offline (`scripts/check_site.py`), which verifies every page,
citation and cross-reference without the theme.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from site_stub import STUB_DIR, is_stub, myst_command

MYST = myst_command()


def main() -> int:
    if is_stub():  # a stub from an offline check would stand in for the real theme
        shutil.rmtree(STUB_DIR)
    html = subprocess.run([*MYST, "build", "--html"], capture_output=True, text=True)
    sys.stdout.write(html.stdout)
    ok = html.returncode == 0 and "ENOTFOUND" not in html.stdout + html.stderr
    if ok:
        print(
            "\nSite built in _build/html. Serve it with `make serve` and open "
            "http://127.0.0.1:8000/ (opened from disk, its pages do not load: each one "
            "redirects to its folder URL and loads its assets from absolute paths)."
        )
        return 0
    sys.stderr.write(html.stderr)
    print(
        "\nCould not build the HTML site: `myst build --html` needs to download its "
        "theme from the web, which is not reachable from here.\n"
        "Building and checking the site content offline instead "
        "(`myst build --site --strict` + content checks)...\n"
    )
    import check_site

    status = check_site.main()
    print(
        "\nNo HTML site was built (`_build/html/` needs the theme from the web), so "
        "there is nothing to serve yet: `make serve` will say so. The offline check "
        "above " + ("passed" if status == 0 else "FAILED") + ". To read the site, run "
        "`make site` once on a machine with internet access and copy `_build/html/` "
        "here, then `make serve`."
    )
    return status


if __name__ == "__main__":
    raise SystemExit(main())
