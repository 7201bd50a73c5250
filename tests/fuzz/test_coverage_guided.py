"""Coverage-guided fuzzing with atheris, on a bounded budget for every `make test`.

Each harness runs in a process of its own (libFuzzer owns the process) for
TRELLIS_ATHERIS_SECONDS, from the harness's valid messages and the saved
regressions. A crash fails the test with the traceback and the input, in
base64 and as a file to replay. Inputs that once crashed live in
``regressions/<harness>/`` and are replayed here without atheris too.
"""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.harnesses import HARNESSES

ROOT = Path(__file__).resolve().parents[2]
REGRESSIONS = Path(__file__).resolve().parent / "regressions"
SECONDS = int(os.environ.get("TRELLIS_ATHERIS_SECONDS", "6"))
SEED = os.environ.get("TRELLIS_ATHERIS_SEED", "1")


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_fuzzing_finds_no_escaping_exception(name: str, tmp_path: Path) -> None:
    corpus, crashes = tmp_path / "corpus", tmp_path / "crashes"
    corpus.mkdir()
    crashes.mkdir()

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.atheris_main",
            name,
            str(corpus),
            f"-max_total_time={SECONDS}",
            f"-seed={SEED}",
            f"-artifact_prefix={crashes}/",
            "-timeout=30",
            "-rss_limit_mb=2048",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS + 180,
        check=False,
    )

    found = sorted(crashes.iterdir())
    assert result.returncode == 0 and not found, _report(name, result, found)
    assert "Done" in result.stderr and "runs in" in result.stderr, result.stderr


def _report(
    name: str, result: subprocess.CompletedProcess[str], found: list[Path]
) -> str:
    output = "\n".join(
        line
        for line in result.stderr.splitlines()
        if not line.startswith("INFO: Instrumenting")
    )
    inputs = "\n".join(
        f"{path.name}: {base64.b64encode(path.read_bytes()).decode()}" for path in found
    )
    return (
        f"atheris found an input that makes the {name} decoder raise something "
        f"other than its own error (exit {result.returncode}).\n"
        f"Save it under tests/fuzz/regressions/{name}/ once fixed; replay with\n"
        f"  .venv/bin/python -m tests.fuzz.atheris_main {name} FILE\n"
        f"Inputs (base64):\n{inputs}\n"
        f"Output:\n{output[-6000:]}"
    )


def _regressions() -> list[tuple[str, Path]]:
    if not REGRESSIONS.is_dir():
        return []
    return [
        (folder.name, path)
        for folder in sorted(REGRESSIONS.iterdir())
        for path in sorted(folder.iterdir())
    ]


@pytest.mark.parametrize(
    ("name", "path"), _regressions(), ids=lambda value: getattr(value, "name", value)
)
def test_inputs_that_once_crashed_raise_only_the_decoders_error(
    name: str, path: Path
) -> None:
    HARNESSES[name].one_input(path.read_bytes())


def test_every_seed_is_accepted_by_its_decoder() -> None:
    # A harness whose seeds its decoder refuses would fuzz only error paths.
    for name, harness in HARNESSES.items():
        for seed in harness.seeds():
            harness.run(seed)
