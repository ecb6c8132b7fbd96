"""The guard resists key guessing (issue 15): wrong keys are throttled per client address before any
scrypt, so guessing cannot starve the clients whose keys are right, and a valid key is hashed once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import threading
import time

import httpx
import pytest

from safehub.guard.config import ClientConfig
from safehub.guard.keys import ClientTable, FailedAuthLimiter, hash_key
from safehub.guard.server import running_guard
from tests.guard.doubles import guard_config, keyword_screens

USER = [{"role": "user", "content": "hi"}]
CHOSEN_KEY = "correct horse battery staple"  # a key a person chose: stored as scrypt
GENERATED_KEY = "sk-guard-generated-0123456789abcdef"  # stored as sha256
CLIENTS = [{"name": "people", "key_hash": hash_key(CHOSEN_KEY, "scrypt")},
           {"name": "robots", "key_hash": hash_key(GENERATED_KEY)}]
GUESSER = "127.0.0.2"  # loopback is a /8: a second client address on this machine


@pytest.fixture
def scrypt_passwords(monkeypatch) -> list[bytes]:
    """The password of every hashlib.scrypt call from here on (the real function still runs)."""
    passwords: list[bytes] = []
    lock = threading.Lock()
    real_scrypt = hashlib.scrypt

    def counting_scrypt(password, **options):
        with lock:
            passwords.append(bytes(password))
        return real_scrypt(password, **options)

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    return passwords


def chat(http: httpx.Client, guard, key: str) -> httpx.Response:
    return http.post(f"{guard.base_url}/chat/completions", json={"model": "guarded", "messages": USER},
                     headers={"authorization": f"Bearer {key}"}, timeout=30)


def test_wrong_keys_from_one_address_get_429_after_the_limit_while_other_clients_get_200(make_mock_server,
                                                                                       scrypt_passwords):
    config = guard_config(make_mock_server().spec(), clients=CLIENTS,
                          limits={"failed_auth": {"requests_per_s": 0.01, "burst": 5}})
    with running_guard(config, screens=keyword_screens()) as guard, \
            httpx.Client(transport=httpx.HTTPTransport(local_address=GUESSER)) as guesser, httpx.Client() as legit:
        guesses, legit_statuses = [], []
        for index in range(30):
            guesses.append(chat(guesser, guard, f"sk-guess-{index}"))
            legit_statuses.append(chat(legit, guard, CHOSEN_KEY if index % 2 else GENERATED_KEY).status_code)
        known_key_from_the_guessers_address = chat(guesser, guard, GENERATED_KEY)
    assert [g.status_code for g in guesses] == [401] * 5 + [429] * 25
    limited = guesses[-1]
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert "too many failed API key attempts from 127.0.0.2" in limited.json()["error"]["message"]
    assert int(limited.headers["retry-after"]) >= 60  # 0.01 attempts/s: the next one is about 100 s away
    assert legit_statuses == [200] * 30
    assert known_key_from_the_guessers_address.status_code == 200  # a right key is never throttled
    assert sum(p.startswith(b"sk-guess-") for p in scrypt_passwords) == 5  # throttled guesses cost no scrypt


def test_distinct_wrong_keys_cost_a_bounded_number_of_scrypts_by_default(make_mock_server, scrypt_passwords):
    with running_guard(guard_config(make_mock_server().spec(), clients=CLIENTS), screens=keyword_screens()) as guard, \
            httpx.Client(transport=httpx.HTTPTransport(local_address=GUESSER)) as guesser:
        started = time.monotonic()
        statuses = [chat(guesser, guard, f"sk-guess-{index}").status_code for index in range(60)]
        elapsed_s = time.monotonic() - started
    guesses_hashed = sum(p.startswith(b"sk-guess-") for p in scrypt_passwords)
    # default limits.failed_auth: a burst of 10, then 1 per second
    assert guesses_hashed <= 10 + int(elapsed_s) + 1, (guesses_hashed, elapsed_s)
    assert statuses[:10] == [401] * 10 and statuses.count(429) >= 60 - guesses_hashed


def test_concurrent_first_requests_with_a_valid_scrypt_key_hash_it_once(make_mock_server, scrypt_passwords):
    async def burst(guard, n: int) -> list[int]:
        async with httpx.AsyncClient(timeout=30) as http:
            responses = await asyncio.gather(*(
                http.post(f"{guard.base_url}/chat/completions", json={"model": "guarded", "messages": USER},
                          headers={"authorization": f"Bearer {CHOSEN_KEY}"}) for _ in range(n)))
        return [r.status_code for r in responses]

    with running_guard(guard_config(make_mock_server().spec(), clients=CLIENTS), screens=keyword_screens()) as guard:
        first = asyncio.run(burst(guard, 16))
        later = asyncio.run(burst(guard, 16))
    assert first == later == [200] * 16  # none of them counted as a failure, so none throttled
    assert scrypt_passwords.count(CHOSEN_KEY.encode()) == 1


def cheap_scrypt_hash(key: str) -> str:
    """A valid `scrypt:` entry with the smallest parameters, so a test can afford thousands of checks."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(key.encode(), salt=salt, n=2, r=1, p=1, dklen=32)
    return f"scrypt:2:1:1:{base64.b64encode(salt).decode()}:{base64.b64encode(digest).decode()}"


def test_a_flood_of_wrong_keys_never_makes_a_valid_key_pay_scrypt_again(scrypt_passwords):
    table = ClientTable([ClientConfig(name="people", key_hash=cheap_scrypt_hash(CHOSEN_KEY))])
    scrypt_passwords.clear()

    async def flood() -> list[str | None]:
        names = [(await table.authenticate(CHOSEN_KEY, "10.0.0.1")).name]
        for index in range(5000):  # more wrong keys than any cache of misses holds, 10 per address
            assert await table.authenticate(f"sk-guess-{index}", f"10.1.{index // 2560}.{index // 10 % 256}") is None
        names.append((await table.authenticate(CHOSEN_KEY, "10.0.0.1")).name)
        return names

    assert asyncio.run(flood()) == ["people", "people"]
    assert scrypt_passwords.count(CHOSEN_KEY.encode()) == 1
    assert len(scrypt_passwords) == 5001


def test_an_ipv6_client_cannot_take_a_fresh_address_per_guess():
    limiter = FailedAuthLimiter(rate_per_s=0.01, burst=3)
    waits = [limiter.take(f"2001:db8:1:2::{index:x}") for index in range(5)]  # one /64, five addresses
    assert waits[:3] == [0.0] * 3 and min(waits[3:]) > 0
    assert limiter.take("2001:db8:1:3::1") == 0.0  # the next /64 is another client
    assert [limiter.take("192.0.2.1") for _ in range(4)][-1] > 0 and limiter.take("192.0.2.2") == 0.0
