"""Videos and animations in the statistics: how many of the selected images move, in which
formats, for how long, at what frame rates, and with which generators, models, samplers and
sizes.

A file moves when it is a video container (the formats of ``scan.VIDEO_EXTENSIONS``, even one
whose header gave no duration) or when ExifTool gave it a play time or more than one frame (an
animated GIF, WebP or APNG; motion.py). Play time, frame rate and frame count are the columns
``duration_s``, ``frame_rate`` and ``frame_count``, read beside the selection in its one scan
(``MotionReader``); only the moving rows are kept, so memory grows with the videos, not with
the library.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from ..scan import VIDEO_EXTENSIONS
from .counts import Counts, value_counts

# ExifTool's FileType of the video containers scan.py reads ('.mp4' -> 'MP4', '.webm' -> 'WEBM')
VIDEO_FORMATS = frozenset(ext.lstrip(".").upper() for ext in VIDEO_EXTENSIONS)
# play-time bins: (label, upper bound in seconds, exclusive)
DURATION_BINS = (("under 2 s", 2.0), ("2-5 s", 5.0), ("5-10 s", 10.0), ("10-30 s", 30.0),
                 ("30 s or more", float("inf")))


class MotionReader:
    """The play time, frame rate and frame count of the moving rows among those
    ``load_selection`` reads (a ``ChunkReader``)."""

    COLUMNS = ("id", "duration_s", "frame_rate", "frame_count")

    def __init__(self) -> None:
        self._rows: list[tuple[int, Optional[float], Optional[float], Optional[int]]] = []

    def add(self, columns: Sequence[Sequence]) -> None:
        self._rows += [row for row in zip(*columns)
                       if row[1] is not None or (row[3] is not None and row[3] > 1)]

    def table(self) -> pd.DataFrame:
        """One row per moving image read so far, by ``id``."""
        return pd.DataFrame(self._rows, columns=list(self.COLUMNS)).astype(
            {"id": "int64", "duration_s": "float64", "frame_rate": "float64", "frame_count": "float64"})


@dataclass(frozen=True)
class FormatMotion:
    format: str
    kind: str  # 'video' or 'animation'
    files: int
    with_duration: int  # of them, with a play time
    play_time_s: float
    median_duration_s: Optional[float]
    median_frame_rate: Optional[float]


@dataclass(frozen=True)
class VideoStats:
    images: int = 0  # images analysed
    videos: int = 0  # of them, video files
    animations: int = 0  # of them, animated GIF, WebP, APNG
    formats: tuple[FormatMotion, ...] = ()
    with_duration: int = 0
    play_time_s: float = 0.0
    median_duration_s: Optional[float] = None
    shortest_s: Optional[float] = None
    longest_s: Optional[float] = None
    durations: tuple[tuple[str, int], ...] = ()  # DURATION_BINS with their files
    frame_rates: tuple[tuple[float, int], ...] = ()  # frames per second (to 0.01), most files first
    with_frame_count: int = 0
    median_frames: Optional[float] = None
    most_frames: Optional[int] = None
    generators: Counts = Counts("Generator")
    models: Counts = Counts("Model")
    samplers: Counts = Counts("Sampler")
    sizes: Counts = Counts("Size")

    @property
    def moving(self) -> int:
        return self.videos + self.animations

    @property
    def share(self) -> float:
        return self.moving / self.images if self.images else 0.0


def video_stats(frame: pd.DataFrame, motion: pd.DataFrame) -> VideoStats:
    """The statistics of the moving images of ``frame`` (the selection), with the play times
    of ``motion`` (``MotionReader.table()`` of the same scan)."""
    if frame.empty:
        return VideoStats()
    is_video = frame["format"].isin(VIDEO_FORMATS).to_numpy()
    moving = is_video | frame["id"].isin(motion["id"]).to_numpy()
    if not moving.any():
        return VideoStats(images=len(frame))
    sub = frame.loc[moving, ["id", "format", "generator", "model", "sampler", "width", "height"]]
    sub = sub.merge(motion, on="id", how="left")
    sub["kind"] = np.where(sub["format"].isin(VIDEO_FORMATS), "video", "animation")
    timed = sub["duration_s"].dropna()
    counted = sub["frame_count"].dropna()
    bins = np.searchsorted([bound for _, bound in DURATION_BINS], timed.to_numpy(), side="right")
    rates = sub["frame_rate"].dropna().round(2).value_counts(sort=False)
    return VideoStats(
        images=len(frame), videos=int((sub["kind"] == "video").sum()), animations=int((sub["kind"] == "animation").sum()),
        formats=_formats(sub), with_duration=len(timed), play_time_s=round(float(timed.sum()), 3),
        median_duration_s=_median(timed), shortest_s=float(timed.min()) if len(timed) else None,
        longest_s=float(timed.max()) if len(timed) else None,
        durations=tuple((name, int((bins == i).sum())) for i, (name, _) in enumerate(DURATION_BINS)),
        frame_rates=tuple(sorted(((float(r), int(n)) for r, n in rates.items()), key=lambda kv: (-kv[1], kv[0]))),
        with_frame_count=len(counted), median_frames=_median(counted),
        most_frames=int(counted.max()) if len(counted) else None,
        generators=value_counts(sub, "Generator", "generator"), models=value_counts(sub, "Model", "model"),
        samplers=value_counts(sub, "Sampler", "sampler"), sizes=value_counts(sub, "Size", "size"))


def _formats(sub: pd.DataFrame) -> tuple[FormatMotion, ...]:
    found = []
    for (fmt, kind), rows in sub.groupby([sub["format"].astype("string").fillna("(unknown)"), "kind"], sort=False):
        timed = rows["duration_s"].dropna()
        found.append(FormatMotion(str(fmt), str(kind), len(rows), len(timed), round(float(timed.sum()), 3),
                                  _median(timed), _median(rows["frame_rate"].dropna())))
    return tuple(sorted(found, key=lambda f: (-f.files, f.format)))


def _median(values: pd.Series) -> Optional[float]:
    return round(float(median(values)), 3) if len(values) else None
