"""SECURITY.md's table of attacks names tests that exist, each in its own row."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(
    r"^\| (?P<attack>[^|]+) \| (?P<outcome>[^|]+) \| `(?P<test>[^`]+)` \|$"
)


def _rows() -> list[re.Match[str]]:
    text = (ROOT / "SECURITY.md").read_text()
    table = text[text.index("## Attacks tried") :]
    return [m for line in table.splitlines() if (m := ROW.match(line))]


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_every_attack_row_names_an_existing_test() -> None:
    rows = _rows()
    assert len(rows) >= 20, "the table of attacks was not found or lost rows"
    missing = []
    for row in rows:
        file_name, _, function = row["test"].partition("::")
        path = ROOT / file_name
        if not path.is_file() or function not in _test_functions(path):
            missing.append(row["test"])
    assert missing == [], f"SECURITY.md names tests that do not exist: {missing}"


def test_no_test_is_named_twice() -> None:
    named = [row["test"] for row in _rows()]
    assert len(named) == len(set(named))
