"""One exception family. The CLI layer turns these into one-line messages and exit codes."""
from __future__ import annotations


class ExifDataError(Exception):
    """Base class: a problem the user can act on. The message names the problem and the fix."""

    exit_code = 1


class ConfigError(ExifDataError):
    """config.ini is missing, unreadable or has an invalid value."""


class ExifToolNotFoundError(ExifDataError):
    """The exiftool executable is not installed or not on PATH."""


class ExifToolError(ExifDataError):
    """ExifTool failed in a way that retrying did not cure."""


class DatabaseError(ExifDataError):
    """The database cannot be opened, is not ours, is corrupt, or cannot be written."""


class InputError(ExifDataError):
    """A folder or file the user named does not exist or cannot be read."""
