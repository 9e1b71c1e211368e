"""parameter_statistic.py: statistics, text reports, plots and an HTML report from the database."""
from __future__ import annotations

import argparse
import gc
import logging
import multiprocessing
import os
import re
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Optional, Sequence

from typing import TYPE_CHECKING

from .. import db
from ..config import HOME_DIR, Settings
from ..errors import DatabaseError, InputError
from ..scan import normalize_path
from .common import (EXIT_OK, EndOfInput, UsageError, add_version, ask, ask_until, ask_yes_no, common_options,
                     run_main, strip_quotes)

# pandas, scikit-learn and matplotlib (analysis, plots, reports) are imported inside _run,
# after the helper process has started: both processes then import at the same time
if TYPE_CHECKING:
    from ..analysis import Analysis, Filters

logger = logging.getLogger(__name__)

LOG_NAME = "parameter_statistics_LOG.txt"
DEFAULT_KEYWORDS_FILE = HOME_DIR / "keywords.txt"
DEFAULT_OUT_DIR = HOME_DIR / "output_plots"
DEFAULT_TOP = 3

PROMPT_DB = "Enter the path to the database file (press Enter to use the default '{name}'):"
PROMPT_KEYWORD_SOURCE = ("Enter '1' to input keywords manually or '2' to load from a file "
                         "(press Enter to use the default keywords.txt):")
PROMPT_KEYWORDS = "Enter keywords (comma-separated):"
PROMPT_KEYWORD_FILE = "Enter the path to the keyword file:"
PROMPT_TOP_MODELS = "Enter the number of top models to display (default is 3):"
PROMPT_TOP_SAMPLERS = "Enter the number of top samplers to display (default is 3):"
PROMPT_HTML = "Also write the HTML report, report.html? (yes/no, default no):"

# outputs that only some runs produce: removed when this run does not (and an earlier run of
# ours wrote them: reports.files.replace_outputs), so that a folder never mixes this run's
# reports with a previous run's
_OPTIONAL_OUTPUTS = ("camera_photos.txt", "comparison.txt", "camera_photos.png", "comparison.png",
                     "keyword_counts.png", "prompt_topics.png", "label_analysis.txt", "label_analysis.png",
                     "generation_stages.txt", "videos.txt")


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(text: str) -> str:
    # exactly YYYY-MM-DD, as the filters take it (strptime alone would accept 2024-1-5)
    try:
        if not _ISO_DAY.fullmatch(text):
            raise ValueError(text)
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD (e.g. 2024-03-31)") from None
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _topics_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 50:
        raise argparse.ArgumentTypeError("must be from 0 (no themes) to 50")
    return value


SCRIPT = "parameter_statistic.py"


def build_parser(prog: str = SCRIPT) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, parents=[common_options()],
        description="Statistics of the indexed images: text reports and plots (and an HTML report) "
                    "of samplers, CFG scales, sizes, models, LoRAs, prompt words, keywords, trends. "
                    "Without options, asks for the database, keywords and top-N as the original did.",
        epilog=f"Text reports and plots are written to the same folder (default: {DEFAULT_OUT_DIR}). "
               f"Example: {prog} -y --db my.db --keywords \"cat, castle\" --html",
    )
    add_version(p)
    p.add_argument("--out", metavar="DIR",
                   help=f"folder for plots and reports (default: {DEFAULT_OUT_DIR})")
    p.add_argument("--keywords", metavar='"a, b"', help="comma-separated keywords for keyword_analysis.txt")
    p.add_argument("--keywords-file", metavar="FILE", help="keywords, one per line (or comma-separated)")
    p.add_argument("--top-models", type=_positive_int, metavar="N", help="top models per keyword (default 3)")
    p.add_argument("--top-samplers", type=_positive_int, metavar="N", help="top samplers per keyword (default 3)")
    p.add_argument("--no-plots", action="store_true", help="text reports only (faster; the HTML report then "
                                                           "has tables without charts)")
    p.add_argument("--html", action="store_true", help="also write one self-contained report.html")
    p.add_argument("--no-examples", action="store_true",
                   help="report.html without example thumbnails (they are read from the image files)")
    p.add_argument("--json", action="store_true",
                   help="also write report.json: every section of the run as data (model_cards, co_use, …)")
    f = p.add_argument_group("filters (apply to every report; repeat a filter for alternatives)")
    f.add_argument("--folder", action="append", default=[], metavar="DIR", help="only images under this folder")
    f.add_argument("--model", action="append", default=[], metavar="TEXT",
                   help="only images whose model name contains TEXT (case-insensitive)")
    f.add_argument("--generator", action="append", default=[], metavar="NAME",
                   help="only images of this generator (A1111, Forge, ComfyUI, …; case-insensitive)")
    f.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="only images made on or after this day")
    f.add_argument("--until", type=_date, metavar="YYYY-MM-DD", help="only images made on or before this day")
    f.add_argument("--where", action="append", default=[], metavar="QUERY",
                   help="only images matching this query of the search language (as parameter_statistic_DB.py "
                        "search; e.g. --where 'model:pony steps>=30'); several --where must all hold")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"),
                   help="compare two subsets side by side, each KEY=VALUE with KEY folder, model, generator, "
                        "since or until (join several with ';'), or a search query with a field "
                        "(e.g. --compare folder=/img/old folder=/img/new, or --compare 'sampler:euler' 'sampler:dpm')")
    p.add_argument("--topics", type=_topics_count, metavar="N",
                   help="themes to find in the prompts for prompt_topics.txt (default: chosen by the data, 3 to 12; "
                        "0: none)")
    p.add_argument("--label-by", metavar="SOURCE",
                   help="what the images of each label have in common (label_analysis.txt): folder (the image's "
                        "folder, or the first folder under a --folder root: keep/, rejects/), rating[:N] (the "
                        "XMP/EXIF star rating; N stars and above is a keeper, default 4) or file:LABELS.csv "
                        "(path,label lines)")
    p.add_argument("--raw-names", action="store_true",
                   help="count samplers, schedules, models, VAEs and LoRAs as each tool wrote them (default: one "
                        "name per thing: 'Euler a', 'euler_ancestral' and 'k_euler_ancestral' are one sampler)")
    p.add_argument("--no-dedupe", action="store_true",
                   help="count every file, also identical copies (default: files with the same content, "
                        "e.g. in a backup folder, count once)")
    p.add_argument("--workers", type=_positive_int, metavar="N",
                   help="processes to use: 2 (the default on a multi-core machine) adds a helper process for "
                        "the prompt statistics and half of the plots; 1 does everything in one process")
    p.add_argument("-y", "--yes", action="store_true", help="never prompt; defaults for everything not given")
    return p


