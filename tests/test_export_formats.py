"""Exports for analysts, read back by the real readers: Parquet and CSV through pandas (and
pyarrow), JSON with seeds past 2**53 kept exact, export to standard output, CSV without the
spreadsheet escape, Parquet's clear message without pyarrow, and A1111 ``.txt`` sidecars that
our own A1111 parser reads back to the same values."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from exifdata_analytics import db
from exifdata_analytics.export import JSON_SAFE_INTEGER, csv_safe, export_file, export_sidecars, sidecar_name
from exifdata_analytics.filler import FillOptions, fill
from exifdata_analytics.parsers.a1111.infotext import parse_infotext
from exifdata_analytics.parsers.base import Resource
from exifdata_analytics.samples import a1111_infotext, write_jpeg, write_png
from tests.conftest import PROJECT_DIR, filled_sample_folder, run_script
from tests.test_search import make_db, record

pd = pytest.importorskip("pandas")
SEEDS = {"neg.png": -1, "safe.png": JSON_SAFE_INTEGER, "past53.png": 2**53 + 1, "int64.png": 2**63 - 1,
         "uint64.png": 2**64 - 1, "none.png": None}
HOSTILE = "=HYPERLINK(\"http://evil\",\"x\")"


@pytest.fixture
def seeds_db(tmp_path) -> Path:
    recs = [record(f"/img/{name}", prompt=f"a cat {name}", seed=seed, steps=20, cfg_scale=6.5,
                   params_json=json.dumps({"Seed": seed, "nested": [seed]}),
                   resources=[Resource("lora", "add_detail", "abc", 0.5, "prompt")])
            for name, seed in SEEDS.items()]
    recs.append(record("/img/evil.png", prompt=HOSTILE, steps=1))
    return make_db(tmp_path / "seeds.db", recs)


def _export(database: Path, out: Path, **kw):
    con = db.connect(database, readonly=True)
    try:
        return export_file(con, out, **kw)
    finally:
        con.close()


def test_parquet_keeps_every_seed_exact_for_pandas(seeds_db, tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "x.parquet"
    assert _export(seeds_db, out).rows == 7
    df = pd.read_parquet(out).set_index("file_name")
    for name, seed in SEEDS.items():
        got = df.loc[name, "seed"]
        assert (got is None) if seed is None else (isinstance(got, Decimal) and int(got) == seed), name
    assert df.loc["neg.png", "steps"] == 20 and df.loc["neg.png", "cfg_scale"] == 6.5
    assert json.loads(df.loc["uint64.png", "params"])["Seed"] == 2**64 - 1  # JSON text: exact
    assert list(df.loc["neg.png", "resources"]) == [
        {"kind": "lora", "name": "add_detail", "hash": "abc", "weight": 0.5, "source": "prompt"}]


def test_csv_seeds_are_exact_text_for_pandas(seeds_db, tmp_path):
    out = tmp_path / "x.csv"
    _export(seeds_db, out)
    df = pd.read_csv(out, dtype={"seed": str}, encoding="utf-8-sig").set_index("file_name")
    for name, seed in SEEDS.items():
        got = df.loc[name, "seed"]
        assert pd.isna(got) if seed is None else int(got) == seed, name


def test_json_writes_integers_past_2_53_as_strings_and_the_others_as_numbers(seeds_db, tmp_path):
    for name in ("x.json", "x.jsonl"):
        _export(seeds_db, tmp_path / name)
    records = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    by_name = {r["file_name"]: r for r in records}
    for name, seed in SEEDS.items():
        r = by_name[name]
        expected = str(seed) if seed is not None and abs(seed) > JSON_SAFE_INTEGER else seed
        assert r["seed"] == expected and r["params"]["Seed"] == expected and r["params"]["nested"] == [expected]
    assert isinstance(by_name["neg.png"]["mtime_ns"], (int, type(None)))
    # pandas reads the JSONL back without rounding one of them when told to leave seeds as text
    # (it would otherwise turn the digit strings into doubles): the README's recipe
    df = pd.read_json(tmp_path / "x.jsonl", lines=True, dtype={"seed": str}).set_index("file_name")
    for name, seed in SEEDS.items():
        if seed is not None:
            assert int(df.loc[name, "seed"]) == seed, name


def test_csv_formula_escape_can_be_turned_off(seeds_db, tmp_path):
    _export(seeds_db, tmp_path / "safe.csv")
    _export(seeds_db, tmp_path / "raw.csv", formula_escape=False)
    cells = {}
    for name in ("safe", "raw"):
        with open(tmp_path / f"{name}.csv", encoding="utf-8-sig", newline="") as fh:
            cells[name] = {r["file_name"]: r for r in csv.DictReader(fh)}
    assert cells["safe"]["evil.png"]["prompt"] == "'" + HOSTILE
    assert cells["raw"]["evil.png"]["prompt"] == HOSTILE
    assert csv_safe("-18446744073709551617") == "-18446744073709551617"  # a number kept as text is no formula


def test_export_to_standard_output_in_each_format(seeds_db):
    jsonl = run_script("parameter_statistic_DB.py", "export", "-", "--format", "jsonl", "--db", str(seeds_db),
                       "uint64")
    assert jsonl.returncode == 0, jsonl.stderr
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["seed"] for r in rows] == [str(2**64 - 1)]
    assert "to standard output (JSONL)" in jsonl.stderr and not jsonl.stdout.startswith("Exported")
    as_csv = subprocess.run([sys.executable, str(PROJECT_DIR / "parameter_statistic_DB.py"), "export", "-",
                             "--no-formula-escape", "--db", str(seeds_db)], capture_output=True, timeout=120)
    assert as_csv.returncode == 0 and as_csv.stdout.startswith(b"id,path,")  # no byte-order mark on a pipe
    piped = {r["file_name"]: r for r in csv.DictReader(io.StringIO(as_csv.stdout.decode("utf-8"), newline=""))}
    assert piped["evil.png"]["prompt"] == HOSTILE
    pq = pytest.importorskip("pyarrow.parquet")
    parquet = subprocess.run([sys.executable, str(PROJECT_DIR / "parameter_statistic_DB.py"), "export", "-",
                              "--format", "parquet", "--db", str(seeds_db)], capture_output=True, timeout=120)
    assert parquet.returncode == 0, parquet.stderr
    table = pq.read_table(io.BytesIO(parquet.stdout))
    assert sorted(int(s) for s in table.column("seed").to_pylist() if s is not None) == sorted(
        s for s in SEEDS.values() if s is not None)


def test_parquet_without_pyarrow_names_the_install_and_writes_nothing(seeds_db, tmp_path):
    out = tmp_path / "x.parquet"
    code = ("import sys; sys.modules['pyarrow'] = None  # what an environment without pyarrow imports\n"
            "from exifdata_analytics.cli.db_tool import main\n"
            f"raise SystemExit(main(['export', {str(out)!r}, '--db', {str(seeds_db)!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=PROJECT_DIR)
    assert r.returncode == 1 and "pip install pyarrow" in r.stderr
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("seeds.db")] == []


# -- A1111 .txt sidecars -----------------------------------------------------------------------

_CORE = ("prompt", "negative_prompt", "steps", "seed", "sampler", "scheduler", "cfg_scale", "denoising_strength",
         "width", "height", "model", "model_hash", "vae", "clip_skip")


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    return filled_sample_folder(tmp_path_factory.mktemp("txt"))


def test_txt_sidecars_read_back_by_our_a1111_parser_to_the_same_values(sample_db, tmp_path):
    con = db.connect(sample_db, readonly=True)
    try:
        result = export_sidecars(con, fmt="txt", force=True)
        rows = con.execute("SELECT * FROM images WHERE parse_status = 'ok'").fetchall()
    finally:
        con.close()
    assert result.failed == 0 and result.written == len(rows) > 10
    generators = set()
    for row in rows:
        txt = Path(row["folder"], row["file_name"] + ".txt")  # two images named alike in one folder
        if not txt.exists():
            txt = Path(row["folder"], sidecar_name(row["path"], "txt"))  # A1111's own name: a.txt
        parsed = parse_infotext(txt.read_text(encoding="utf-8"))
        assert parsed is not None, txt
        for column in _CORE:
            want, got = row[column], getattr(parsed, column)
            if column == "seed" and want is not None:
                want = int(want)
            assert (got or None) == (want or None), (row["file_name"], column, got, want)
        generators.add(row["generator"])
    assert {"A1111", "ComfyUI"} <= generators


def test_txt_sidecar_names_follow_a1111_unless_two_images_share_a_name(tmp_path):
    root = tmp_path / "imgs"
    root.mkdir()
    text = a1111_infotext("a cat", "blurry", {"Steps": 20, "Sampler": "Euler a", "CFG scale": 7, "Seed": 2**40,
                                              "Size": "64x64", "Model": "m"})
    for name in ("a.png", "b.png"):
        write_png(root / name, {"parameters": text})
    write_jpeg(root / "a.jpg", user_comment=text)
    database = tmp_path / "n.db"
    fill(FillOptions(root=str(root), recursive=True, db_path=database))
    r = run_script("parameter_statistic_DB.py", "export-sidecars", "--format", "txt", "--db", str(database))
    assert r.returncode == 0, r.stderr
    assert "A1111 infotext" in r.stdout
    assert sorted(p.name for p in root.glob("*.txt")) == ["a.jpg.txt", "a.png.txt", "b.txt"]
    assert parse_infotext((root / "b.txt").read_text(encoding="utf-8")).seed == 2**40
    again = run_script("parameter_statistic_DB.py", "export-sidecars", "--format", "txt", "--db", str(database))
    assert "already there (kept; --force replaces): 3" in again.stdout


def test_the_menu_asks_for_the_sidecar_format(sample_db, tmp_path):
    out = tmp_path / "menu"
    r = run_script("parameter_statistic_DB.py", "--db", str(sample_db), input=f"10\n\n{out}\ntxt\nyes\n0\n")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Sidecar files (A1111 infotext, <image>.txt)" in r.stdout
    written = list(out.rglob("*.txt"))
    assert written and not list(out.rglob("*.json"))
    assert all(parse_infotext(p.read_text(encoding="utf-8")) is not None for p in written)
