"""When an image was made, and where that was read: ``created_at`` and ``created_source``.

The sources, most trusted first (their names are ``models.CREATED_SOURCES``):

* ``embedded``: a date the file carries (EXIF DateTimeOriginal/CreateDate, XMP, IPTC, the PNG
  ``Creation Time`` text; after the generator's record, the times of the last save: PNG
  ``tIME`` and EXIF/XMP ModifyDate);
* ``generator``: a time the generation metadata records (Civitai ``Created Date``, SwarmUI);
* ``file_name``: a date, and a time where present, in the base name;
* ``folder``: a date folder (A1111/Forge/Fooocus/SwarmUI ``2024-03-15``, ``20240315``, ``2024/03/15``);
* ``mtime``: the file's modification time, which a copy or a restore replaces.

``created_at`` is ISO 8601: ``YYYY-MM-DD`` from a date without a time, else
``YYYY-MM-DDTHH:MM:SS``, with the zone when the source gives one. A time the format defines as
UTC (``Z``, PNG ``tIME``) is shown in the local zone, as the mtime is, so that an hour means the
user's clock. Names and folders are guesses, so they are held to plausible years, real dates and
times, no later than a day after the file's mtime, and never a seed or a counter.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Mapping, NamedTuple, Optional

from .models import (CREATED_EMBEDDED, CREATED_FILE_NAME, CREATED_FOLDER, CREATED_GENERATOR,
                     CREATED_MTIME)
from .parsers.tags import find_tag

logger = logging.getLogger(__name__)


class CreationTime(NamedTuple):
    at: Optional[str]  # created_at
    source: Optional[str]  # created_source


@dataclass(frozen=True)
class DateTag:
    """An embedded tag that may say when the picture was made."""

    name: str
    groups: Optional[tuple[str, ...]] = None  # family-1 groups; None: any
    completion: Optional[str] = None  # a tag holding the time or zone the value lacks
    utc: bool = False  # the format defines the value as UTC


# Creation first. ExifTool runs with -e (no Composite tags), so IPTC's date and time and EXIF's
# offsets are joined here.
CREATION_TAGS = (
    # videos: QuickTime's and Matroska's dates are UTC by their specs (ffmpeg writes 0000:00:00 when unset)
    DateTag("CreateDate", ("QuickTime",), utc=True),
    DateTag("DateTimeOriginal", ("Matroska",), utc=True),
    DateTag("DateTimeOriginal", completion="OffsetTimeOriginal"),
    DateTag("CreateDate", completion="OffsetTimeDigitized"),
    DateTag("DateCreated", completion="TimeCreated"),
    DateTag("CreationTime", ("PNG",)),
    DateTag("DateTimeCreated"),
)
# When the file was last saved: after a creation time the generator recorded, still before any guess.
SAVE_TAGS = (
    DateTag("ModifyDate", ("PNG",), utc=True),  # tIME
    DateTag("ModifyDate", ("IFD0", "XMP-xmp"), completion="OffsetTime"),
)
# Paths into a parser's params: Civitai writes a UTC time, SwarmUI the day.
GENERATOR_KEYS = (("Created Date",), ("sui_extra_data", "date"))

FIRST_YEAR = 1900  # embedded and generator dates (scanned photos are old)
FIRST_NAME_YEAR = 2015  # a date in a name or folder: no generated image is older
LAST_YEAR = date.today().year + 1

# Civitai writes 'Created Date' without the colon after the hour: 2024-06-01T0529:44.7563207Z
_EMBEDDED = re.compile(r"\s*(\d{4})[:-](\d{2})[:-](\d{2})(?:[T ]+(\d{2}):?(\d{2})(?::(\d{2}))?(?:[.,]\d+)?"
                       r"\s*(Z|[+-]\d{2}:?\d{2})?)?")
_ZONE = re.compile(r"\s*(Z|[+-]\d{2}:?\d{2})\s*")  # fullmatch only
_ENDS_WITH_ZONE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")  # on stripped text; no leading \s*: quadratic in a search
_CLOCK = re.compile(r"\s*\d{2}:\d{2}(?::\d{2})?")

_DATE = r"(?P<y>\d{4})(?P<s>[-_.])(?P<m>\d{2})(?P=s)(?P<d>\d{2})"
_COMPACT = r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"
# In a file's stem, first match wins: with a time before without.
NAME_PATTERNS = tuple(re.compile(p) for p in (
    # 2024-03-15_12-30-45 (Fooocus, + _1234), 2024-03-15 12.30.45, 2024-03-15T12:30:45,
    # Screenshot 2024-03-15 at 1.30.45 PM
    rf"(?<!\d){_DATE}(?:[ _T-]|\s+at\s+)(?P<H>\d{{1,2}})(?P<t>[-.:_h])(?P<M>\d{{2}})(?P=t)(?P<S>\d{{2}})"
    r"(?:\s?(?P<p>[AaPp][Mm]))?(?!\d)",
    rf"(?<!\d){_DATE}[ _T-](?P<H>\d{{2}})(?P<M>\d{{2}})(?P<S>\d{{2}})(?!\d)",  # 2024-03-15-123045
    # 20240315_123045, IMG_20240315_123045, PXL_20240315_123045123, Screenshot_20240315-123045
    rf"(?<![0-9A-Za-z]){_COMPACT}[_T-]?(?P<H>\d{{2}})(?P<M>\d{{2}})(?P<S>\d{{2}})(?:\d{{3}})?(?![0-9A-Za-z])",
    rf"(?<!\d){_DATE}(?!\d)",  # 2024-03-15, 2024_03_15
    rf"(?<![0-9A-Za-z]){_COMPACT}(?![0-9A-Za-z])",  # IMG_20240315
))
# Numbers in a name that are no date: A1111/Forge's <counter>-<seed> (but 14 digits are its
# [datetime], no 32-bit seed), NovelAI's "s-<seed>", InvokeAI's UUIDs (a hash has no separators,
# so the patterns' boundaries keep it out).
NOT_DATES = re.compile(r"^\d{5}-(?!\d{14}(?!\d))\d+|(?:^|\s)s-\d+$"
                       r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# One folder name, the nearest of the last FOLDER_DEPTH first.
FOLDER_PATTERNS = tuple(re.compile(p) for p in (rf"{_DATE}(?!\d)", rf"{_COMPACT}$"))
FOLDER_DEPTH = 3
# Year/month/day folders (photo managers' layout): three names that are only these numbers.
_YEAR, _TWO_DIGITS = re.compile(r"\d{4}$"), re.compile(r"\d{2}$")
_SEPARATORS = re.compile(r"[\\/]")
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")
_NON_DIGITS = re.compile(r"\D")


def creation_time(tags: Optional[Mapping], params: Optional[Mapping], path: str, mtime_ns: Optional[int],
                  seed: Any = None) -> CreationTime:
    """The best date of an image and its source; ``(None, None)`` when nothing, not even an
    mtime, dates it. ``seed`` is the recipe's: a number in the name that equals it is no date."""
    iso = _tags_date(tags, CREATION_TAGS)
    if iso:
        return CreationTime(iso, CREATED_EMBEDDED)
    iso = _generator_date(params)
    if iso:
        return CreationTime(iso, CREATED_GENERATOR)
    iso = _tags_date(tags, SAVE_TAGS)
    if iso:
        return CreationTime(iso, CREATED_EMBEDDED)
    mtime = _local(mtime_ns)
    parts = _SEPARATORS.split(path) if path else []
    if parts:
        iso = name_date(parts[-1], mtime, seed)
        if iso:
            return CreationTime(iso, CREATED_FILE_NAME)
        iso = folder_date(parts[-FOLDER_DEPTH - 1:-1], mtime)
        if iso:
            return CreationTime(iso, CREATED_FOLDER)
    if mtime is not None:
        return CreationTime(mtime.astimezone().isoformat(timespec="seconds"), CREATED_MTIME)
    return CreationTime(None, None)


