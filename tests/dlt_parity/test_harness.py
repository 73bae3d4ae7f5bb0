"""The harness itself: the comparison fails where it must, dlt stays confined and never sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from dlt import Pipeline
from dlt.extract.exceptions import ResourceExtractionError

from sandbox import SandboxServer

from .harness import assert_same_records, dlt_incremental_state, dlt_records, tap_records
from .seed_configs import as_written

ROWS = [{"id": 1, "name": "a", "meta": {"x": [1, 2]}}, {"id": 2, "name": "b", "meta": {"x": []}}]


def _clients_incremental(srv: SandboxServer) -> dict:
    """Seed 003's clients with an incremental on updated_at (the sandbox's updated_since filter)."""
    config = as_written("timetracking", srv)
    clients = next(r for r in config["resources"] if r["name"] == "clients")
    clients["endpoint"]["params"] = {"updated_since": "{incremental.start_value}"}
    clients["endpoint"]["incremental"] = {
        "cursor_path": "updated_at",
        "initial_value": "2024-01-01T00:00:00Z",
    }
    return {**config, "resources": [clients]}


# ------------------------------------------------------------------------- comparison
def test_same_records_pass_ignoring_dlt_fields_and_id_types() -> None:
    dlt_side = {"r": [{**row, "_dlt_id": "x"} for row in ROWS]}
    tap_side = {"r": [{**row, "id": str(row["id"])} for row in ROWS]}
    assert_same_records(dlt_side, tap_side, "r")


def test_order_matters_where_the_api_defines_one() -> None:
    swapped = {"r": list(reversed(ROWS))}
    with pytest.raises(AssertionError, match="first difference at position 0"):
        assert_same_records({"r": ROWS}, swapped, "r")
    assert_same_records({"r": ROWS}, swapped, "r", ordered=False)


@pytest.mark.parametrize(
    ("tap_row", "problem"),
    [
        ({"id": 1, "name": "a", "meta": {"x": [1, 3]}}, r"meta: dlt \{'x': \[1, 2\]\} vs tap"),
        ({"id": 1, "name": "a", "meta": {"x": [1, 2], "y": 0}}, "meta"),
        ({"id": 1, "name": "a"}, r"the tap does not emit \['meta'\]"),
    ],
)
def test_a_value_or_a_dropped_field_fails(tap_row: dict, problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        assert_same_records({"r": ROWS[:1]}, {"r": [tap_row]}, "r")


def test_a_dropped_field_may_be_declared() -> None:
    assert_same_records({"r": ROWS[:1]}, {"r": [{"id": 1, "name": "a"}]}, "r", tap_drops={"meta"})


def test_booleans_are_not_numbers_but_ints_are_floats() -> None:
    with pytest.raises(AssertionError, match="flag"):
        assert_same_records({"r": [{"id": 1, "flag": True}]}, {"r": [{"id": 1, "flag": 1}]}, "r")
    assert_same_records({"r": [{"id": 1, "n": 2}]}, {"r": [{"id": 1, "n": 2.0}]}, "r")


def test_nothing_to_compare_is_a_failure() -> None:
    with pytest.raises(AssertionError, match="nothing to compare"):
        assert_same_records({"r": []}, {"r": []}, "r")


# ------------------------------------------------------------------------- running dlt
def test_dlt_refuses_to_run_with_its_defaults(
    monkeypatch: pytest.MonkeyPatch, module_sandbox: SandboxServer
) -> None:
    monkeypatch.delenv("RUNTIME__DLTHUB_TELEMETRY")
    with pytest.raises(RuntimeError, match="RUNTIME__DLTHUB_TELEMETRY"):
        dlt_records(as_written("statuspage", module_sandbox))


def test_dlt_answers_on_the_first_response(sandbox: SandboxServer) -> None:
    """No retry, hence no real backoff sleep: a 503 fails the referee at once."""
    sandbox.inject("/v1/resource/clients", [503])
    config = as_written("timetracking", sandbox)
    config["resources"] = [r for r in config["resources"] if r["name"] == "clients"]
    with pytest.raises(ResourceExtractionError, match="503 Server Error"):
        dlt_records(config)
    assert [r["status"] for r in sandbox.request_log] == [503]


def test_dlt_writes_only_under_the_tmp_dirs(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    sandbox: SandboxServer,
    dlt_pipeline: Pipeline,
    dlt_isolation: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    records = dlt_records(_clients_incremental(sandbox), pipeline=dlt_pipeline)
    assert len(records["clients"]) == 130
    assert list(home.iterdir()) == []
    assert Path(dlt_pipeline.pipelines_dir).is_relative_to(tmp_path)
    assert any(Path(dlt_pipeline.pipelines_dir).rglob("state.json"))
    assert not (Path.cwd() / ".dlt").exists()


def test_a_pipeline_carries_incremental_state(sandbox: SandboxServer, dlt_pipeline: Pipeline) -> None:
    config = _clients_incremental(sandbox)
    first = dlt_records(config, pipeline=dlt_pipeline)["clients"]
    last = max(r["updated_at"] for r in first)
    assert dlt_incremental_state(dlt_pipeline, "clients")["updated_at"]["last_value"] == last
    changed = sandbox.mutate("timetracking/clients", add=2, update=5)
    second = dlt_records(config, pipeline=dlt_pipeline)["clients"]
    assert {r["id"] for r in second} == set(changed["added"]) | set(changed["updated"])
    assert sandbox.request_log[-1]["query"]["updated_since"] == last


def _parent_and_child(srv: SandboxServer) -> dict:
    """5 clients (one page of seed 003's clients) and, per client, one page of 3 users."""
    config = as_written("timetracking", srv)
    clients = next(r for r in config["resources"] if r["name"] == "clients")
    clients["endpoint"] = {**clients["endpoint"], "paginator": "single_page", "params": {"limit": 5}}
    users = {
        "name": "client_users",
        "include_from_parent": ["name"],
        "endpoint": {
            "path": "/v1/resource/users",
            "data_selector": "data",
            "paginator": "single_page",
            "params": {"limit": 3, "client": "{resources.clients.id}"},
        },
    }
    return {**config, "resources": [clients, users]}


@pytest.mark.parametrize("with_pipeline", [False, True])
def test_a_parent_is_recorded_once(
    with_pipeline: bool, module_sandbox: SandboxServer, dlt_pipeline: Pipeline
) -> None:
    records = dlt_records(_parent_and_child(module_sandbox), pipeline=dlt_pipeline if with_pipeline else None)
    assert [len(records["clients"]), len(records["client_users"])] == [5, 15]
    assert records["client_users"][0]["_clients_name"] == records["clients"][0]["name"]


def test_an_endless_resource_fails_instead_of_hanging(module_sandbox: SandboxServer) -> None:
    with pytest.raises(AssertionError, match="more than 10 items"):
        dlt_records(_parent_and_child(module_sandbox), limit=10)


def test_tap_records_are_grouped_per_stream(module_sandbox: SandboxServer) -> None:
    records, state = tap_records(as_written("timetracking", module_sandbox))
    assert {name: len(rows) for name, rows in records.items()} == {
        name: 130 for name in ("events", "clients", "users", "labels", "projects")
    }
    assert isinstance(state, dict)
