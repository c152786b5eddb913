"""Serve the built course site over HTTP on loopback, and print its URL.

Usage: python scripts/serve_site.py [--dir _build/html] [--port 8000] [--base-url /prefix]

The HTML that `make site` writes cannot be opened from disk: each page redirects to
its folder URL and loads its assets from absolute paths (``/build/...``), so it must
be served. This serves ``--dir`` with Python's standard library on 127.0.0.1 only
(nothing else on the network can reach it) until Ctrl+C. A site built with
``BASE_URL=/prefix`` (as for GitHub Pages) is served under that prefix
(``--base-url``, default: the ``BASE_URL`` environment variable). ``--port 0`` picks
a free port. To serve a classroom from one machine, copy ``_build/html/`` to any
static web server instead.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files from ``directory``, optionally under a URL prefix ``base_url``."""

    base_url = ""

    def translate_path(self, path: str) -> str:
        if self.base_url:
            if path == self.base_url:
                path = self.base_url + "/"
            if path.startswith(self.base_url + "/"):
                path = path[len(self.base_url):]
        return super().translate_path(path)

    def log_message(self, format: str, *args) -> None:  # one short line per request
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def make_server(
    directory: Path, port: int = 8000, base_url: str = ""
) -> ThreadingHTTPServer:
    """An HTTP server for ``directory`` on 127.0.0.1:``port`` (0: any free port)."""
    directory = Path(directory)
    built = (directory / "index.html").is_file() or (directory / "config.json").is_file()
    if not built:
        raise FileNotFoundError(
            f"No built site in {directory}: run `make site` first (it needs the web once, "
            "to download the site theme)."
        )
    base_url = "/" + base_url.strip("/") if base_url.strip("/") else ""
    handler = type("Handler", (SiteHandler,), {"base_url": base_url})
    return ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(handler, directory=str(directory))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "_build/html")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--base-url", default=os.environ.get("BASE_URL", ""))
    args = parser.parse_args(argv)
    try:
        server = make_server(args.dir, args.port, args.base_url)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 1
    except OSError as err:
        print(f"Cannot serve on 127.0.0.1:{args.port}: {err}. Try `make serve PORT=8001`.",
              file=sys.stderr)
        return 1
    host, port = server.server_address[:2]
    prefix = "/" + args.base_url.strip("/") + "/" if args.base_url.strip("/") else "/"
    print(f"Serving {args.dir} at http://{host}:{port}{prefix.replace('//', '/')} "
          "(Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
