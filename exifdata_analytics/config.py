"""Settings from config.ini, read once at the edge (the CLI) and passed down as a dataclass."""
from __future__ import annotations

import configparser
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from .errors import ConfigError

logger = logging.getLogger(__name__)

# The folder holding the package: in a checkout, the folder of the three scripts and config.ini.
PROJECT_DIR = Path(__file__).resolve().parent.parent
APP_DIR_NAME = "exifdata-analytics"
CONFIG_NAME = "config.ini"


def running_from_checkout(project_dir: Path = PROJECT_DIR) -> bool:
    """True when the package is imported from a checkout (the scripts sit beside it), False
    when it is installed (site-packages)."""
    return (project_dir / "DB_filler.py").is_file() and (project_dir / "parameter_statistic_DB.py").is_file()


def user_data_dir(environ: Mapping[str, str] = os.environ, platform: str = sys.platform,
                  user_home: Optional[Path] = None) -> Path:
    """The platform's folder for this user's application data: %LOCALAPPDATA% on Windows,
    ~/Library/Application Support on macOS, $XDG_DATA_HOME (else ~/.local/share) elsewhere;
    in it, exifdata-analytics."""
    user_home = user_home or Path.home()
    if platform.startswith("win"):
        base = Path(environ["LOCALAPPDATA"]) if environ.get("LOCALAPPDATA") else user_home / "AppData" / "Local"
    elif platform == "darwin":
        base = user_home / "Library" / "Application Support"
    else:
        xdg = environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else user_home / ".local" / "share"
    return base / APP_DIR_NAME


def home_dir(cwd: Optional[Path] = None) -> Path:
    """The folder of the defaults (config.ini, the database, LOG_files/, output_plots/,
    keywords.txt). In a checkout, the checkout: relative paths in config.ini are resolved
    against it, as the original tool does, so runs from any working directory agree.
    Installed: the current folder when it holds a config.ini, else ``user_data_dir()``."""
    if running_from_checkout():
        return PROJECT_DIR
    cwd = cwd or Path.cwd()
    if (cwd / CONFIG_NAME).is_file():
        return cwd
    return user_data_dir()


HOME_DIR = home_dir()
DEFAULT_CONFIG_PATH = HOME_DIR / CONFIG_NAME


@dataclass(frozen=True)
class Settings:
    logging_dir: Path
    batch_size: int
    max_workers: int
    db_path: Path
    config_path: Optional[Path] = None
    thumbnail_dir: Optional[Path] = None  # the thumbnails' cache ([Paths] thumbnail_dir)


DEFAULTS = {
    ("Paths", "logging_dir"): "LOG_files",
    ("Paths", "thumbnail_dir"): "thumbnails",
    ("Processing", "batch_size"): "100",
    ("Processing", "max_workers"): "2",
    ("Database", "db_name"): "statistics_image_metadata.db",
}


def _parser() -> configparser.ConfigParser:
    # inline_comment_prefixes: the original's config.ini has '# …' after values
    return configparser.ConfigParser(inline_comment_prefixes=("#", ";"), interpolation=None)


def _positive_int(cp: configparser.ConfigParser, section: str, key: str, path: Path) -> int:
    raw = cp.get(section, key, fallback=DEFAULTS[(section, key)]).strip()
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{path}: [{section}] {key} = {raw!r} is not a whole number; "
                          f"set it to e.g. {DEFAULTS[(section, key)]}") from None
    if value < 1:
        raise ConfigError(f"{path}: [{section}] {key} must be at least 1 (got {value})")
    return value


def _resolve(raw: str, base: Path) -> Path:
    p = Path(raw).expanduser()
    return p if p.is_absolute() else base / p


def load_settings(path: Optional[Path] = None) -> Settings:
    """Read config.ini. A missing default config.ini means built-in defaults; a missing file
    the user named explicitly, or an unparsable one, is a ConfigError."""
    explicit = path is not None
    path = Path(path) if explicit else DEFAULT_CONFIG_PATH
    cp = _parser()
    if path.exists():
        try:
            with open(path, encoding="utf-8") as fh:
                cp.read_file(fh)
        except (configparser.Error, UnicodeDecodeError, OSError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
    elif explicit:
        raise ConfigError(f"config file not found: {path}")
    else:
        logger.info("no config.ini at %s; using defaults", path)
    base = path.resolve().parent
    logging_dir = _resolve(cp.get("Paths", "logging_dir", fallback=DEFAULTS[("Paths", "logging_dir")]).strip()
                           or "LOG_files", base)
    thumbnail_dir = _resolve(cp.get("Paths", "thumbnail_dir", fallback=DEFAULTS[("Paths", "thumbnail_dir")]).strip()
                             or DEFAULTS[("Paths", "thumbnail_dir")], base)
    db_name = cp.get("Database", "db_name", fallback=DEFAULTS[("Database", "db_name")]).strip()
    if not db_name:
        raise ConfigError(f"{path}: [Database] db_name is empty; set it to a file name")
    return Settings(
        logging_dir=logging_dir,
        thumbnail_dir=thumbnail_dir,
        batch_size=_positive_int(cp, "Processing", "batch_size", path),
        max_workers=_positive_int(cp, "Processing", "max_workers", path),
        db_path=_resolve(db_name, base),
        config_path=path if path.exists() else None,
    )
