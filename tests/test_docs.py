"""The maintainer's documentation and the structure it describes stay true: the schema page lists
every declared column in order, the layering of the package holds, no module outgrows its job,
the parser template works, links resolve, and no comment points outside the repository."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import PROJECT_DIR
from exifdata_analytics.models import IMAGE_COLUMNS
from exifdata_analytics.parsers import REGISTRY, STATUS_OK, parse_tags

PACKAGE = PROJECT_DIR / "exifdata_analytics"
DOCS = PROJECT_DIR / "docs"
MAX_MODULE_LINES = 650

# top-level part of the package -> the parts it may import (besides itself); cli may import all
ALLOWED_IMPORTS = {
    "models": set(), "errors": set(), "config": {"errors"}, "logs": {"safe_files"}, "texttable": set(),
    "safe_files": set(),
    "parsers": {"models", "names"},
    "scan": set(), "stealth": {"safe_files"}, "exiftool": {"errors"},
    "names": {"errors", "models"},
    "db": {"errors", "models", "motion", "names", "schema", "stages"},
    "schema": set(), "motion": {"parsers"},
    "dates": {"models", "parsers"},
    "records": {"dates", "exiftool", "models", "motion", "parsers", "safe_files", "scan", "stealth"},
    "moves": {"db", "scan"},
    "filler": {"db", "errors", "exiftool", "moves", "records", "safe_files", "scan"},
    "reparse": {"db", "errors", "records", "scan"},
    "watch": {"errors", "filler", "scan"},
    "stages": set(),
    "search": {"db", "errors", "models", "names"},
    "coverage": {"models", "names"},
    "analysis": {"coverage", "db", "errors", "memory", "models", "names", "parsers", "scan", "search"},
    "reports": {"analysis", "coverage", "errors", "safe_files", "texttable", "thumbnails"},
    "plots": {"analysis", "coverage", "errors", "safe_files"},
    "export": {"db", "errors", "parquet", "safe_files", "samples", "scan", "search"},
    "parquet": {"errors"},
    "datasette_metadata": set(),
    "maintenance": {"db", "errors", "export", "safe_files", "scan", "search"},
    "legacy": {"db", "errors", "exiftool", "filler", "models", "records", "scan"},
    "samples": set(), "memory": set(),
    "inventory": {"errors", "names"},
    "thumbnails": {"errors", "safe_files", "scan"},
    "web": {"analysis", "db", "errors", "export", "safe_files", "scan", "search", "thumbnails"},
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if rel.parts else ""


def _imported_parts(path: Path) -> set[str]:
    """The top-level parts of the package a module imports."""
    rel = path.relative_to(PACKAGE).with_suffix("")
    here = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)] if node.level > 1 else here
                parts = base + (node.module.split(".") if node.module else [])
                if not parts:  # 'from .. import x' at the top: x is the part
                    found |= {a.name for a in node.names}
                    continue
                found.add(parts[0])
            elif node.module and node.module.startswith("exifdata_analytics."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("exifdata_analytics.")}
    return found


def test_the_schema_page_lists_every_declared_column_in_order():
    text = (DOCS / "schema.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `(\w+)` \| [^|]+ \| (\w+) \|", text, re.MULTILINE)
    assert listed == [(c.name, c.group) for c in IMAGE_COLUMNS]


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_outgrows_its_job(module):
    assert len(module.read_text(encoding="utf-8").splitlines()) <= MAX_MODULE_LINES


def test_the_layering_holds():
    wrong = {}
    for module in _modules():
        part = _part(module)
        if part in ("cli", "__init__", "__main__"):
            continue
        allowed = ALLOWED_IMPORTS[part] | {part}
        extra = _imported_parts(module) - allowed
        if extra:
            wrong[str(module.relative_to(PACKAGE))] = sorted(extra)
    assert wrong == {}
    assert set(ALLOWED_IMPORTS) >= {_part(m) for m in _modules()} - {"cli", "__init__", "__main__"}


_OUTSIDE = re.compile(r"DESIGN\.md|FORMATS\.md|original-README|\bissue[ -]\d|\.\./shared|§\d")


def test_no_comment_points_outside_the_repository():
    found = []
    for path in [*_modules(), *sorted((PROJECT_DIR / "bench").glob("*.py"))]:
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _OUTSIDE.search(line):
                found.append(f"{path.relative_to(PROJECT_DIR)}:{no}: {line.strip()}")
    assert found == []


def test_the_parser_template_parses_its_example_and_is_not_registered():
    from exifdata_analytics.parsers import _template

    outcome = parse_tags(_template.EXAMPLE_TAGS, registry=(_template.PARSER,))
    assert outcome.status == STATUS_OK and outcome.parser == "example"
    p = outcome.params
    assert (p.prompt, p.steps, p.width, p.height, p.resources[0].name) == ("a cat", 20, 512, 768, "add_detail")
    assert _template.PARSER not in REGISTRY


def test_links_between_the_documents_resolve():
    for page in [PROJECT_DIR / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).is_file(), f"{page.name} links to missing {target}"


def test_the_architecture_page_names_only_modules_that_exist():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    paths = {str(p.relative_to(PROJECT_DIR)) + ("/" if p.is_dir() else "") for p in PROJECT_DIR.rglob("*")
             if ".venv" not in p.parts and ".git" not in p.parts}
    names = re.findall(r"`((?:[a-z_0-9]+/)*[a-z_0-9]+(?:\.py|/))`", text)
    assert len(names) > 30
    for name in names:
        assert any(p == name or p.endswith("/" + name) for p in paths), name
