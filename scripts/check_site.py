"""Offline site check: `myst build --site --strict`, failing on any warning.

mystmd prints warnings (unresolved cross-references, unknown citation keys, bad
directives...) but can still exit 0; this script treats every warning or error
line as a failure, so a broken reference fails CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from site_stub import write_stub  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MYST = ["myst"] if shutil.which("myst") else [sys.executable, "-m", "mystmd"]
PROBLEM = re.compile(r"⚠️|⛔|🚨|\berror\b", re.IGNORECASE)


def build() -> list[str]:
    """Run the offline content build; return the problem lines it printed."""
    write_stub(ROOT / "_build/templates/site/myst/book-theme")
    env = {**os.environ, "CI": "true", "NO_UPDATE_NOTIFIER": "1"}
    proc = subprocess.run(
        [*MYST, "build", "--site", "--strict"],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )
    out = proc.stdout + proc.stderr
    lines = [ln for ln in out.splitlines() if PROBLEM.search(ln)]
    if proc.returncode != 0:
        lines.append(f"myst exited with {proc.returncode}")
    print(out if lines else "myst build --site --strict: clean")
    return lines


def main() -> int:
    problems = build()
    if problems:
        print("\nSite check FAILED:")
        for p in problems:
            print("  ", p)
        return 1
    print("Site check passed.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
