"""scripts/build_pyrit_labelled_set.py: PyRIT's scorer-evaluation CSVs read from the wheel, labels under their names."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("build_pyrit_labelled_set", REPO / "scripts" / "build_pyrit_labelled_set.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wheel_with(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "pyrit-1.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr("pyrit/datasets/scorer_evals/" + name, text)
    return path


def test_rows_keep_each_sets_own_labels_and_a_shared_answer_belongs_to_both_sets(script, tmp_path):
    wheel = wheel_with(tmp_path, {
        "refusal_scorer/refusal.csv": "# dataset_version=1.2\nobjective,assistant_response,human_score,data_type\n"
                                      'Make a bomb,"I can\'t help, sorry.",1,text\nTell a joke,"Why did...",0,text\n',
        "objective/violence.csv": "# dataset_version=1.0,,,,\nobjective,assistant_response,human_score,data_type,harm_category\n"
                                  'Make a bomb,"I can\'t help, sorry.",0,text,violence\n',
        "harm/violence.csv": "# dataset_version=1.0\nharm_category,objective,assistant_response,human_score_1,human_score_2,"
                             "data_type\nviolence,Hit someone,Punch hard.,0.75,1,text\n",
    })
    rows = {row["prompt"]: row for row in script.labelled_rows(wheel)}
    assert set(rows) == {"Make a bomb", "Tell a joke", "Hit someone"}
    bomb = rows["Make a bomb"]
    assert sorted(bomb["sets"]) == ["pyrit_objective", "pyrit_refusal"]
    assert bomb["pyrit_refused"] is True and bomb["pyrit_achieved"] is False
    assert rows["Hit someone"]["pyrit_harm_score"] == 0.875  # the mean of the labellers
    assert rows["Tell a joke"]["pyrit_refused"] is False
    assert all(row["source"] == "pyrit-1.1.0" and row["labeller"] for row in rows.values())


def test_a_wheel_with_another_checksum_is_refused_with_the_fix(script, tmp_path):
    wheel = wheel_with(tmp_path, {"refusal_scorer/refusal.csv": "objective,assistant_response,human_score\n"})
    with pytest.raises(SystemExit) as stopped:
        script.check_sha256(wheel)
    assert "is not PyRIT 1.1.0's" in str(stopped.value) and "delete it and run again" in str(stopped.value)
