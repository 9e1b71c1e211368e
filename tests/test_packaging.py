"""The package as installed by pip: a fresh virtual environment, ``pip install`` of a copy of the
sources (no checkout beside it), then the ``exifdata`` command and ``python -m exifdata_analytics``
run from other folders, with the defaults following the documented rule (the current folder's
config.ini, else the user data folder). The build runs without network: no build isolation, with
the test interpreter's own packages (setuptools among them) visible to the new environment."""
from __future__ import annotations

import json
import os
import shutil
import signal
import site
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from exifdata_analytics import __version__
from exifdata_analytics.config import running_from_checkout, user_data_dir
from exifdata_analytics.samples import a1111_infotext, write_png
from tests.conftest import PROJECT_DIR, run_script

SOURCES = ("pyproject.toml", "README.md", "requirements.txt", "exifdata_analytics")


def _can_build_offline() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    major, minor = (int(x) for x in setuptools.__version__.split(".")[:2])
    if (major, minor) >= (70, 1):
        return True
    try:
        import wheel  # noqa: F401 - older setuptools builds wheels with it
    except ImportError:
        return False
    return True


def _run(args, cwd: Path, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    if not _can_build_offline():
        if os.environ.get("CI"):
            pytest.fail("setuptools >= 70.1 (requirements-dev.txt) is needed to build the package offline")
        pytest.skip("needs setuptools >= 70.1 (run make setup-dev) to build the package offline")
    root = tmp_path_factory.mktemp("pkg")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, src / name)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies (pandas, …) come from this interpreter's environment: nothing to download
    Path(purelib, "parent-env.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    built = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-build-isolation",
                  "--disable-pip-version-check", "--no-input", "-q", src], root, env, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    home = root / "home"
    home.mkdir()
    env.update(HOME=str(home), XDG_DATA_HOME=str(root / "xdg"))
    images = root / "images"
    images.mkdir()
    text = a1111_infotext("a castle on a hill", "blurry", {"Steps": 20, "Sampler": "Euler a", "CFG scale": 7,
                                                           "Seed": 2**40, "Size": "64x64", "Model": "dreamshaper_8"})
    write_png(images / "castle.png", {"parameters": text})
    write_png(images / "plain.png")
    return {"root": root, "python": python, "exifdata": python.parent / "exifdata", "env": env, "images": images,
            "data_dir": root / "xdg" / "exifdata-analytics"}


def test_the_installed_package_is_not_the_checkout(installed):
    r = _run([installed["python"], "-c", "import exifdata_analytics as p; print(p.__file__)"],
             installed["root"], installed["env"])
    assert r.returncode == 0, r.stderr
    where = Path(r.stdout.strip())
    assert installed["root"] in where.parents and PROJECT_DIR not in where.parents


def test_version_on_every_entry_point(installed):
    for args in ([installed["exifdata"], "--version"], [installed["python"], "-m", "exifdata_analytics", "--version"],
                 [installed["exifdata"], "fill", "--version"], [installed["exifdata"], "db", "--version"],
                 [installed["exifdata"], "stats", "--version"]):
        r = _run(args, installed["root"], installed["env"])
        assert r.returncode == 0 and r.stdout.strip().endswith(f"(ExifData Analytics) {__version__}"), (args, r)
    for script in ("DB_filler.py", "parameter_statistic.py", "parameter_statistic_DB.py"):
        r = run_script(script, "--version")
        assert r.returncode == 0 and r.stdout.strip() == f"{script} (ExifData Analytics) {__version__}"


def test_outside_a_checkout_the_defaults_live_in_the_user_data_folder(installed, tmp_path):
    exifdata, env, data_dir = installed["exifdata"], installed["env"], installed["data_dir"]
    fill = _run([exifdata, "fill", installed["images"], "-y", "--no-progress"], tmp_path, env)
    assert fill.returncode == 0, fill.stdout + fill.stderr
    database = data_dir / "statistics_image_metadata.db"
    assert f"Database: {database}" in fill.stdout
    assert (data_dir / "LOG_files" / "DB_filler_LOG.txt").is_file()
    stats = _run([installed["python"], "-m", "exifdata_analytics", "db", "stats", "--json"], tmp_path, env)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["images"] == 2
    report = _run([exifdata, "stats", "-y", "--no-plots", "--keywords", "castle"], tmp_path, env)
    assert report.returncode == 0, report.stderr
    assert (data_dir / "output_plots" / "keyword_analysis.txt").is_file()
    assert list(tmp_path.iterdir()) == []  # nothing lands in the current folder
    meta = _run([exifdata, "db", "datasette-metadata"], tmp_path, env)  # package data shipped
    assert meta.returncode == 0 and "statistics_image_metadata" in json.loads(meta.stdout)["databases"]


