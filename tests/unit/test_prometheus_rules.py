"""The alert rules are valid, and every alert has a promtool unit test that passes (deploy/prometheus/alerts.test.yml).

promtool comes from the PATH, or from Debian's prometheus package fetched once into ~/.cache/send-mediation (see
shared.localinfra.prometheus); the tests skip, saying why, only when neither is possible.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.localinfra.prometheus import PrometheusBinaries, find_binaries, unavailable_reason

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yml"
OPERATIONS = ROOT / "docs" / "operations.md"


@pytest.fixture(scope="session")
def prometheus_binaries() -> PrometheusBinaries:
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(f"promtool unavailable ({unavailable_reason()}): install Debian's prometheus package or set "
                    "PROMETHEUS_BIN_DIR")
    return binaries


def alerts() -> dict[str, dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def test_alert_rules_pass_promtool_check(prometheus_binaries: PrometheusBinaries) -> None:
    result = subprocess.run([str(prometheus_binaries.promtool), "check", "rules", str(RULES)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_the_alerts_pass(prometheus_binaries: PrometheusBinaries) -> None:
    result = subprocess.run([str(prometheus_binaries.promtool), "test", "rules", str(RULE_TESTS)],
                            capture_output=True, text=True, timeout=300, check=False, cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_where_it_fires() -> None:
    fired: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            if check.get("exp_alerts"):
                fired.add(check["alertname"])
    assert sorted(set(alerts()) - fired) == []


def test_every_alert_names_who_acts_and_has_a_runbook_in_operations_doc() -> None:
    headings = [line for line in OPERATIONS.read_text().splitlines() if line.startswith("### ")]
    missing = [name for name in alerts() if not any(name in heading.split() for heading in headings)]
    assert missing == [], f"alerts without a runbook entry in docs/operations.md: {missing}"
    for name, rule in alerts().items():
        assert rule.get("labels", {}).get("severity") in {"warning", "critical"}, name
        if rule in yaml.safe_load(RULES.read_text())["groups"][-1]["rules"]:  # the statutory group
            assert rule["labels"].get("team") and rule["annotations"].get("runbook"), name