# -- interactive answers ------------------------------------------------------------------------

def _existing_file(text: str, what: str) -> Path:
    path = Path(strip_quotes(text)).expanduser()
    if not path.is_file():
        raise ValueError(f"{what} not found: {path}")
    return path


def _resolve_db(args: argparse.Namespace, settings: Settings) -> Path:
    if args.db:
        return Path(strip_quotes(args.db)).expanduser()
    if args.yes:
        return settings.db_path

    def accept(answer: str) -> Path:
        if not answer:
            return settings.db_path
        return _existing_file(answer, "Database file")

    return ask_until(PROMPT_DB.format(name=settings.db_path.name), accept,
                      "give an existing database file, or press Enter for the default")


def read_keyword_file(path: Path) -> tuple[str, ...]:
    from ..analysis import parse_keywords

    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"keyword file not found: {path}; create it (one keyword per line) "
                         "or pass the keywords with --keywords \"a, b\"") from None
    except UnicodeDecodeError:
        raise InputError(f"keyword file {path} is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise InputError(f"cannot read keyword file {path}: {exc.strerror or exc}") from None
    return parse_keywords(text)


def _default_keywords(notes: list[str]) -> tuple[str, ...]:
    if DEFAULT_KEYWORDS_FILE.is_file():
        return read_keyword_file(DEFAULT_KEYWORDS_FILE)
    notes.append(f"No default keyword file {DEFAULT_KEYWORDS_FILE.name} in {DEFAULT_KEYWORDS_FILE.parent}: keyword analysis "
                 "skipped (create it, one keyword per line, or pass --keywords).")
    return ()


def _resolve_keywords(args: argparse.Namespace, notes: list[str]) -> tuple[tuple[str, ...], str]:
    """The keywords and where they came from."""
    from ..analysis import parse_keywords

    if args.keywords is not None or args.keywords_file:
        keywords: tuple[str, ...] = ()
        sources = []
        if args.keywords is not None:
            keywords += parse_keywords(args.keywords)
            sources.append("the command line")
        if args.keywords_file:
            path = Path(strip_quotes(args.keywords_file)).expanduser()
            keywords += read_keyword_file(path)
            sources.append(str(path))
        return parse_keywords("\n".join(keywords)), " and ".join(sources)
    if args.yes:
        return _default_keywords(notes), DEFAULT_KEYWORDS_FILE.name
    choice = ask(PROMPT_KEYWORD_SOURCE)
    if choice == "1":
        return parse_keywords(ask(PROMPT_KEYWORDS)), "your answer"
    if choice == "2":
        path = ask_until(PROMPT_KEYWORD_FILE, lambda a: _existing_file(a, "Keyword file"),
                          "give an existing keyword file")
        return read_keyword_file(path), str(path)
    if choice:
        print("Invalid option. Using default keywords.")
    return _default_keywords(notes), DEFAULT_KEYWORDS_FILE.name


def _wants_html() -> bool:
    """The question the original never asked, after its own: the end of piped answers means no."""
    try:
        return ask_yes_no(PROMPT_HTML)
    except EndOfInput:
        return False


def _top_n(value: Optional[int], yes: bool, question: str) -> int:
    if value is not None:
        return value
    if yes:
        return DEFAULT_TOP

    def accept(answer: str) -> int:
        if not answer:
            return DEFAULT_TOP
        try:
            n = int(answer)
        except ValueError:
            raise ValueError("Please enter a whole number (or press Enter for 3).") from None
        if n < 1:
            raise ValueError("Please enter a number of at least 1.")
        return n

    return ask_until(question, accept, "a whole number of at least 1")


def _filters(args: argparse.Namespace) -> Filters:
    from ..analysis import Filters

    return Filters(folders=tuple(normalize_path(strip_quotes(f)) for f in args.folder),
                   models=tuple(m for m in args.model if m.strip()),
                   generators=tuple(g for g in args.generator if g.strip()),
                   since=args.since, until=args.until, where=tuple(q for q in args.where if q.strip()))


def _compare(args: argparse.Namespace) -> Optional[tuple[str, str]]:
    from ..analysis import parse_compare_spec

    if not args.compare:
        return None
    for spec in args.compare:
        try:
            parse_compare_spec(spec)
        except InputError as exc:
            raise UsageError(str(exc)) from None
    return tuple(args.compare)  # type: ignore[return-value]


def _label_by(args: argparse.Namespace):
    from ..analysis import parse_label_spec

    if args.label_by is None:
        return None
    try:
        spec = parse_label_spec(args.label_by)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    if spec.source == "file" and not Path(spec.path).is_file():
        raise InputError(f"labels file not found: {spec.path}; give a CSV with path,label lines "
                         "(--label-by file:LABELS.csv)")
    return spec


# -- helper process ---------------------------------------------------------------------------------

def warm_up() -> None:
    """Initializer of the helper process: import what its work needs while the main process
    reads the database, and leave Ctrl-C to the main process (which then shuts it down)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()  # see _gc_paused: this process lives for one run
    # its first job (prompt statistics) needs these; matplotlib is imported for the plots later,
    # while the main process draws its own half
    import sklearn.feature_extraction.text  # noqa: F401 - the slowest import (~1 s)

    from .. import analysis  # noqa: F401


@contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector for one run. The statistics allocate millions
    of small objects (rows, tokens, counters) and almost no reference cycles; the collector
    would re-scan them over and over (measured: a third of the analysis' CPU time and
    two fifths of the plotting's at 100,000 images). Memory is still freed by reference
    counting; the few cycles (matplotlib figures) wait for the end (measured: ~20 MB)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _ready() -> bool:
    return True


def start_helper(workers: Optional[int]) -> Optional[ProcessPoolExecutor]:
    """One helper process (spawned: portable, and no fork of a process with threads), started
    at once so that its imports overlap the database read; None when one process is wanted."""
    wanted = workers if workers is not None else min(2, os.cpu_count() or 1)
    if wanted < 2:
        return None
    try:
        helper = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=warm_up)
        helper.submit(_ready)  # start it now (the pool starts processes on first use)
    except (OSError, ValueError, NotImplementedError) as exc:
        logger.warning("no helper process (%s); working in one process", exc)
        return None
    return helper


def _stop_helper(helper: ProcessPoolExecutor, finished: bool) -> None:
    """After a finished run the helper is idle: shut it down. After an error or Ctrl-C it may
    be in the middle of a job: end it at once, so the message (and the exit) does not wait."""
    if not finished:
        for process in list((getattr(helper, "_processes", None) or {}).values()):
            if process.is_alive():
                process.terminate()
    helper.shutdown(wait=True, cancel_futures=True)


# -- output -------------------------------------------------------------------------------------

def _n(value: int) -> str:
    return f"{value:,}"


def _peak_memory() -> str:
    try:
        import resource
    except ImportError:  # Windows
        return "unknown"
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20
    helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale / 2**20
    return f"{own:.0f} MB" + (f" (helper process {helper:.0f} MB)" if helper else "")


def _remove_stale(out_dir: Path, written: list[Path]) -> None:
    from ..reports.files import replace_outputs

    for name in replace_outputs(out_dir, written, _OPTIONAL_OUTPUTS):
        logger.info("removed %s: an earlier run wrote it and this one did not", out_dir / name)


def _situation(analysis: Analysis) -> list[str]:
    """Plain words for runs that find little or nothing."""
    if analysis.total_rows == 0:
        return ["The database holds no images yet: index a folder first (python DB_filler.py DIR -r). "
                "The reports were written empty."]
    if analysis.images == 0:
        return [f"No images match the filters ({analysis.options.filters.describe()}): the reports are empty."]
    if analysis.with_prompt == 0:
        return ["None of the selected images has a prompt (e.g. only photos or images without generation "
                "data): word, tag, TF-IDF and keyword reports are empty."]
    return []


def _run(args: argparse.Namespace, settings: Settings) -> int:
    notes: list[str] = []
    db_path = _resolve_db(args, settings)
    if db_path.is_dir():  # SQLite would say 'disk I/O error'
        raise DatabaseError(f"{db_path} is a folder, not a database file; pass --db PATH/TO/FILE.db")
    # open now: a missing or foreign database fails before any further question
    con = db.connect(db_path, readonly=True)
    helper = start_helper(args.workers)  # warms up while the questions are answered
    finished_ok = False
    try:
        from ..analysis import AnalysisOptions, analyse, check_schema
        from ..plots import write_plots
        from ..analysis.examples import PER_VALUE
        from ..reports import write_html_report, write_json_report, write_text_reports

        check_schema(con)
        label_by = _label_by(args)  # a bad --label-by fails before any question
        keywords, keyword_source = _resolve_keywords(args, notes)
        top_models = _top_n(args.top_models, args.yes, PROMPT_TOP_MODELS)
        offer_html = args.top_samplers is None and not args.yes and not args.html
        top_samplers = _top_n(args.top_samplers, args.yes, PROMPT_TOP_SAMPLERS)
        want_html = args.html or (offer_html and _wants_html())
        out_dir = Path(strip_quotes(args.out)).expanduser() if args.out else DEFAULT_OUT_DIR
        options = AnalysisOptions(keywords=keywords, top_models=top_models, top_samplers=top_samplers,
                                  filters=_filters(args), dedupe=not args.no_dedupe, compare=_compare(args),
                                  raw_names=args.raw_names, topics=args.topics, label_by=label_by,
                                  examples=PER_VALUE if want_html and not args.no_examples else 0)
        logger.info("database %s; keywords (%s): %s; top %d models, %d samplers; filters: %s; dedupe: %s; "
                    "out: %s", db_path, keyword_source, ", ".join(keywords), top_models, top_samplers,
                    options.filters.describe(), options.dedupe, out_dir)
        started = time.perf_counter()
        with _gc_paused():
            print(f"Analysing {db_path} …", flush=True)
            analysis = analyse(con, options, db_path=str(db_path), executor=helper)
            con.close()
            computed = time.perf_counter()
            reports = write_text_reports(analysis, out_dir)
            plots = {} if args.no_plots else write_plots(analysis, out_dir, executor=helper)
            html = write_html_report(analysis, plots, out_dir, settings.thumbnail_dir) if want_html else None
            data = write_json_report(analysis, out_dir) if args.json else None
        finished_ok = True
    finally:
        con.close()
        if helper is not None:
            _stop_helper(helper, finished_ok)
    _remove_stale(out_dir, [*reports, *plots.values(), *([html] if html is not None else [])])
    finished = time.perf_counter()
    logger.info("analysis %.2f s, writing %.2f s; peak memory %s", computed - started, finished - computed,
                _peak_memory())

    dup = (f", {_n(analysis.duplicates_dropped)} duplicate copies counted once" if options.dedupe
           else ", duplicates counted (--no-dedupe)")
    rows = (f"{_n(analysis.matching_rows)} of {_n(analysis.total_rows)} rows match the filters"
            if options.filters.active else f"{_n(analysis.total_rows)} rows")
    print(f"{_n(analysis.images)} images analysed ({rows}{dup}); {_n(analysis.with_prompt)} with a prompt.")
    if keywords:
        print(f"Keywords: {_n(len(keywords))} from {keyword_source}")
    for note in options.filters.notes:
        print(f"Note: {note}")
    for line in notes + _situation(analysis):
        print(line)
    if analysis.label_analysis is not None:
        la = analysis.label_analysis
        print(f"Labels ({la.source}): {_n(la.labelled)} labelled images, {_n(len(la.significant))} significant "
              f"findings" + (" (too few labelled images to say much)" if la.small_sample else ""))
    print(f"Text reports: {', '.join(p.name for p in reports)}")
    if plots:
        print(f"Plots: {len(plots)} PNG files")
    if html is not None:
        print(f"HTML report: {html}")
    if data is not None:
        print(f"JSON report: {data}")
    print(f"Analysis complete. Results saved in {out_dir} ({finished - started:.1f} s)")
    return EXIT_OK


def main(argv: Optional[Sequence[str]] = None, prog: str = SCRIPT) -> int:
    return run_main(prog, LOG_NAME, build_parser(prog).parse_args,
                    lambda args, settings, _log_path: _run(args, settings), argv, logger)


__all__ = ["main", "build_parser", "warm_up"]
