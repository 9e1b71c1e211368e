"""The CLI error boundary: one line per problem, the right exit code, the real log file named."""
from __future__ import annotations

import logging

from exifdata_analytics.cli.common import EXIT_FATAL, EXIT_INTERRUPTED, EXIT_USAGE, UsageError, run_cli
from exifdata_analytics.errors import InputError
from exifdata_analytics.logs import current_log_path, setup_logging


def _raise(exc):
    def body():
        raise exc
    return body


def test_unexpected_errors_name_the_log_file_that_config_chose(tmp_path, capsys):
    setup_logging(tmp_path / "my-logs", "tool_LOG.txt")
    try:
        assert current_log_path() == tmp_path / "my-logs" / "tool_LOG.txt"
        assert run_cli(_raise(RuntimeError("kaput")), log_hint="LOG_files/tool_LOG.txt") == EXIT_FATAL
        err = capsys.readouterr().err
        assert err.strip() == f"error: unexpected RuntimeError: kaput (details in {tmp_path / 'my-logs' / 'tool_LOG.txt'})"
        assert "Traceback" in (tmp_path / "my-logs" / "tool_LOG.txt").read_text()
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_exifdata", False):
                logging.getLogger().removeHandler(handler)
                handler.close()


def test_known_errors_usage_errors_and_interrupts_map_to_exit_codes(capsys):
    assert run_cli(_raise(InputError("folder x not found; check the path"))) == EXIT_FATAL
    assert run_cli(_raise(UsageError("DIR is required"))) == EXIT_USAGE
    assert run_cli(_raise(KeyboardInterrupt())) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert err.count("folder x not found") == 1 and "error: DIR is required" in err and "Interrupted." in err
