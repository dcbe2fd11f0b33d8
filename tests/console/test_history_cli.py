"""The console's history options and `clocktui history`: files, tables, JSON, errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from clocktui.cli import main
from clocktui.storage import default_db_path

ROOT = Path(__file__).parent.parent.parent
APPS = ROOT / "tests" / "apps"
TARGET = "history_app:app"


def clocktui(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clocktui", *args, "--app-dir", str(APPS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TZ": "UTC", **env},
    )


def run_count(path: Path) -> int:
    """Finished runs in the file."""
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM runs WHERE outcome IS NOT NULL").fetchone()
    db.close()
    return int(count)


@pytest.fixture(scope="module")
def served_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history file after one headless session of the fixture app (greet, explode)."""
    path = tmp_path_factory.mktemp("served") / "runs.sqlite3"
    result = clocktui(TARGET, "--headless", "--db", str(path))
    assert result.returncode == 0, result.stderr
    return path


def history(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["history", TARGET, *args, "--app-dir", str(APPS)])
    out, err = capsys.readouterr()
    return code, out, err


def test_db_keeps_the_runs_of_a_headless_session(served_db: Path) -> None:
    assert run_count(served_db) == 2


def test_a_headless_sessions_history_is_plain_sql(served_db: Path) -> None:
    with sqlite3.connect(f"{served_db.resolve().as_uri()}?mode=ro", uri=True) as db:
        runs = db.execute(
            "SELECT task_name, outcome, started_at, result FROM runs ORDER BY task_name"
        ).fetchall()
        logged = db.execute(
            "SELECT r.task_name, l.level, l.message FROM run_logs AS l "
            "JOIN runs AS r USING (run_id) WHERE r.task_name = 'greet'"
        ).fetchall()
    db.close()
    assert [(name, outcome, result) for name, outcome, _, result in runs] == [
        ("explode", "failed", None),
        ("greet", "succeeded", "'greeted 3'"),
    ]
    assert all(datetime.fromisoformat(started).tzinfo for _, _, started, _ in runs)
    assert logged == [("greet", "INFO", "greeting 3 people")]


def test_history_json_has_the_runs_result_and_logs(
    served_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = history(capsys, "greet", "--db", str(served_db), "--json")
    (run,) = json.loads(out)
    assert code == 0 and run["result"] == "'greeted 3'"
    assert [(line["level"], line["message"]) for line in run["logs"]] == [
        ("INFO", "greeting 3 people")
    ]


def test_the_default_file_is_per_app_under_xdg_data_home(tmp_path: Path) -> None:
    result = clocktui(TARGET, "--headless", XDG_DATA_HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert run_count(tmp_path / "clocktui" / "history-fixture.sqlite3") == 2


def test_no_history_writes_no_file(tmp_path: Path) -> None:
    result = clocktui(TARGET, "--headless", "--no-history", XDG_DATA_HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "clocktui").exists()


def test_an_app_with_its_own_store_keeps_it_and_refuses_db(tmp_path: Path) -> None:
    own = tmp_path / "own.sqlite3"
    result = clocktui("history_own_store:app", "--headless", HISTORY_DB=str(own))
    assert result.returncode == 0 and run_count(own) == 1
    result = clocktui("history_own_store:app", "--headless", "--db", str(tmp_path / "x"))
    assert result.returncode == 2
    assert result.stderr.startswith("clocktui: error: --db cannot apply: the app sets its own")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"garbage " * 200, "is corrupt (file is not a database)"),
        (None, "is not an aioclock history database (it has tables: orders, users)"),
    ],
    ids=["corrupt", "foreign"],
)
def test_a_bad_file_gives_one_line_and_exit_2(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "history.sqlite3"
    if content is None:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE users (id INTEGER)")
            db.execute("CREATE TABLE orders (id INTEGER)")
        db.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    for args in ([TARGET, "--headless", "--db", str(path)], ["history", TARGET, "--db", str(path)]):
        result = clocktui(*args)
        assert result.returncode == 2
        assert result.stderr.startswith(f"clocktui: error: {path} {message}")
        assert len(result.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == before


def test_history_prints_an_aligned_table_newest_first(
    served_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = history(capsys, "--db", str(served_db))
    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header.split() == ["STARTED", "TASK", "OUTCOME", "DURATION", "ERROR"]
    assert len(rows) == 2
    for row in rows:  # started, in the machine's zone, to the second
        datetime.strptime(row[:19], "%Y-%m-%d %H:%M:%S")
    columns = [header.index(title) for title in ("TASK", "OUTCOME", "DURATION", "ERROR")]
    explode = next(row for row in rows if "explode" in row)
    assert explode[columns[0] :].startswith("explode")
    assert explode[columns[1] :].startswith("failed")
    assert explode[columns[3] :] == "ValueError: boom: row 7 is bad"


def test_history_of_one_task_as_json(served_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = history(capsys, "explode", "--db", str(served_db), "--json")
    (run,) = json.loads(out)
    assert code == 0
    assert (run["task_name"], run["outcome"], run["error_type"]) == (
        "explode",
        "failed",
        "ValueError",
    )
    assert run["started_at"].endswith("+00:00") and "Traceback" in run["traceback"]


def test_history_takes_a_task_id_and_a_limit(
    served_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.apps.history_app import app

    greet = next(task for task in app.tasks if task.name == "greet")
    code, out, _ = history(capsys, str(greet.id), "--db", str(served_db), "--json")
    assert code == 0 and [run["task_name"] for run in json.loads(out)] == ["greet"]
    code, out, _ = history(capsys, "--db", str(served_db), "--json", "--limit", "1")
    assert len(json.loads(out)) == 1


def test_history_does_not_start_the_scheduler(
    served_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history(capsys, "--db", str(served_db))
    assert run_count(served_db) == 2


def test_an_unknown_task_lists_close_names_and_exits_2(
    served_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = history(capsys, "explod", "--db", str(served_db))
    assert (code, out) == (2, "")
    assert err == (
        "clocktui: error: The app 'history-fixture' has no task 'explod'; did you mean 'explode'?\n"
    )


def test_history_without_a_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = history(capsys, "--db", str(tmp_path / "none.sqlite3"))
    assert code == 2 and err.startswith("clocktui: error: No history database at ")


def test_history_reads_the_default_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path("history-fixture") == tmp_path / "clocktui" / "history-fixture.sqlite3"
    code, _, err = history(capsys)
    assert code == 2 and str(default_db_path("history-fixture")) in err


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("billing", "billing.sqlite3"),
        ("my app/v2", "my_app_v2.sqlite3"),
        ("..", "aioclock.sqlite3"),
    ],
)
def test_default_file_names_are_safe(
    name: str, file: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path(name) == tmp_path / "clocktui" / file
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_db_path(name) == Path.home() / ".local" / "share" / "clocktui" / file


def test_history_that_cannot_be_written_is_reported_once_and_the_exit_code_says_so(
    tmp_path: Path,
) -> None:
    result = clocktui("history_unwritable:app", "--headless", UNWRITABLE_DIR=str(tmp_path))
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("Cannot write history to") == 1  # said once, not per batch
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("clocktui: ") and "history records could not be written" in last
    assert "readonly" in last and "check that the file and its folder are writable" in last
