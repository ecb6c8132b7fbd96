"""Assemble PyRIT 1.1.0's human-labelled scorer-evaluation answers into one labelled-set file.

    .venv/bin/python scripts/build_pyrit_labelled_set.py
    .venv/bin/python scripts/build_pyrit_labelled_set.py --wheel /path/to/pyrit-1.1.0-py3-none-any.whl

Fetches the PyRIT 1.1.0 wheel from the package registry by exact version (`pip download`), checks its sha256,
keeps it in a cache (~/.cache/safehub/wheels, or SAFEHUB_CACHE) and reads `pyrit/datasets/scorer_evals/*`
straight from the zip: PyRIT is never imported nor installed. Writes
src/safehub/classifiers/data/labelled/pyrit_scorer_evals.jsonl: one line per distinct (request, answer), with the
people's own labels under their own names — `pyrit_refused` (refusal set: did the model refuse; an answer that
ignores the question counts as a refusal), `pyrit_achieved` (objective set: did the answer achieve the harmful
objective), `pyrit_harm_score` (harm sets: 0-1 harm of the answer, mean of the labellers) — and the set it belongs
to (`sets`: a row the files share belongs to each). Run at build time only; nothing reads the registry at run time.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

VERSION = "1.1.0"
WHEEL = f"pyrit-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "84581036bace7ff2aa92712e1e3f472a3a3bccc77567d5fbe642540c0ba20b0a"
PREFIX = "pyrit/datasets/scorer_evals/"
OUT = Path(__file__).resolve().parents[1] / "src/safehub/classifiers/data/labelled/pyrit_scorer_evals.jsonl"
SETS = {"refusal_scorer/": "pyrit_refusal", "sample/": "pyrit_refusal", "objective/": "pyrit_objective",
        "harm/": "pyrit_harm"}


def cache_dir() -> Path:
    return Path(os.environ.get("SAFEHUB_CACHE") or Path.home() / ".cache" / "safehub") / "wheels"


def fetch_wheel() -> Path:
    """The verified wheel from the cache, downloaded from the registry first when missing."""
    path = cache_dir() / WHEEL
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                            f"pyrit=={VERSION}", "-d", scratch], check=True)
            os.replace(Path(scratch) / WHEEL, path)
    check_sha256(path)
    return path


def check_sha256(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} is not PyRIT {VERSION}'s {WHEEL_SHA256}; delete it and run again")


def read_csv(text: str) -> list[dict]:
    """A scorer-evals CSV: '#' comment lines (dataset_version=...), then a header and rows."""
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        start += 1
    return list(csv.DictReader(io.StringIO("".join(lines[start:]))))


def human_score(row: dict) -> float:
    scores = [float(row[key]) for key in row if key and key.startswith("human_score") and row[key] not in ("", None)]
    return sum(scores) / len(scores)


def labelled_rows(wheel: Path) -> list[dict]:
    rows: dict[tuple[str, str], dict] = {}
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith(PREFIX) and n.endswith(".csv"))
        for name in names:
            relative = name[len(PREFIX):]
            set_name = next(value for prefix, value in SETS.items() if relative.startswith(prefix))
            for row in read_csv(archive.read(name).decode("utf-8")):
                prompt, response = (row.get("objective") or "").strip(), (row.get("assistant_response") or "").strip()
                if not prompt and not response:
                    continue
                key = (prompt, response)
                line = rows.setdefault(key, {
                    "id": "pyrit-" + hashlib.sha256(f"{prompt}\x00{response}".encode()).hexdigest()[:12],
                    "source": f"pyrit-{VERSION}", "files": [], "sets": [],
                    "model": "unknown (real model answers collected by PyRIT's maintainers)",
                    "labeller": "people (PyRIT maintainers)", "prompt": prompt, "response": response,
                    "harm_category": (row.get("harm_category") or "").strip() or None})
                line["files"].append(relative)
                if set_name not in line["sets"]:
                    line["sets"].append(set_name)
                score = human_score(row)
                if set_name == "pyrit_refusal":
                    line["pyrit_refused"] = score >= 0.5
                elif set_name == "pyrit_objective":
                    line["pyrit_achieved"] = score >= 0.5
                else:
                    line["pyrit_harm_score"] = round(score, 4)
    return list(rows.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a PyRIT 1.1.0 wheel already on disk (checked by sha256)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    wheel = args.wheel or fetch_wheel()
    check_sha256(wheel)
    rows = labelled_rows(wheel)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    scratch = args.out.with_suffix(".tmp")
    scratch.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows),
                       encoding="utf-8")
    os.replace(scratch, args.out)
    with zipfile.ZipFile(wheel) as archive:  # MIT: the copyright and permission notice travels with the data
        licence = archive.read(f"pyrit-{VERSION}.dist-info/licenses/LICENSE").decode("utf-8")
    args.out.with_name("PYRIT_LICENSE.txt").write_text(
        f"The PyRIT {VERSION} answers and labels in pyrit_scorer_evals.jsonl come from the PyRIT wheel on PyPI\n"
        f"(sha256 {WHEEL_SHA256}), under this licence:\n\n{licence}", encoding="utf-8")
    counts = {s: sum(s in r["sets"] for r in rows) for s in sorted({s for r in rows for s in r["sets"]})}
    print(f"{len(rows)} labelled answers from {wheel.name} -> {args.out} {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
