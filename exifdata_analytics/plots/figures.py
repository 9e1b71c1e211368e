"""What every chart shares: sizes, colours, label shortening, margins by estimate, and
``save_figure()`` (every text literal, the file written whole)."""
from __future__ import annotations

import logging
import unicodedata
from pathlib import Path
from typing import Sequence

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from ..errors import InputError
from ..safe_files import atomic_write

logger = logging.getLogger(__name__)

TOP_N = 20
DPI = 100
BAR_COLOR = "#3b6ea5"
OTHER_COLOR = "#e08a3c"
LABEL_CHARS = 48


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _text_inches(text: str, fontsize: float) -> float:
    """Approximate rendered width: DejaVu Sans averages ~0.6 em per character, East Asian
    wide characters a full em. Laying out by estimate avoids tight_layout's extra draw
    (a third of each chart's cost)."""
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in text)
    return ems * fontsize / 72


def _margins(fig: Figure, labels: Sequence[str] = (), fontsize: float = 9, title: bool = True,
             xlabel: bool = True, right: float = 0.35) -> None:
    """Room for the y labels on the left, the title on top and the x label below."""
    width, height = fig.get_size_inches()
    label_width = max((_text_inches(_short(label), fontsize) for label in labels), default=0.3)
    left = min(0.6, (label_width + 0.25) / width)
    top = 1 - (0.5 if title else 0.2) / height
    bottom = (0.6 if xlabel else 0.35) / height
    fig.subplots_adjust(left=left, right=1 - right / width, top=top, bottom=bottom)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


# Every label is literal text: a tag, model or LoRA name such as '$_$' must not be read as
# mathtext (a ValueError ends the run) or TeX. Texts made while the figure is drawn (tick labels
# are created then) take these settings; the ones made before are switched in save_figure.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}


def _literal_text(fig: Figure) -> None:
    for text in fig.findobj(Text):
        text.set_parse_math(False)
        text.set_usetex(False)


def save_figure(fig: Figure, path: Path) -> Path:
    """Save as PNG (whole or not at all, never through a symlink: ``safe_files.atomic_write``)
    and release the figure's memory. Every text is drawn as written."""
    try:
        _literal_text(fig)
        with atomic_write(path, "wb") as fh, matplotlib.rc_context(LITERAL_TEXT):
            fig.savefig(fh, format="png", dpi=DPI)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}; pass another folder with --out DIR") from None
    finally:
        fig.clear()
    return path


def _empty(fig: Figure, message: str):
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#67727e", wrap=True)
    ax.set_axis_off()
    return ax


def _barh(ax, labels: Sequence[str], values: Sequence[float], fmt: str = "{:,}", color: str = BAR_COLOR,
          notes: Sequence[str] = ()) -> None:
    """Horizontal bars, largest on top, value (and note) written at the end of each bar."""
    y = list(range(len(labels)))
    ax.barh(y, values, color=color)
    ax.set_yticks(y, [_short(label) for label in labels], fontsize=9)
    ax.invert_yaxis()
    top = max(values) if len(values) else 0
    for i, (yi, v) in enumerate(zip(y, values)):
        note = f"  {notes[i]}" if i < len(notes) and notes[i] else ""
        ax.text(v + top * 0.01, yi, fmt.format(v) + note, va="center", fontsize=8)
    ax.set_xlim(0, top * (1.22 if notes else 1.12) if top else 1)
    ax.spines[["top", "right"]].set_visible(False)


def _bar_height(n: int) -> float:
    return max(3.0, 0.32 * n + 1.6)


QUARTILE_COLOR = "#b5495b"


def _month_ticks(ax, months: Sequence[str]) -> None:
    step = max(1, len(months) // 18)
    ax.set_xticks(range(0, len(months), step), [months[i] for i in range(0, len(months), step)],
                  rotation=45, ha="right", fontsize=8)


