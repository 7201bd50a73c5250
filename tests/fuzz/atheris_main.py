"""Run one fuzzing harness under atheris: ``python -m tests.fuzz.atheris_main NAME``.

Every argument after the name goes to libFuzzer: a corpus folder (seeded
with the harness's valid messages and the saved regressions when empty),
``-max_total_time=``, ``-runs=``, or a crash file to replay.
"""

import sys
from pathlib import Path

import atheris

# Coverage is measured in these packages: Trellis's decoders and the pure
# Python parsers under them.
INSTRUMENTED = ["trellis", "asn1crypto", "plistlib"]
REGRESSIONS = Path(__file__).resolve().parent / "regressions"

with atheris.instrument_imports(include=INSTRUMENTED):
    import plistlib  # noqa: F401  (instrumented before anything else loads it)

    from tests.fuzz.harnesses import HARNESSES


def seed(corpus: Path, name: str) -> None:
    """Fill an empty corpus folder with the harness's seeds and regressions."""
    if any(corpus.iterdir()):
        return
    inputs = HARNESSES[name].seeds()
    saved = REGRESSIONS / name
    if saved.is_dir():
        inputs += [path.read_bytes() for path in sorted(saved.iterdir())]
    for number, data in enumerate(inputs):
        (corpus / f"seed-{number:03d}").write_bytes(data)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in HARNESSES:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(HARNESSES)}}} [libFuzzer args]")
    name, arguments = sys.argv[1], sys.argv[2:]
    for argument in arguments:
        folder = Path(argument)
        if not argument.startswith("-") and folder.is_dir():
            seed(folder, name)
    atheris.Setup([sys.argv[0], *arguments], HARNESSES[name].one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
