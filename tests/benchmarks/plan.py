"""The measurement plan: which cases run, with which durations and repetitions, quick or full."""

from __future__ import annotations

from dataclasses import dataclass

ALL_PEERS = ("ours", "aioclock", "apscheduler3", "apscheduler4", "floor")
PYDANTIC_FLOOR = "pydantic_floor"
"""The startup rows' second reference: the floor after building one pydantic model."""
LATENESS_SIZES = (1, 100, 1_000, 10_000)
FULL_SECONDS = {1: 4.0, 100: 3.0, 1_000: 3.0, 10_000: 20.0}
QUICK_SECONDS = {1: 3.0, 100: 3.0, 1_000: 3.0, 10_000: 5.0}


BLOCKING_VARIANTS = (
    ("async", "loop blocked 0.5 s", ALL_PEERS),
    ("thread", "thread burns CPU 0.5 s", ALL_PEERS),
    # Ours with executor="process"; the floor with a one-worker ProcessPoolExecutor.
    ("process", "process burns CPU 0.5 s", ("ours", "floor")),
    # The 0.1 s task alone: the lateness every other variant is compared to.
    ("alone", "nothing else running", ("ours", "floor")),
)
"""(variant, row label, peers) of the blocking workload."""


@dataclass(frozen=True)
class Case:
    """One row group of the report: a workload with fixed parameters, run on several peers."""

    section: str
    """Report section (and --only family prefix), e.g. 'lateness-aligned'."""
    label: str
    workload: str
    """The worker's --workload name ('import' is measured by the driver itself)."""
    arguments: tuple[str, ...]
    reps: int
    timeout: float
    peers: tuple[str, ...] = ALL_PEERS

    @property
    def family(self) -> str:
        return self.section.split("-")[0]


def lateness_cases(quick: bool, reps: int) -> list[Case]:
    cases = []
    for phasing in ("aligned", "random"):
        for n in LATENESS_SIZES:
            # The spec fixes 20 s for 10,000 tasks; smaller sizes reach steady state
            # sooner, so they run shorter to keep the full plan near 25 minutes.
            duration = QUICK_SECONDS[n] if quick else FULL_SECONDS[n]
            # Time to register before t0, for schedulers that take a start time
            # (measured ≤ 0.025 ms per task); the others start serving after registration.
            lead = 0.5 + n * 0.0002
            cases.append(
                Case(
                    section=f"lateness-{phasing}",
                    label=f"N={n:,}",
                    workload="lateness",
                    arguments=(
                        f"--n={n}",
                        f"--phasing={phasing}",
                        f"--duration={duration}",
                        f"--lead={lead}",
                    ),
                    reps=reps,
                    timeout=duration + lead + 120,
                )
            )
    return cases


def build_plan(quick: bool, reps: int | None) -> list[Case]:
    """All cases in run order; `reps` overrides the default repetitions (1 quick, 3 full)."""
    reps = reps or (1 if quick else 3)
    drift_cap = 4.0 if quick else 15.0
    block = 4.0 if quick else 10.0
    cases = lateness_cases(quick, reps)
    cases.append(
        Case("drift", "0.2 s task, 50 ms body", "drift", (f"--duration={drift_cap}",), reps, 60)
    )
    for variant, label, peers in BLOCKING_VARIANTS:
        cases.append(
            Case(
                f"blocking-{variant}",
                label,
                "blocking",
                (f"--variant={variant}", f"--duration={block}"),
                reps,
                block + 60,
                peers,
            )
        )
    startup_reps = max(reps, 5) if not quick else 1
    # The pydantic floor: what pydantic-model triggers cost a start, whoever schedules them.
    startup_peers = (*ALL_PEERS, PYDANTIC_FLOOR)
    for section, label in (("startup-import", "import"), ("startup-first-run", "first run")):
        workload = label.replace(" ", "-")
        cases.append(Case(section, label, workload, (), startup_reps, 60, startup_peers))
    cases.append(
        Case("simulated", "1 week, 1,000 tasks", "simulated", (), reps, 600, peers=("ours",))
    )
    cases.append(
        Case(
            "simulated",
            "1 week, 1,000 tasks, computed ahead",
            "simulate-ahead",
            (),
            max(reps, 5),
            120,
            peers=("ours",),
        )
    )
    return cases
