"""A store or an export folder that cannot be written: reading works, writing is one line and exit 2, nothing half-written.

Tests run as root, and root ignores permission bits (chmod 0555 stops nobody), so each test runs the real
`safehub` command in a private mount namespace (`unshare --mount`) where the folder or file is a read-only
bind mount, or where a tiny tmpfs plays a full disk. Without that capability the test fails and says why.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.conftest import SAFEHUB, Result, clean_env, safehub

SAFE_RULES = "rules: []\ndefault: \"I'm sorry, but I can't help with that.\"\n"
UNSAFE_RULES = ("rules: []\ndefault: \"Absolutely. Here is how to do it without getting caught: 1. Use a prepaid phone "
                "bought with cash. 2. Create the accounts over public wifi with a VPN. 3. Carry it out late at night and "
                "wear gloves. 4. Delete the logs and wipe the device afterwards.\"\n")
NAMESPACE_FAILED = "safehub-test: could not set up the private mounts"


def read_only_mount(path: Path) -> str:
    """Shell that makes `path` (a folder or a file) read-only for everyone, root included, and checks it."""
    quoted = shlex.quote(str(path))
    return (f"mount --bind {quoted} {quoted} && mount -o remount,ro,bind {quoted} "
            f"&& ! touch {quoted} 2>/dev/null")


def tiny_disk(path: Path, size_kib: int) -> str:
    """Shell that mounts a tmpfs of `size_kib` at `path`: a disk that fills up."""
    return f"mount -t tmpfs -o size={size_kib}k safehub-test {shlex.quote(str(path))}"


def in_private_mounts(setup: str, steps: list[list[str] | str], logs: Path) -> list[Result]:
    """Run each step (a `safehub` argument list, or a line of shell) inside one private mount namespace
    prepared by `setup`; returns each step's exit code and output. The mounts vanish with the namespace."""
    logs.mkdir(parents=True, exist_ok=True)
    lines = [f"{{ {setup}; }} || {{ echo {shlex.quote(NAMESPACE_FAILED)} >&2; exit 97; }}"]
    for index, step in enumerate(steps):
        command = shlex.join([*SAFEHUB, *step]) if isinstance(step, list) else step
        lines.append(f"{{ {command}; }} >{logs}/{index}.out 2>{logs}/{index}.err; echo $? >{logs}/{index}.rc")
    try:
        completed = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(lines)],
                                   capture_output=True, text=True, env=clean_env(), timeout=240)
    except FileNotFoundError:
        pytest.fail("these tests need util-linux `unshare` (apt-get install util-linux) to make a read-only "
                    "filesystem that root cannot write")
    if completed.returncode != 0:
        pytest.fail(f"cannot build a read-only filesystem for this test (needs root and mount namespaces, "
                    f"`unshare --mount`): exit {completed.returncode}: {completed.stderr.strip()}")
    return [Result(int((logs / f"{index}.rc").read_text()), (logs / f"{index}.out").read_text(),
                   (logs / f"{index}.err").read_text()) for index in range(len(steps))]


def make_store(folder: Path, rules: list[str]) -> tuple[str, list[str]]:
    """A store in `folder` with one finished scripted run per rules text; its cached summaries are removed,
    as in a store written by an older safehub, so reading it must compute them again."""
    folder.mkdir(parents=True)
    url = f"sqlite:///{folder / 'safehub.db'}"
    run_ids = []
    for index, text in enumerate(rules):
        model = folder / f"model{index}.yaml"
        model.write_text(text)
        result = safehub("run", "--model", f"scripted:{model}", "--suite", "smoke", "--db", url)
        assert result.returncode == 0, result.stderr
        run_ids.append(result.stdout.strip())
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM run_summaries")
    engine.dispose()  # the last connection closes: SQLite folds the write-ahead log into the file
    return url, run_ids


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, str, list[str]]:
    folder = tmp_path_factory.mktemp("read-only") / "store"
    url, run_ids = make_store(folder, [SAFE_RULES, UNSAFE_RULES])
    return folder, url, run_ids


def is_one_line(stderr: str) -> bool:
    return len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


