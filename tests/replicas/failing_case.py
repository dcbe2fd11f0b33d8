"""A replica test that fails on purpose, with a replica running. Not collected by the
suite (its name does not start with test_): test_hygiene.py runs it in a pytest of its
own and checks that the replica did not outlive it."""

from __future__ import annotations

import os
from pathlib import Path

from tests.replicas.fleet import ReplicaFleet


def test_fails_while_a_replica_runs(fleet: ReplicaFleet) -> None:
    (replica,) = fleet.start(["left-behind"], TASKS="1")  # it serves until stopped
    Path(os.environ["REPLICA_PID_FILE"]).write_text(str(replica.process.pid))
    raise AssertionError("this test fails on purpose")
