"""Results as JUnit XML, the report GitLab, Jenkins and GitHub's test reporters read.

One ``testsuite`` per module (and one for the quiz), one ``testcase`` per
test. GitLab shows neither properties nor failure messages in its summary,
so each test's points are also in its name (``[1/1]``) and in
``system-out``; the feedback is the body of ``failure``. Control characters
that XML 1.0 cannot hold (a student may print anything) are replaced.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from gatelab.report.exporters import facts, text_of
from gatelab.report.results import Results, Status, TestResult
from gatelab.version import __version__

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: Any) -> str:
    return _ILLEGAL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", str(text))


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


def _case(suite: ET.Element, test: TestResult) -> None:
    name = f"{test.name} [{_points(test.score)}/{_points(test.max_score)}]"
    case = ET.SubElement(suite, "testcase", name=_clean(name), classname=_clean(test.function), time="0")
    if test.status is Status.ERROR:
        ET.SubElement(case, "error", message="the grader failed on this test").text = _clean(test.feedback)
    elif not test.passed:
        first = test.feedback.strip().splitlines()[0] if test.feedback.strip() else "failed"
        ET.SubElement(case, "failure", message=_clean(first[:200])).text = _clean(text_of(test))
    lines = [f"points: {_points(test.score)}/{_points(test.max_score)}"]
    if test.mistakes:
        lines.append(f"mistakes: {', '.join(test.mistakes)}")
    if test.output:
        lines.append(test.output)
    ET.SubElement(case, "system-out").text = _clean("\n".join(lines))


def _suite(parent: ET.Element, name: str, tests: list[TestResult], properties: dict[str, Any]) -> None:
    failures = sum(1 for t in tests if t.status is Status.FAILED)
    errors = sum(1 for t in tests if t.status is Status.ERROR)
    suite = ET.SubElement(parent, "testsuite", name=_clean(name), tests=str(len(tests)), failures=str(failures),
                          errors=str(errors), skipped="0", time="0")
    listed = ET.SubElement(suite, "properties")
    for key, value in properties.items():
        ET.SubElement(listed, "property", name=key, value=_clean(value))
    for test in tests:
        _case(suite, test)


def render(results: Results) -> str:
    """The JUnit XML document for ``results``."""
    root = ET.Element("testsuites", name=_clean(results.title), tests=str(len(results.tests)),
                      failures=str(sum(1 for t in results.tests if t.status is Status.FAILED)),
                      errors=str(len(results.grader_errors)), time=f"{results.seconds:.3f}")
    properties = {**facts(results), "score": _points(results.score), "max_score": _points(results.max_score)}
    modules: dict[str, list[TestResult]] = {}
    for test in results.tests:
        modules.setdefault(test.function.split(".")[0], []).append(test)
    for module, tests in modules.items():
        _suite(root, module, tests, properties)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def failure(message: str) -> str:
    """A valid report when grading itself could not run: one error, the reason in it."""
    root = ET.Element("testsuites", name="gatelab", tests="1", failures="0", errors="1")
    suite = ET.SubElement(root, "testsuite", name="autograder", tests="1", failures="0", errors="1", skipped="0")
    case = ET.SubElement(suite, "testcase", name="Autograder failed [0/0]", classname="gatelab", time="0")
    ET.SubElement(case, "error", message="the autograder could not grade this submission").text = _clean(message)
    properties = ET.Element("properties")
    ET.SubElement(properties, "property", name="gatelab", value=__version__)
    suite.insert(0, properties)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