def _local(mtime_ns: Optional[int]) -> Optional[datetime]:
    """The mtime on the local clock (as names are written), naive; None when unknown or absurd."""
    if not mtime_ns:
        return None
    try:
        return datetime.fromtimestamp(mtime_ns / 1e9)
    except (OverflowError, OSError, ValueError):
        return None


def iso_date(value: Any, *, utc: bool = False) -> Optional[str]:
    """An EXIF, XMP, ISO 8601 or RFC 2822 date as ISO 8601 (see the module), or None.
    '2024:05:01 12:30:00+02:00' -> '2024-05-01T12:30:00+02:00'; ``utc``: a value without a zone is UTC."""
    if not isinstance(value, str):
        return None
    m = _EMBEDDED.match(value)
    if m is None:
        return _rfc2822(value)
    y, mo, d, hh, mi, ss, zone = m.groups()
    try:
        day = date(int(y), int(mo), int(d))
        if day.year < FIRST_YEAR:
            return None
        if hh is None:
            return day.isoformat()
        at = datetime(day.year, day.month, day.day, int(hh), int(mi), int(ss or 0))
    except ValueError:
        return None
    if zone == "Z" or (utc and zone is None):
        return at.replace(tzinfo=timezone.utc).astimezone().isoformat(timespec="seconds")
    text = at.isoformat(timespec="seconds")
    if zone:
        text += zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    return text


