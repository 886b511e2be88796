"""When a step or a checklist item applies: crypto/forex/CFD data is autotested, stocks are not."""

from types import SimpleNamespace

import pytest

from roadmap.conditions import CONDITION_CHOICES, CONDITIONS, Verdict, evaluate


def facts(*, data=False, trading=False, data_types=(), data_source=""):
    return SimpleNamespace(
        has_data_part=data, has_trading_part=trading, data_types=list(data_types), data_source=data_source
    )


STOCKS_DATA_ONLY = facts(data=True, data_types=["stocks"], data_source="exchange_mapping")
CRYPTO_DATA_ONLY = facts(data=True, data_types=["crypto"], data_source="own_feed")
TRADING_ONLY = facts(trading=True)
STOCKS_BOTH = facts(data=True, trading=True, data_types=["stocks"], data_source="exchange_mapping")


def test_known_conditions():
    assert list(CONDITIONS) == ["always", "trading_part", "data_part", "data_autotests", "own_data_feed", "autotests"]
    assert [code for code, _ in CONDITION_CHOICES] == list(CONDITIONS)


def test_data_only_stocks_via_exchange_mapping_has_no_autotests():
    verdict = evaluate("autotests", STOCKS_DATA_ONLY)
    assert verdict.applies is False
    assert verdict.reason == (
        "No autotests apply: The integration has no trading part. Data endpoints are autotested only for "
        "crypto, forex or CFD data; this integration has stocks."
    )
    assert "crypto, forex or CFD" in verdict.reason
    assert evaluate("data_autotests", STOCKS_DATA_ONLY) == Verdict(
        False, "Data endpoints are autotested only for crypto, forex or CFD data; this integration has stocks."
    )
    assert evaluate("trading_part", STOCKS_DATA_ONLY) == Verdict(False, "The integration has no trading part.")
    assert evaluate("data_part", STOCKS_DATA_ONLY) == Verdict(True, "The integration has a data part.")
    assert evaluate("own_data_feed", STOCKS_DATA_ONLY).applies is False


def test_data_only_without_data_types_says_so():
    verdict = evaluate("data_autotests", facts(data=True))
    assert verdict == Verdict(
        False,
        "Data endpoints are autotested only for crypto, forex or CFD data; this integration has no data types recorded.",
    )


def test_data_only_crypto_has_data_autotests():
    assert evaluate("autotests", CRYPTO_DATA_ONLY) == Verdict(True, "Autotests for the data endpoints.")
    assert evaluate("data_autotests", CRYPTO_DATA_ONLY) == Verdict(
        True, "Data endpoints are autotested for crypto data."
    )
    assert evaluate("trading_part", CRYPTO_DATA_ONLY).applies is False


def test_trading_only_has_trading_autotests():
    assert evaluate("autotests", TRADING_ONLY) == Verdict(True, "Autotests for the trading endpoints.")
    assert evaluate("trading_part", TRADING_ONLY) == Verdict(True, "The integration has a trading part.")
    assert evaluate("data_autotests", TRADING_ONLY) == Verdict(False, "The integration has no data part.")
    assert evaluate("data_part", TRADING_ONLY) == Verdict(False, "The integration has no data part.")


def test_both_parts_with_stocks_autotests_trading_only():
    assert evaluate("autotests", STOCKS_BOTH) == Verdict(True, "Autotests for the trading endpoints.")
    assert evaluate("data_autotests", STOCKS_BOTH).applies is False


def test_both_parts_with_crypto_autotests_trading_and_data():
    both = facts(data=True, trading=True, data_types=["crypto"], data_source="own_feed")
    assert evaluate("autotests", both) == Verdict(True, "Autotests for the trading and data endpoints.")


@pytest.mark.parametrize("data_type", ["forex", "cfd", "crypto"])
def test_forex_cfd_crypto_data_is_autotested(data_type):
    f = facts(data=True, data_types=[data_type], data_source="own_feed")
    assert evaluate("data_autotests", f) == Verdict(True, f"Data endpoints are autotested for {data_type} data.")
    assert evaluate("autotests", f) == Verdict(True, "Autotests for the data endpoints.")


@pytest.mark.parametrize("data_type", ["stocks", "futures", "indices", "bonds", "other"])
def test_other_data_types_are_not_autotested(data_type):
    f = facts(data=True, data_types=[data_type], data_source="exchange_mapping")
    assert evaluate("data_autotests", f).applies is False
    assert evaluate("autotests", f).applies is False


def test_mixed_data_types_name_only_the_autotested_ones():
    f = facts(data=True, data_types=["stocks", "forex", "cfd"], data_source="exchange_mapping")
    assert evaluate("data_autotests", f) == Verdict(True, "Data endpoints are autotested for forex, cfd data.")


def test_data_types_without_data_part_are_not_autotested():
    f = facts(trading=False, data=False, data_types=["crypto"])
    assert evaluate("data_autotests", f) == Verdict(False, "The integration has no data part.")
    assert evaluate("autotests", f) == Verdict(
        False, "No autotests apply: The integration has no trading part. The integration has no data part."
    )


def test_own_data_feed():
    assert evaluate("own_data_feed", facts(data=True, data_types=["crypto"], data_source="own_feed")) == Verdict(
        True, "The partner connects its own data feed."
    )
    assert evaluate("own_data_feed", facts(data=True, data_types=["stocks"], data_source="exchange_mapping")) == (
        Verdict(False, "The partner does not connect its own data feed.")
    )
    assert evaluate("own_data_feed", facts(data=True, data_source="")).applies is False
    # A feed recorded on an integration without a data part does not count.
    assert evaluate("own_data_feed", facts(trading=True, data_source="own_feed")).applies is False


@pytest.mark.parametrize("f", [STOCKS_DATA_ONLY, CRYPTO_DATA_ONLY, TRADING_ONLY, facts()])
def test_always_applies(f):
    assert evaluate("always", f) == Verdict(True, "")


def test_unknown_condition_raises_naming_it():
    with pytest.raises(ValueError) as excinfo:
        evaluate("weekends_only", TRADING_ONLY)
    assert str(excinfo.value) == (
        "Unknown condition 'weekends_only'; known: always, trading_part, data_part, data_autotests, own_data_feed, "
        "autotests."
    )
    assert excinfo.value.__cause__ is None
