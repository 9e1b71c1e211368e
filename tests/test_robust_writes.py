"""Writes that must land where they belong and nowhere else.

Every writer (sidecars, exports, backups, reports, plots, log files) is attacked the way a
local attacker or a careless user would: a symlink planted at the temporary name the writer
used to pick (``.<name>.partial-<pid>``, ``<report>.tmp``, ``<backup>.partial``) or at the
target itself, pointing at a file of the user's (the victim), which must come out of the run
byte-identical. Sidecars never land outside ``--out`` (Windows paths from import-legacy, a
symlinked folder inside ``--out``); an export never replaces the database it reads; a report
run never deletes a user's file that merely carries a report's name; killed backups' leftovers
are cleaned by the next backup.
"""
from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import time
from datetime import datetime
from pathlib import Path

import pytest

from exifdata_analytics import export, maintenance, safe_files
from exifdata_analytics.cli import statistic
from tests.conftest import PROJECT_DIR
from tests.robust_support import db_rows, run_measured, tree_snapshot, write_config, write_images
from tests.test_analysis import build_small_db

VICTIM_TEXT = b"the user's own file: must never change\n"


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim" / "precious.txt"
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.write_bytes(VICTIM_TEXT)
    return victim


def _assert_intact(victim: Path) -> None:
    assert victim.read_bytes() == VICTIM_TEXT, "the planted link was written through"


@pytest.fixture
def indexed(tmp_path) -> tuple[Path, Path, Path]:
    """(images folder, database, config) indexed by the real DB_filler.py."""
    root = tmp_path / "images"
    write_images(root, 3)
    db, config = tmp_path / "idx.db", write_config(tmp_path)
    run = run_measured("DB_filler.py", str(root), "-y", "--db", str(db), "--config", str(config), "--no-progress",
                       tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    return root, db, config


def _db_tool(tmp_path: Path, db: Path, config: Path, *args: str):
    return run_measured("parameter_statistic_DB.py", "--db", str(db), "--config", str(config), "--no-progress", *args,
                        tmp_path=tmp_path)


# -- 3. planted symlinks ---------------------------------------------------------------------

def test_a_link_planted_at_the_old_sidecar_temporary_name_is_never_written_through(indexed, tmp_path):
    root, db, _ = indexed
    victim = _victim(tmp_path)
    for image in root.glob("*.png"):  # the name the writer used to pick: .<img>.json.partial-<pid>
        os.symlink(victim, image.with_name(f".{image.name}.json.partial-{os.getpid()}"))
    con = maintenance.open_database(db)
    try:
        result = export.export_sidecars(con, "")
    finally:
        con.close()
    _assert_intact(victim)
    assert result.written == 3 and result.failed == 0
    for image in root.glob("*.png"):
        assert Path(str(image) + ".json").is_file() and not Path(str(image) + ".json").is_symlink()


def test_a_link_at_a_sidecar_name_is_refused_not_followed(indexed, tmp_path):
    root, db, config = indexed
    victim = _victim(tmp_path)
    link = root / "img_0.png.json"
    os.symlink(victim, link)
    run = _db_tool(tmp_path, db, config, "export-sidecars", "--force")
    _assert_intact(victim)
    assert link.is_symlink() and os.readlink(link) == str(victim)  # left as it was
    assert run.returncode == 1 and "symbolic link" in run.stdout, run.stdout
    assert (root / "img_1.png.json").is_file()


def test_an_export_never_writes_through_a_planted_temporary_or_target(indexed, tmp_path):
    _, db, config = indexed
    victim = _victim(tmp_path)
    out = tmp_path / "out" / "all.json"
    out.parent.mkdir()
    os.symlink(victim, out.with_name(f".all.json.partial-{os.getpid()}"))
    con = maintenance.open_database(db)
    try:
        export.export_file(con, out, "")
    finally:
        con.close()
    _assert_intact(victim)
    assert len(__import__("json").loads(out.read_text(encoding="utf-8"))) == 3
    # a link at the target's own name: refused with --force too, left in place
    target = tmp_path / "out" / "linked.csv"
    os.symlink(victim, target)
    run = _db_tool(tmp_path, db, config, "export", str(target), "--force")
    _assert_intact(victim)
    assert run.returncode == 1 and "symbolic link" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".partial")]


