"""Play time, frame rate and frame count of videos and animations, from ExifTool's tags.

Read from what the containers record: the movie header's ``Duration`` (QuickTime: MP4, MOV),
``Matroska:Duration`` (WebM, MKV), the video track's ``VideoFrameRate``, and for animations the
frame count and total delay ExifTool adds up (``GIF:FrameCount``/``GIF:Duration``,
``PNG:AnimationFrames`` of an APNG, ``RIFF:Duration`` of an animated WebP). An animation's frame
rate is its frames over its duration (the mean: frames may have their own delays). A value the
file does not carry stays None: a video's frame count is not estimated from its duration.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from .parsers.common import to_float
from .parsers.tags import find_tag, iter_tags

_DURATION_GROUPS = ("QuickTime", "Matroska", "GIF", "RIFF")
_FRAME_COUNT = (("FrameCount", ("GIF", "RIFF")), ("AnimationFrames", ("PNG",)))
_TRACK_GROUP = re.compile(r"Track\d+:", re.IGNORECASE)
# ExifTool's print form: '1.50 s' below 30 s, else '0:01:05' or '1 days 2:03:04'; Matroska
# '00:00:01.500000000'
_SECONDS = re.compile(r"\s*(\d+(?:\.\d+)?)\s*s?\s*")
_CLOCK = re.compile(r"\s*(?:(\d+) days? )?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*")
_LONGEST_S = 10 * 24 * 3600.0  # a longer value is a broken header, not a generated video


@dataclass(frozen=True)
class Motion:
    duration_s: Optional[float] = None
    frame_rate: Optional[float] = None
    frame_count: Optional[int] = None


STILL = Motion()


def duration_seconds(value: Any) -> Optional[float]:
    """Seconds from ExifTool's number or print form of a duration; None for nothing or zero."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        m = _SECONDS.fullmatch(value)
        if m:
            seconds = float(m.group(1))
        else:
            m = _CLOCK.fullmatch(value)
            if not m:
                return None
            days, hours, minutes, secs = m.groups()
            seconds = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(secs)
    else:
        return None
    return round(seconds, 3) if 0 < seconds <= _LONGEST_S else None


def _frame_rate(value: Any) -> Optional[float]:
    number = to_float(value)
    return number if number is not None and 0 < number < 10_000 else None


def motion_of(tags: Optional[dict]) -> Motion:
    """What ``tags`` say about the file's motion; STILL for a still image."""
    if not tags:
        return STILL
    duration = duration_seconds(find_tag(tags, "Duration", _DURATION_GROUPS))
    frames = None
    for name, groups in _FRAME_COUNT:
        value = find_tag(tags, name, groups)
        if isinstance(value, int) and not isinstance(value, bool) and value > 1:
            frames = value
            break
    rate = next((r for key, value in iter_tags(tags, "VideoFrameRate")
                 if _TRACK_GROUP.match(key) and (r := _frame_rate(value)) is not None), None)
    if rate is None and frames and duration:
        rate = frames / duration
    if duration is None and frames is None and rate is None:
        return STILL
    return Motion(duration, round(rate, 3) if rate is not None else None, frames)
