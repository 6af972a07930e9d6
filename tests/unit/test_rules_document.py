"""docs/rules.md and the tests agree: every rule is proved by a test named after it, or says why it is not enforced.

Convention: a test names rule R8 (or T3) when its function name has ``r8`` (``t3``) as a word of its own
between underscores: ``test_r8_...``, ``..._r8_...`` or ``..._r8``. A rule's section in docs/rules.md is a
``### R8 Title`` heading with either a ``**Tests:**`` line linking every test file that names it, or a
``**Not enforced by the system.**`` paragraph that gives the reason. The same file checks that no Markdown
file in the repository links outside it.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "rules.md"
EXPECTED = [f"T{n}" for n in range(1, 7)] + [f"R{n}" for n in range(1, 24)]
NOT_ENFORCED = "**Not enforced by the system.**"
TESTS_LINE = "**Tests:**"

_HEADING = re.compile(r"^### ([RT]\d+)\b")
_SECTION_END = re.compile(r"^#{1,3} ")
_CITED = re.compile(r"(?<=_)([rt])(\d+)(?=_|$)")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)[^)]*\)")
_REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
_SKIPPED_DIRS = {".git", ".venv", ".run", "node_modules", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"}


@dataclass(frozen=True)
class Rule:
    number: str
    not_enforced_reason: str | None
    test_files: frozenset[str] | None  # the files linked on the Tests: line, repository-relative


def parse_rules(text: str) -> list[Rule]:
    """The rules of a rules document, in order, with their status and the test files they link."""
    rules: list[Rule] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        heading = _HEADING.match(line)
        if not heading:
            continue
        body: list[str] = []
        for following in lines[index + 1:]:
            if _SECTION_END.match(following):
                break
            body.append(following)
        section = "\n".join(body)
        reason = None
        if NOT_ENFORCED in section:
            reason = section.split(NOT_ENFORCED, 1)[1].split("\n\n", 1)[0].strip()
        tests = [entry for entry in body if entry.startswith(TESTS_LINE)]
        files = None
        if tests:
            files = frozenset(str(Path("docs", target).as_posix()).removeprefix("docs/../")
                              for entry in tests for target in _LINK.findall(entry))
        rules.append(Rule(heading.group(1), reason, files))
    return rules


def cited_rules(test_name: str) -> set[str]:
    """The rules a test function's name cites: ``test_r9_r10_late`` cites R9 and R10."""
    return {f"{letter.upper()}{number}" for letter, number in _CITED.findall(test_name)}


