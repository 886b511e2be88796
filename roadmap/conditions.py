"""When a roadmap step, or an item of its checklist, applies to an integration.

A condition is a named rule over the integration's facts (its parts and data types). The facts
are read by attribute from any object with ``has_data_part``, ``has_trading_part``,
``data_types`` and ``data_source``, so the roadmap needs to know nothing of partners or their integrations.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Forex and Crypto always need the partner's own feed, and CFD may; those are the data types
# whose data endpoints TradingView autotests (ROADMAP.md, "What the manual adds").
DATA_AUTOTEST_TYPES = ("crypto", "forex", "cfd")


class IntegrationFacts(Protocol):
    has_data_part: bool
    has_trading_part: bool
    data_types: list[str]
    data_source: str  # "own_feed", "exchange_mapping" or ""


@dataclass(frozen=True)
class Verdict:
    applies: bool
    reason: str


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    rule: Callable[[IntegrationFacts], Verdict]

    def __call__(self, facts: IntegrationFacts) -> Verdict:
        return self.rule(facts)


def _data_type_phrase(facts: IntegrationFacts) -> str:
    return ", ".join(facts.data_types) or "no data types recorded"


def _always(facts):
    return Verdict(True, "")


def _trading_part(facts):
    if facts.has_trading_part:
        return Verdict(True, "The integration has a trading part.")
    return Verdict(False, "The integration has no trading part.")


def _data_part(facts):
    if facts.has_data_part:
        return Verdict(True, "The integration has a data part.")
    return Verdict(False, "The integration has no data part.")


def _data_autotests(facts):
    if not facts.has_data_part:
        return Verdict(False, "The integration has no data part.")
    matching = [t for t in facts.data_types if t in DATA_AUTOTEST_TYPES]
    if matching:
        return Verdict(True, f"Data endpoints are autotested for {', '.join(matching)} data.")
    return Verdict(
        False,
        f"Data endpoints are autotested only for crypto, forex or CFD data; this integration has "
        f"{_data_type_phrase(facts)}.",
    )


def _own_data_feed(facts):
    if facts.has_data_part and facts.data_source == "own_feed":
        return Verdict(True, "The partner connects its own data feed.")
    return Verdict(False, "The partner does not connect its own data feed.")


def _autotests(facts):
    trading, data = _trading_part(facts), _data_autotests(facts)
    if trading.applies or data.applies:
        suites = [name for name, v in (("trading", trading), ("data", data)) if v.applies]
        return Verdict(True, f"Autotests for the {' and '.join(suites)} endpoints.")
    return Verdict(False, f"No autotests apply: {trading.reason} {data.reason}")


CONDITIONS = {
    c.code: c
    for c in (
        Condition("always", "Always", _always),
        Condition("trading_part", "Integration has a trading part", _trading_part),
        Condition("data_part", "Integration has a data part", _data_part),
        Condition("data_autotests", "Data part with crypto, forex or CFD data", _data_autotests),
        Condition("own_data_feed", "Partner connects its own data feed", _own_data_feed),
        Condition("autotests", "Trading part, or data autotests apply", _autotests),
    )
}
CONDITION_CHOICES = [(c.code, c.label) for c in CONDITIONS.values()]


def evaluate(code: str, facts: IntegrationFacts) -> Verdict:
    """Whether the condition named ``code`` holds for these facts, and why."""
    try:
        return CONDITIONS[code](facts)
    except KeyError:
        raise ValueError(f"Unknown condition {code!r}; known: {', '.join(CONDITIONS)}.") from None
