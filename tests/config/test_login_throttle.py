"""Password guessing is throttled (django-axes): after ``AXES_FAILURE_LIMIT`` wrong passwords an
account is locked, from every address, and so is the address, for every account, until the
cool-off has passed; the site's log-in and the admin's alike. A success clears the account's
own count, never the address's."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RIGHT = "correct-horse-battery"
HOME, OTHER_HOME = "203.0.113.7", "198.51.100.9"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def bob(db):
    return UserFactory(username="dev.bob")


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", staff=True)


def log_in(username, password, address=HOME, where="login"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(reverse(where), {"username": username, "password": password})
    return response, SESSION_KEY in client.session


def guess_wrong(username, times, address=HOME, where="login"):
    for _ in range(times):
        response, signed_in = log_in(username, "wrong-guess", address, where)
        assert not signed_in
    return response


def assert_locked(response, signed_in):
    assert not signed_in
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed log-ins" in text and "15 minutes" in text


def test_the_limit_locks_the_account_even_with_the_right_password(bob, settings):
    assert guess_wrong("dev.bob", settings.AXES_FAILURE_LIMIT - 1).status_code == 200
    guess_wrong("dev.bob", 1)
    assert_locked(*log_in("dev.bob", RIGHT))
    # From another address too: the account is locked, not only the address.
    assert_locked(*log_in("dev.bob", RIGHT, address=OTHER_HOME))


def test_the_address_is_locked_for_every_account(bob, alice, settings):
    guess_wrong("dev.bob", settings.AXES_FAILURE_LIMIT)
    assert_locked(*log_in("alice", RIGHT))
    # Alice from her own address is not held up.
    assert log_in("alice", RIGHT, address=OTHER_HOME)[1]


def test_guesses_spread_over_accounts_lock_the_address(bob, alice, settings):
    half = settings.AXES_FAILURE_LIMIT // 2
    guess_wrong("dev.bob", half)
    guess_wrong("alice", settings.AXES_FAILURE_LIMIT - half)
    assert_locked(*log_in("dev.bob", RIGHT))


def test_the_admin_log_in_is_throttled_too(alice, settings):
    guess_wrong("alice", settings.AXES_FAILURE_LIMIT, where="admin:login")
    response, signed_in = log_in("alice", RIGHT, where="admin:login")
    assert_locked(response, signed_in)
    # And the lock holds on the site's log-in page as well.
    assert_locked(*log_in("alice", RIGHT, address=OTHER_HOME))


def test_the_lock_lifts_after_the_cool_off(bob, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        guess_wrong("dev.bob", settings.AXES_FAILURE_LIMIT)
        assert_locked(*log_in("dev.bob", RIGHT))
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert_locked(*log_in("dev.bob", RIGHT))
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert log_in("dev.bob", RIGHT)[1]


def test_a_success_clears_the_accounts_count(bob, settings):
    guess_wrong("dev.bob", settings.AXES_FAILURE_LIMIT - 1, address=OTHER_HOME)
    assert log_in("dev.bob", RIGHT, address=OTHER_HOME)[1]
    guess_wrong("dev.bob", settings.AXES_FAILURE_LIMIT - 1)
    assert log_in("dev.bob", RIGHT)[1]


def test_signing_in_to_ones_own_account_does_not_clear_guesses_at_another(bob, alice, settings):
    # A partner guessing at a PM's password cannot reset the count by signing in as itself.
    for _ in range(2):
        guess_wrong("alice", settings.AXES_FAILURE_LIMIT // 2)
        log_in("dev.bob", RIGHT)
    assert_locked(*log_in("alice", RIGHT, address=OTHER_HOME))


def test_the_wrong_password_message_is_unchanged_below_the_limit(bob):
    response = guess_wrong("dev.bob", 1)
    assert response.status_code == 200
    assert "didn&#x27;t match" in response.content.decode() or "didn't match" in response.content.decode()


def test_behind_the_proxy_the_callers_address_is_the_one_the_proxy_added(bob, alice, settings):
    settings.CLIENT_ADDRESS_HEADER = "HTTP_X_FORWARDED_FOR"
    proxy = "127.0.0.1"

    def through_proxy(username, password, forwarded):
        client = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded)
        response = client.post(reverse("login"), {"username": username, "password": password})
        return response, SESSION_KEY in client.session

    # The guesser's own header entry (left) is ignored: the proxy appended the real address.
    for n in range(settings.AXES_FAILURE_LIMIT):
        through_proxy("dev.bob", "wrong-guess", f"10.9.9.{n}, {HOME}")
    assert_locked(*through_proxy("alice", RIGHT, HOME))
    # Everyone else behind the same proxy is not locked out with them.
    assert through_proxy("alice", RIGHT, OTHER_HOME)[1]
