"""bench/capacity.py: the on-paper capacity arithmetic of docs/performance.md (no timing here)."""

from __future__ import annotations

import pytest

from bench.capacity import Assumptions, Measured, capacity, from_ingest, per_core

MEASURED = Measured(
    events_per_request=1.5,
    server_us=200.0,
    server_two_us=220.0,
    redis_us=20.0,
    cluster_server_us=250.0,
    cluster_redis_us=30.0,
    cluster_hottest_us=14.0,
)


def rows_of(assumptions: Assumptions) -> dict[str, dict]:
    return {row["scope"]: row for row in capacity(MEASURED, assumptions)}


def rows() -> dict[str, dict]:
    return rows_of(Assumptions())


def test_one_core_at_seventy_percent_carries_its_share_of_a_second():
    assert per_core(200.0, 0.7) == pytest.approx(3500.0)


def test_one_process_is_limited_by_its_own_cpu_and_visitors_follow_from_requests_per_minute():
    row = rows()["one process"]
    assert row["rps"] == pytest.approx(3500.0)
    assert row["eps"] == pytest.approx(3500.0 * 1.5)
    assert row["visitors"] == pytest.approx(3500.0 * 60 / 2)
    assert row["limit"] == "server CPU"


def test_a_host_pays_the_two_process_contention_and_leaves_a_core_to_redis():
    row = rows()["one host"]
    assert row["servers_rps"] == pytest.approx(7 * 0.7e6 / 220.0)
    assert row["redis_rps"] == pytest.approx(0.7e6 / 20.0)
    assert row["rps"] == pytest.approx(min(7 * 0.7e6 / 220.0, 0.7e6 / 20.0))


def test_one_site_on_a_cluster_is_bounded_by_its_busiest_master():
    row = rows()["a cluster, one site"]
    assert row["redis_rps"] == pytest.approx(0.7e6 / 14.0)
    assert row["rps"] == pytest.approx(min(32 * 0.7e6 / (250.0 * 1.1), 0.7e6 / 14.0))


def test_a_cluster_is_the_least_of_its_server_cores_and_its_masters():
    row = rows_of(Assumptions(cluster_hosts=10, cluster_masters=3))["a cluster, many sites"]
    servers = 80 * 0.7e6 / (250.0 * 1.1)
    masters = 3 * 0.7e6 / 30.0
    assert row["servers_rps"] == pytest.approx(servers)
    assert row["redis_rps"] == pytest.approx(masters)
    assert row["rps"] == pytest.approx(min(servers, masters))
    assert row["limit"] == ("Redis CPU" if masters < servers else "server CPU")


def test_two_processes_cheaper_than_one_are_not_counted_as_a_gain():
    cheaper = Measured(1.0, 200.0, 150.0, 20.0, 200.0, 20.0)
    assert capacity(cheaper)[2]["servers_rps"] == pytest.approx(7 * 0.7e6 / 200.0)


def test_the_ingest_results_without_a_two_process_row_give_no_capacity():
    assert from_ingest({"servers": {"c": {}}, "workload": {}}) is None
