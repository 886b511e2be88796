"""The partner team line-up TradingView recommends to meet the roadmap's timelines."""

RECOMMENDED_LINEUP = {"pm": 1, "developer": 2, "qa": 2}
ROLE_NAMES = {"pm": "project manager", "developer": "developer", "qa": "QA specialist"}


def lineup_gaps(counts: dict[str, int]) -> list[str]:
    """What the team lacks against the recommendation, e.g. ``["1 more QA specialist"]``."""
    gaps = []
    for role, wanted in RECOMMENDED_LINEUP.items():
        missing = wanted - counts.get(role, 0)
        if missing > 0:
            name = ROLE_NAMES[role] + ("s" if missing > 1 else "")
            gaps.append(f"{missing} more {name}")
    return gaps