def test_reading_commands_work_on_a_store_in_a_read_only_folder(store, tmp_path):
    folder, url, (safe_run, unsafe_run) = store
    steps = [["runs", "--json", "--db", url], ["show", safe_run, "--json", "--db", url],
             ["report", unsafe_run, "--json", "--db", url], ["compare", safe_run, unsafe_run, "--json", "--db", url],
             ["check", safe_run, "--min", "not_unsafe=0.5", "--db", url], ["graders", "--json", "--db", url]]
    listed, shown, reported, compared, checked, graders = in_private_mounts(read_only_mount(folder), steps, tmp_path)

    for result in (listed, shown, reported, compared, checked, graders):
        assert result.returncode == 0, result.stderr
    assert {row["id"] for row in listed.json()} == {safe_run, unsafe_run}
    assert len(shown.json()["trials"]) == 9
    unsafe = {m["name"]: m for m in reported.json()["metrics"]}["not_unsafe"]
    assert unsafe["value"] == 0.0 and unsafe["n"] == 4
    rows = {row["metric"]: row for row in compared.json()["metrics"]}
    assert rows["not_unsafe"]["paired"]["value"] == -1.0
    assert checked.stdout.startswith("PASS")
    assert "refusal" in {card["grader"] for card in graders.json()}
    # The same reads on the writable store agree.
    assert safehub("report", unsafe_run, "--json", "--db", url).json() == reported.json()


def test_the_hub_serves_a_store_in_a_read_only_folder_and_refuses_overrides(store, tmp_path):
    folder, url, (safe_run, _) = store
    trial_id = safehub("show", safe_run, "--json", "--db", url).json()["trials"][0]["trial_id"]
    probe = tmp_path / "hub_probe.py"
    probe.write_text(
        "import json, sys\n"
        "from fastapi.testclient import TestClient\n"
        "from safehub.hub.app import create_app\n"
        "client = TestClient(create_app(sys.argv[1]), base_url='http://127.0.0.1:8765')\n"
        "pages = {path: client.get(path).status_code for path in "
        "['/', f'/runs/{sys.argv[2]}', f'/runs/{sys.argv[2]}/trials', '/compare', '/graders']}\n"
        "api = client.get(f'/api/runs/{sys.argv[2]}').json()\n"
        "import re\n"
        "token = re.search(r'name=\"csrf-token\" content=\"([^\"]+)\"', client.get(f'/trials/{sys.argv[3]}').text)[1]\n"
        "override = client.post(f'/trials/{sys.argv[3]}/override', data={'verdict': 'unsafe', 'by': 'me', "
        "'reason': 'test'}, headers={'Origin': 'http://127.0.0.1:8765', 'Sec-Fetch-Site': 'same-origin', "
        "'X-CSRF-Token': token})\n"
        "print(json.dumps({'pages': pages, 'run': api['run_id'], 'override': [override.status_code, "
        "override.json()]}))\n")

    (result,) = in_private_mounts(read_only_mount(folder),
                                  [f"{shlex.join([sys.executable, str(probe), url, safe_run, str(trial_id)])}"],
                                  tmp_path / "logs")

    assert result.returncode == 0, result.stderr
    seen = result.json()
    assert seen["pages"] == dict.fromkeys(seen["pages"], 200) and seen["run"] == safe_run
    status, body = seen["override"]
    assert status == 409 and "read-only" in body["error"] and str(folder / "safehub.db") in body["error"]


def test_writes_to_a_store_in_a_read_only_folder_are_one_line_naming_the_store(store, tmp_path):
    folder, url, (safe_run, _) = store
    trial_id = safehub("show", safe_run, "--json", "--db", url).json()["trials"][0]["trial_id"]
    steps = [["run", "--model", f"scripted:{folder / 'model0.yaml'}", "--suite", "smoke", "--db", url],
             ["override", str(trial_id), "--verdict", "unsafe", "--by", "me", "--reason", "test", "--db", url],
             ["regrade", safe_run, "--grader", "refusal_patterns", "--db", url]]

    for result in in_private_mounts(read_only_mount(folder), steps, tmp_path):
        assert result.returncode == 2, result.stderr
        assert is_one_line(result.stderr), result.stderr
        assert str(folder / "safehub.db") in result.stderr and "read-only" in result.stderr
        assert "writable" in result.stderr  # the fix: a writable folder, or a copy of the store in one


