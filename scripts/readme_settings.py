"""Keep README.md's settings table equal to `tap-analytics --about --format=markdown`.

python scripts/readme_settings.py          # exit 1 and say so when the table is stale
python scripts/readme_settings.py --write  # rewrite the table in place
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def settings_table() -> str:
    about = subprocess.run(
        [sys.executable, "-m", "tap_analytics", "--about", "--format=markdown"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    lines = about.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Setting "))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return "\n".join(lines[start:end])


def rendered(readme: str, table: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main() -> int:
    readme = README.read_text()
    fresh = rendered(readme, settings_table())
    if "--write" in sys.argv:
        README.write_text(fresh)
        return 0
    if fresh != readme:
        print("README.md's settings table is stale: run `make readme`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
