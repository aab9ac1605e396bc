"""README's project layout names what the tree holds: every package of ``src/salesledger``,
every app, and every folder of ``tests/``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layout() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Project layout", 1)[1]
    return re.search(r"```\n(.*?)```", section, flags=re.S).group(1)  # type: ignore[union-attr]


def folders(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()
                  if p.is_dir() and not p.name.startswith(("_", ".")))


def test_the_layout_names_every_package_app_and_test_folder() -> None:
    text = layout()
    src = ROOT / "src" / "salesledger"
    wanted = ([f"{name}/" for name in folders(src)] + [f"{name}/" for name in folders(src / "apps")]
              + [f"{name}/" for name in folders(ROOT / "tests")]
              + [p.name for p in src.glob("*.py") if p.name != "__init__.py"])
    missing = [name for name in wanted if not re.search(rf"(?<![\w/]){re.escape(name)}", text)]
    assert not missing, f"README's project layout does not name {missing}"