def test_a_backup_never_creates_or_writes_a_file_through_a_planted_link(indexed, tmp_path):
    _, db, _ = indexed
    backups = tmp_path / "backups"
    backups.mkdir()
    now = datetime(2024, 5, 1, 12, 0, 0)
    victim = tmp_path / "victim" / "created_through_the_link.db"
    victim.parent.mkdir()
    # the earlier fixed names: <target>.partial (dangling: it would be created through), and the target
    os.symlink(victim, backups / "idx_backup_20240501_120000.db.partial")
    result = maintenance.backup_database(db, backups, now=now)
    assert not victim.exists()
    assert Path(result.backup_path).is_file() and not Path(result.backup_path).is_symlink()
    assert db_rows(Path(result.backup_path), "SELECT COUNT(*) AS n FROM images")[0]["n"] == 3
    mine = _victim(tmp_path)
    os.symlink(mine, backups / "idx_backup_20240501_120001.db")
    second = maintenance.backup_database(db, backups, now=datetime(2024, 5, 1, 12, 0, 1))
    _assert_intact(mine)
    assert second.backup_path.endswith("idx_backup_20240501_120001_2.db")


def test_reports_plots_and_the_log_never_write_through_planted_links(tmp_path):
    database = build_small_db(tmp_path / "small.db")
    victim = _victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    os.symlink(victim, out / "keyword_analysis.txt.tmp")  # the report writer's fixed temporary name
    os.symlink(victim, out / "Sampler_counts.png")  # a plot's own name
    os.symlink(victim, logs / statistic.LOG_NAME)  # the log file
    config = write_config(tmp_path, logging_dir=logs)
    run = run_measured("parameter_statistic.py", "-y", "--db", str(database), "--out", str(out), "--config",
                       str(config), "--keywords", "cat", "--workers", "1", tmp_path=tmp_path)
    _assert_intact(victim)
    assert run.returncode == 1 and "Sampler_counts.png" in run.stderr and "symbolic link" in run.stderr, run.stderr
    assert "cannot write logs" in run.stderr  # said once; the run goes on without its log
    assert (out / "keyword_analysis.txt").read_text(encoding="utf-8").startswith("Keyword: cat")
    (out / "Sampler_counts.png").unlink()
    run = run_measured("parameter_statistic.py", "-y", "--db", str(database), "--out", str(out), "--config",
                       str(config), "--keywords", "cat", "--workers", "1", tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    _assert_intact(victim)
    assert not [p.name for p in out.iterdir() if p.name.endswith(".partial")]


# -- 8. sidecars outside --out ------------------------------------------------------------------

def _legacy_db_with_windows_paths(path: Path) -> Path:
    from tests.test_legacy import LEGACY_SCHEMA

    con = sqlite3.connect(path)
    con.execute(LEGACY_SCHEMA)
    for i, folder in enumerate(("C:\\Users\\me\\ai\\day1", "C:\\Users\\me\\ai\\day2", "C:\\Users\\me\\ai")):
        con.execute("INSERT INTO file_metadata VALUES (?, ?, ?, ?, ?)",
                    (f"img{i}.png", f"{folder}\\img{i}.png", 1700000000.0 + i,
                     f"parameters: a cat {i}\nsteps: 20, sampler: euler a, cfg scale: 7, seed: {i}", ""))
    con.commit()
    con.close()
    return path


def test_sidecars_of_windows_paths_stay_under_out(tmp_path):
    legacy = _legacy_db_with_windows_paths(tmp_path / "old.db")
    db, config = tmp_path / "new.db", write_config(tmp_path)
    run = _db_tool(tmp_path, db, config, "import-legacy", str(legacy))
    assert run.returncode == 0, run.stderr
    work = tmp_path / "work"
    out = work / "sidecars"
    out.mkdir(parents=True)
    before = tree_snapshot(work)
    run = _db_tool(tmp_path, db, config, "export-sidecars", "--out", str(out), "--all")
    assert run.returncode == 0, run.stdout + run.stderr
    after = tree_snapshot(work)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert all(k == b"." or k == b"sidecars" or k.startswith(b"sidecars" + os.sep.encode()) for k in changed), changed
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert written == ["day1/img0.png.json", "day2/img1.png.json", "img2.png.json"]
    # beside the images: not paths of this machine (and never resolved against the current folder)
    run = _db_tool(tmp_path, db, config, "export-sidecars", "--all")
    assert run.returncode == 0 and "image file missing (skipped):" in run.stdout, run.stdout
    assert " 3\n" in run.stdout.split("image file missing (skipped):")[1][:20]
    assert not list(PROJECT_DIR.glob("C:*"))


def test_a_symlinked_folder_inside_out_cannot_lead_sidecars_out(indexed, tmp_path):
    root, db, config = indexed
    write_images(root / "sub", 1)
    run = run_measured("DB_filler.py", str(root), "-r", "-y", "--db", str(db), "--config", str(config),
                       "--no-progress", tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(elsewhere, out / "sub")  # planted where a mirrored folder will go
    run = _db_tool(tmp_path, db, config, "export-sidecars", "--out", str(out))
    assert list(elsewhere.iterdir()) == []
    assert run.returncode == 1 and "outside" in run.stdout, run.stdout
    assert (out / "img_0.png.json").is_file() and not (out / "sub" / "img_0.png.json").exists()


# -- 10. the smaller ones -----------------------------------------------------------------------

def test_an_export_never_replaces_the_database_it_reads(indexed, tmp_path):
    _, db, config = indexed
    named_like_an_export = tmp_path / "data.json"
    os.replace(db, named_like_an_export)
    digest = hashlib.sha256(named_like_an_export.read_bytes()).hexdigest()
    link = tmp_path / "link.json"
    os.symlink(named_like_an_export, link)
    for target in (named_like_an_export, link):
        run = _db_tool(tmp_path, named_like_an_export, config, "export", str(target), "--force")
        assert run.returncode == 1 and "is the database being exported" in run.stderr, run.stderr
    assert db_rows(named_like_an_export, "SELECT COUNT(*) AS n FROM images")[0]["n"] == 3
    con = sqlite3.connect(named_like_an_export)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert hashlib.sha256(named_like_an_export.read_bytes()).hexdigest() == digest


def _report_run(monkeypatch, capsys, database: Path, out: Path, config: Path, *extra: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = statistic.main(["--config", str(config), "-y", "--db", str(database), "--out", str(out), "--workers",
                           "1", "--no-plots", *extra])
    capsys.readouterr()
    return code


def test_a_report_run_removes_only_what_an_earlier_run_of_ours_wrote(monkeypatch, capsys, tmp_path):
    database = build_small_db(tmp_path / "small.db")
    config = write_config(tmp_path)
    mine = tmp_path / "out"
    mine.mkdir()
    (mine / "comparison.txt").write_text("my own notes, named like a report\n", encoding="utf-8")
    (mine / "keyword_counts.png").write_bytes(b"my own picture")
    assert _report_run(monkeypatch, capsys, database, mine, config) == 0
    assert (mine / "comparison.txt").read_text(encoding="utf-8") == "my own notes, named like a report\n"
    assert (mine / "keyword_counts.png").read_bytes() == b"my own picture"
    # what a run of ours wrote is still tidied away when the next run does not write it
    ours = tmp_path / "ours"
    assert _report_run(monkeypatch, capsys, database, ours, config, "--compare", "generator=A1111",
                       "generator=ComfyUI") == 0
    assert (ours / "comparison.txt").is_file()
    assert _report_run(monkeypatch, capsys, database, ours, config) == 0
    assert not (ours / "comparison.txt").exists()
    # …unless the user changed it meanwhile: then it is theirs
    assert _report_run(monkeypatch, capsys, database, ours, config, "--compare", "generator=A1111",
                       "generator=ComfyUI") == 0
    with open(ours / "comparison.txt", "a", encoding="utf-8") as fh:
        fh.write("my remark\n")
    assert _report_run(monkeypatch, capsys, database, ours, config) == 0
    assert (ours / "comparison.txt").read_text(encoding="utf-8").endswith("my remark\n")


def test_the_next_backup_removes_what_killed_backups_left(indexed, tmp_path):
    _, db, _ = indexed
    backups = tmp_path / "backups"
    backups.mkdir()
    old = time.time() - 2 * getattr(maintenance, "STALE_PARTIAL_SECONDS", 3600)
    leftovers = [backups / "idx_backup_20240101_000000.db.partial",  # the earlier versions' name
                 backups / safe_files.temporary_name("idx_backup_20240102_000000.db")]
    for path in leftovers:
        path.write_bytes(b"\0" * 65536)
        os.utime(path, (old, old))
    (backups / f"{leftovers[1].name}-journal").write_bytes(b"\0" * 512)
    fresh = backups / safe_files.temporary_name("idx_backup_20240103_000000.db")  # a backup running now
    fresh.write_bytes(b"\0" * 100)
    other = backups / safe_files.temporary_name("photos_backup_20240101_000000.db")  # another database's
    other.write_bytes(b"x")
    os.utime(other, (old, old))
    unrelated = backups / "notes.partial"
    unrelated.write_bytes(b"x")
    os.utime(unrelated, (old, old))
    maintenance.backup_database(db, backups)
    names = {p.name for p in backups.iterdir()}
    assert not any(p.name in names for p in leftovers) and f"{leftovers[1].name}-journal" not in names
    assert {fresh.name, other.name, unrelated.name} <= names
    assert len([n for n in names if n.endswith(".db") and n.startswith("idx_backup_")]) == 1