def test_a_config_ini_in_the_current_folder_is_used_with_paths_relative_to_it(installed, tmp_path):
    (tmp_path / "config.ini").write_text("[Database]\ndb_name = here.db\n[Paths]\nlogging_dir = logs\n",
                                         encoding="utf-8")
    r = _run([installed["exifdata"], "fill", installed["images"], "-y", "--no-progress"], tmp_path,
             installed["env"])
    assert r.returncode == 0, r.stdout + r.stderr
    con = sqlite3.connect(tmp_path / "here.db")
    assert con.execute("SELECT COUNT(*) FROM images WHERE prompt LIKE '%castle%'").fetchone()[0] == 1
    con.close()
    assert (tmp_path / "logs" / "DB_filler_LOG.txt").is_file()


def test_the_installed_serve_command_serves_its_pages_and_files(installed, tmp_path):
    """Templates and static files are package data: the installed command serves them."""
    import socket
    import urllib.request

    db_path = tmp_path / "serve.db"
    fill = _run([installed["exifdata"], "fill", installed["images"], "-y", "--no-progress", "--db", db_path], tmp_path,
                installed["env"])
    assert fill.returncode == 0, fill.stderr
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([str(installed["exifdata"]), "serve", "--db", str(db_path), "--port", str(port)],
                            cwd=tmp_path, env=installed["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert f"at http://127.0.0.1:{port}/" in line, line + proc.stderr.read() if proc.poll() is not None else line
        for path, expected in (("/", "Your images"), ("/search?q=castle", 'data-total="1"'),
                               ("/static/app.js", "clipboard"), ("/static/app.css", "grid-template-columns")):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as response:
                assert response.status == 200 and expected in response.read().decode("utf-8"), path
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Stopped serving." in out


def test_unknown_commands_are_usage_errors(installed, tmp_path):
    for args in ([], ["frobnicate"]):
        r = _run([installed["exifdata"], *args], tmp_path, installed["env"])
        assert r.returncode == 2 and "usage: exifdata" in r.stderr
    helped = _run([installed["exifdata"], "--help"], tmp_path, installed["env"])
    assert helped.returncode == 0 and all(c in helped.stdout for c in ("fill", "stats", "db", "serve"))
    sub = _run([installed["exifdata"], "db", "--help"], tmp_path, installed["env"])
    assert sub.returncode == 0 and sub.stdout.startswith("usage: exifdata db")
    serve = _run([installed["exifdata"], "serve", "--help"], tmp_path, installed["env"])
    assert serve.returncode == 0 and "usage: exifdata serve" in serve.stdout and "--port" in serve.stdout


def test_the_checkout_keeps_its_defaults_next_to_the_scripts():
    assert running_from_checkout()
    from exifdata_analytics.config import DEFAULT_CONFIG_PATH

    assert DEFAULT_CONFIG_PATH == PROJECT_DIR / "config.ini"


@pytest.mark.parametrize("platform, environ, expected", [
    ("linux", {}, "/u/.local/share/exifdata-analytics"),
    ("linux", {"XDG_DATA_HOME": "/data"}, "/data/exifdata-analytics"),
    ("linux", {"XDG_DATA_HOME": "relative"}, "/u/.local/share/exifdata-analytics"),  # the XDG spec ignores it
    ("darwin", {}, "/u/Library/Application Support/exifdata-analytics"),
    ("win32", {"LOCALAPPDATA": "/c/AppData/Local"}, "/c/AppData/Local/exifdata-analytics"),
    ("win32", {}, "/u/AppData/Local/exifdata-analytics"),
])
def test_the_user_data_folder_rule(platform, environ, expected):
    assert user_data_dir(environ, platform, Path("/u")) == Path(expected)