def _rfc2822(value: str) -> Optional[str]:
    """The PNG spec's suggested 'Creation Time' form: 'Fri, 15 Mar 2024 12:30:45 +0000'."""
    if "," not in value and not value[:1].isdigit():
        return None
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if at.year < FIRST_YEAR:
        return None
    if at.tzinfo is None:
        return at.isoformat(timespec="seconds")
    if at.utcoffset() == timedelta(0):
        at = at.astimezone()
    return at.isoformat(timespec="seconds")


def _tags_date(tags: Optional[Mapping], table: tuple[DateTag, ...]) -> Optional[str]:
    if not tags:
        return None
    for tag in table:
        value = find_tag(tags, tag.name, tag.groups)
        if not isinstance(value, str):
            continue
        if tag.completion:
            value = _completed(tags, value, tag.completion)
        iso = iso_date(value, utc=tag.utc)
        if iso:
            return iso
    return None


def _completed(tags: Mapping, value: str, completion: str) -> str:
    """IPTC's date + TimeCreated, EXIF's time + OffsetTime*: what ExifTool's Composite tags join."""
    extra = find_tag(tags, completion)
    if not isinstance(extra, str) or not extra.strip():
        return value
    stripped = value.strip()
    if len(stripped) == 10 and _CLOCK.match(extra):  # a date; the tag holds the time (and zone)
        return f"{stripped} {extra.strip()}"
    if len(stripped) > 10 and not _ENDS_WITH_ZONE.search(stripped) and _ZONE.fullmatch(extra):
        return stripped + extra.strip()
    return value


def _generator_date(params: Optional[Mapping]) -> Optional[str]:
    if not params:
        return None
    for path in GENERATOR_KEYS:
        value: Any = params
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        iso = iso_date(value)
        if iso:
            return iso
    return None


def name_date(file_name: str, mtime: Optional[datetime] = None, seed: Any = None) -> Optional[str]:
    """A date (and time) in a file's base name, or None."""
    stem = _EXTENSION.sub("", file_name)
    if not any(c.isdigit() for c in stem):
        return None
    stem = NOT_DATES.sub(" ", stem)
    seed_digits = str(seed) if seed is not None else None
    for pattern in NAME_PATTERNS:
        for m in pattern.finditer(stem):
            if seed_digits and _NON_DIGITS.sub("", m.group(0)) == seed_digits:
                continue
            iso = _checked(m, mtime)
            if iso:
                return iso
    return None


def folder_date(folders: list[str], mtime: Optional[datetime] = None) -> Optional[str]:
    """A date in the names of the last few folders (nearest first), or None."""
    for name in reversed(folders):
        for pattern in FOLDER_PATTERNS:
            m = pattern.match(name)
            if m:
                iso = _checked(m, mtime)
                if iso:
                    return iso
    if len(folders) >= 3 and _YEAR.match(folders[-3]) and _TWO_DIGITS.match(folders[-2]) \
            and _TWO_DIGITS.match(folders[-1]):
        return _valid(int(folders[-3]), int(folders[-2]), int(folders[-1]), None, mtime)
    return None


def _checked(m: re.Match, mtime: Optional[datetime]) -> Optional[str]:
    groups = m.groupdict()
    clock = None
    if groups.get("H") is not None:
        hour = int(groups["H"])
        if groups.get("p"):
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if groups["p"].lower() == "pm" else 0)
        clock = (hour, int(groups["M"]), int(groups["S"]))
    return _valid(int(groups["y"]), int(groups["m"]), int(groups["d"]), clock, mtime)


def _valid(year: int, month: int, day: int, clock: Optional[tuple[int, int, int]],
           mtime: Optional[datetime]) -> Optional[str]:
    """The ISO text of a guessed date, or None when it is not a real, plausible one."""
    if not FIRST_NAME_YEAR <= year <= LAST_YEAR:
        return None
    try:
        at = datetime(year, month, day, *(clock or (0, 0, 0)))
    except ValueError:
        return None
    # the file cannot have been made after it was last changed (a day of slack for time zones)
    limit = mtime + timedelta(days=1) if mtime else None
    if limit is not None and (at if clock else at.date()) > (limit if clock else limit.date()):
        return None
    return at.isoformat() if clock else at.date().isoformat()
