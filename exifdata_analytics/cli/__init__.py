"""Command-line layer: argument parsing, prompts, progress bars, messages and exit codes."""