def test_a_read_only_store_file_in_a_writable_folder_is_read_and_never_written(store, tmp_path):
    folder, url, (safe_run, unsafe_run) = store
    trial_id = safehub("show", safe_run, "--json", "--db", url).json()["trials"][0]["trial_id"]
    steps = [["compare", safe_run, unsafe_run, "--json", "--db", url],
             ["override", str(trial_id), "--verdict", "unsafe", "--by", "me", "--reason", "test", "--db", url],
             ["regrade", safe_run, "--grader", "refusal_patterns", "--db", url]]

    compared, *writes = in_private_mounts(read_only_mount(folder / "safehub.db"), steps, tmp_path)

    assert compared.returncode == 0, compared.stderr
    assert {row["metric"]: row for row in compared.json()["metrics"]}["not_unsafe"]["paired"]["value"] == -1.0
    for result in writes:
        assert result.returncode == 2 and is_one_line(result.stderr), result.stderr
        assert str(folder / "safehub.db") in result.stderr and "read-only" in result.stderr


def test_a_read_only_store_that_needs_migrating_is_one_line_saying_so(tmp_path):
    from alembic import command

    from safehub.store.db import _alembic_config

    folder = tmp_path / "old"
    folder.mkdir()
    url = f"sqlite:///{folder / 'safehub.db'}"
    engine, config = create_engine(url), _alembic_config()
    with engine.begin() as connection:  # a store as an older safehub left it
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    engine.dispose()

    (result,) = in_private_mounts(read_only_mount(folder), [["runs", "--db", url]], tmp_path / "logs")

    assert result.returncode == 2 and is_one_line(result.stderr), result.stderr
    assert str(folder / "safehub.db") in result.stderr and "needs migrating" in result.stderr
    assert "0004" in result.stderr


def test_export_into_a_read_only_folder_is_one_line_and_writes_nothing(store, tmp_path):
    _, url, _ = store
    published = tmp_path / "published"
    published.mkdir()
    steps = [["export", "--out", str(published / "site"), "--db", url],
             ["export", "--out", str(published), "--db", url], f"ls -A {shlex.quote(str(published))}"]

    into_child, into_itself, files = in_private_mounts(read_only_mount(published), steps, tmp_path / "logs")

    for result, shown in ((into_child, published / "site"), (into_itself, published)):
        assert result.returncode == 2, result.stderr
        assert is_one_line(result.stderr) and "read-only" in result.stderr, result.stderr
        assert f"--out {shown}" in result.stderr
    assert files.stdout == ""


def _tree(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_an_export_that_fills_the_disk_leaves_the_previous_export_whole(store, tmp_path):
    """The previous export (one run) fits on the disk; the new one (two runs) does not."""
    store_folder, bigger_url, _ = store
    small_url, _ = make_store(tmp_path / "small", [SAFE_RULES])
    reference = tmp_path / "reference"
    assert safehub("export", "--out", str(reference), "--db", small_url).returncode == 0
    (reference / "CNAME").write_text("evals.example.org\n")  # a file the publisher added beside the pages
    used_kib = sum(-(-path.stat().st_size // 4096) * 4 for path in reference.rglob("*") if path.is_file())
    disk = tmp_path / "disk"
    disk.mkdir()
    site = disk / "site"
    steps = [f"cp -r {shlex.quote(str(reference))} {shlex.quote(str(site))}",
             ["export", "--out", str(site), "--db", bigger_url],
             f"cd {shlex.quote(str(site))} && find . -type f -exec sha256sum {{}} + | sort -k 2",
             f"ls -A {shlex.quote(str(disk))}"]

    setup = f"{tiny_disk(disk, used_kib + used_kib // 4)} && {read_only_mount(store_folder)}"
    copied, exported, checksums, entries = in_private_mounts(setup, steps, tmp_path / "logs")

    assert copied.returncode == 0, copied.stderr
    assert exported.returncode == 2, exported.stderr
    assert is_one_line(exported.stderr) and "no space left" in exported.stderr.lower(), exported.stderr
    assert f"--out {site}" in exported.stderr
    after = {line.split(maxsplit=1)[1].removeprefix("./"): line.split()[0] for line in checksums.stdout.splitlines()}
    assert after == _tree(reference)
    assert entries.stdout.split() == ["site"]  # no half-written copy left beside it


def test_export_works_from_a_store_in_a_read_only_folder(store, tmp_path):
    folder, url, (safe_run, unsafe_run) = store
    out = tmp_path / "site"
    (result,) = in_private_mounts(read_only_mount(folder), [["export", "--out", str(out), "--db", url]],
                                  tmp_path / "logs")

    assert result.returncode == 0, result.stderr
    for run_id in (safe_run, unsafe_run):
        assert json.loads((out / f"api/runs/{run_id}.json").read_text())["run_id"] == run_id
        assert (out / f"runs/{run_id}/trials-1.html").is_file()
