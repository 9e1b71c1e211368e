"""config.ini: the original's sections and keys, inline comments, clear errors."""
from __future__ import annotations

import pytest

from exifdata_analytics.config import DEFAULT_CONFIG_PATH, PROJECT_DIR, load_settings
from exifdata_analytics.errors import ConfigError


def test_the_shipped_config_has_the_original_sections_and_parses():
    s = load_settings()
    assert s.batch_size >= 1 and s.max_workers >= 1
    assert s.logging_dir == PROJECT_DIR / "LOG_files"
    assert s.db_path == PROJECT_DIR / "statistics_image_metadata.db"
    text = DEFAULT_CONFIG_PATH.read_text()
    for key in ("[Paths]", "logging_dir", "[Processing]", "batch_size", "max_workers", "[Database]", "db_name"):
        assert key in text


def test_inline_comments_after_values_are_ignored(config_path, tmp_path):
    s = load_settings(config_path)
    assert (s.batch_size, s.max_workers) == (10, 2)
    assert s.logging_dir == tmp_path / "logs"
    assert s.db_path == tmp_path / "config_default.db"


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    cfg = tmp_path / "c.ini"
    cfg.write_text("[Paths]\nlogging_dir = logs # x\n[Processing]\nbatch_size = 5\nmax_workers = 1\n"
                   "[Database]\ndb_name = my.db\n")
    s = load_settings(cfg)
    assert s.db_path == tmp_path / "my.db" and s.logging_dir == tmp_path / "logs"


@pytest.mark.parametrize("bad, message", [
    ("batch_size = lots", "not a whole number"),
    ("batch_size = 0", "at least 1"),
])
def test_bad_values_are_config_errors_naming_the_key(tmp_path, bad, message):
    cfg = tmp_path / "c.ini"
    cfg.write_text(f"[Processing]\n{bad}\nmax_workers = 2\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(cfg)
    assert "batch_size" in str(info.value)


def test_a_missing_explicit_config_is_an_error_and_a_broken_one_too(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.ini")
    broken = tmp_path / "broken.ini"
    broken.write_text("this is not [an ini\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(broken)