def names_of_tests_by_file(root: Path = ROOT) -> dict[str, list[str]]:
    names: dict[str, list[str]] = defaultdict(list)
    for path in sorted((root / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                names[path.relative_to(root).as_posix()].append(node.name)
    return names


def problems(rules: list[Rule], names_by_file: Mapping[str, list[str]]) -> list[str]:
    """Every disagreement between the rules document and the tests' names, as readable sentences."""
    found: list[str] = []
    by_number = {rule.number: rule for rule in rules}
    citing: dict[str, set[str]] = defaultdict(set)
    for file, names in names_by_file.items():
        for name in names:
            for number in cited_rules(name):
                citing[number].add(file)
                if number not in by_number:
                    found.append(f"{file}::{name} names {number}, which docs/rules.md does not have")
                elif by_number[number].not_enforced_reason is not None:
                    found.append(f"{file}::{name} names {number}, which docs/rules.md marks as not enforced")
    for rule in rules:
        if rule.not_enforced_reason is not None and rule.test_files is not None:
            found.append(f"{rule.number} is marked not enforced but has a Tests: line")
        elif rule.not_enforced_reason is not None:
            if len(rule.not_enforced_reason.split()) < 8:
                found.append(f"{rule.number} is marked not enforced without saying why")
        elif rule.test_files is None:
            found.append(f"{rule.number} has neither a Tests: line nor a 'Not enforced by the system.' reason")
        elif not citing[rule.number]:
            found.append(f"{rule.number} has no test named after it (test_{rule.number.lower()}_...)")
        else:
            for file in sorted(citing[rule.number] - rule.test_files):
                found.append(f"{rule.number}: {file} has a test named after it; link it on the Tests: line")
            for file in sorted(rule.test_files - citing[rule.number]):
                found.append(f"{rule.number}: the Tests: line links {file}, which has no test named after it")
    return found


def test_the_rules_document_has_each_rule_once_in_order():
    assert [rule.number for rule in parse_rules(RULES.read_text())] == EXPECTED


def test_the_rules_document_and_the_tests_names_agree():
    assert problems(parse_rules(RULES.read_text()), names_of_tests_by_file()) == []


# The check itself, on small documents: each kind of disagreement is found.

DOCUMENT = """\
### R1 First

**Not enforced by the system.** The portal never sends the notice, so there is nothing to check.

### R2 Second

**Tests:** [tests/unit/test_a.py](../tests/unit/test_a.py)

## Glossary
"""


def test_a_test_name_cites_rules_only_as_whole_words_between_underscores():
    assert cited_rules("test_r9_r10_a_booking_after_day_30") == {"R9", "R10"}
    assert cited_rules("test_a_reminder_before_the_due_day_r6") == {"R6"}
    assert cited_rules("test_t3_trigger_day_is_not_counted") == {"T3"}
    assert cited_rules("test_rate_limits_in_r2d2_style_and_t45x") == set()


def test_the_check_accepts_a_document_that_agrees_with_the_tests():
    assert problems(parse_rules(DOCUMENT), {"tests/unit/test_a.py": ["test_r2_holds"]}) == []


def test_the_check_finds_a_rule_that_no_test_names():
    assert problems(parse_rules(DOCUMENT), {"tests/unit/test_a.py": ["test_something_else"]}) == [
        "R2 has no test named after it (test_r2_...)"]


def test_the_check_finds_a_test_naming_a_rule_the_document_lacks_or_does_not_enforce():
    names = {"tests/unit/test_a.py": ["test_r2_holds", "test_r24_invented", "test_r1_checked_anyway"]}

    assert sorted(problems(parse_rules(DOCUMENT), names)) == [
        "tests/unit/test_a.py::test_r1_checked_anyway names R1, which docs/rules.md marks as not enforced",
        "tests/unit/test_a.py::test_r24_invented names R24, which docs/rules.md does not have",
    ]


def test_the_check_finds_a_test_file_missing_from_or_stale_on_the_tests_line():
    names = {"tests/unit/test_b.py": ["test_r2_holds_elsewhere"]}

    assert problems(parse_rules(DOCUMENT), names) == [
        "R2: tests/unit/test_b.py has a test named after it; link it on the Tests: line",
        "R2: the Tests: line links tests/unit/test_a.py, which has no test named after it",
    ]


def test_the_check_finds_a_rule_with_neither_tests_nor_a_reason():
    rules = parse_rules("### R3 Third\n\nSome text.\n")

    assert problems(rules, {}) == ["R3 has neither a Tests: line nor a 'Not enforced by the system.' reason"]


def test_the_check_finds_a_rule_marked_not_enforced_without_a_reason():
    rules = parse_rules(f"### R3 Third\n\n{NOT_ENFORCED} Later.\n")

    assert problems(rules, {}) == ["R3 is marked not enforced without saying why"]


# Links: a fresh clone must be enough, so no Markdown file points outside the repository.


def markdown_files(root: Path = ROOT) -> Iterator[Path]:
    for path in sorted(root.rglob("*.md")):
        if not _SKIPPED_DIRS & set(path.relative_to(root).parts):
            yield path


def link_targets(text: str) -> list[str]:
    return _LINK.findall(text) + _REFERENCE_LINK.findall(text)


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings (code blocks skipped)."""
    found, fenced = set(), False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"^#{1,6} (.+?)\s*$", line)):
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            found.add(slug)
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for target in link_targets(path.read_text()):
        if re.match(r"^(https?|mailto):", target):
            continue
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            broken.append(f"{target} (not a relative link)")
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        if not resolved.is_relative_to(root):
            broken.append(f"{target} (outside the repository)")
        elif not resolved.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved.read_text()):
            broken.append(f"{target} (no such heading)")
    return broken


@pytest.mark.parametrize("path", list(markdown_files()), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_markdown_links_point_at_files_in_the_repository(path):
    assert broken_links(path) == []


def test_a_link_outside_the_repository_or_to_a_missing_file_is_found(tmp_path):
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "page.md"
    page.write_text("# Top of the page\n\n```sh\n# not a heading\n```\n\n"
                    "[design](../../shared/DESIGN.md) [gone](missing.md) [file](file:///etc/passwd) "
                    "[ok](page.md#top-of-the-page) [here](#top-of-the-page) [code](#not-a-heading) "
                    "[web](https://www.legislation.gov.uk/ukpga/2014/6)\n")

    assert broken_links(page, root=tmp_path) == [
        "../../shared/DESIGN.md (outside the repository)", "missing.md (no such file)",
        "file:///etc/passwd (not a relative link)", "#not-a-heading (no such heading)"]
