"""``Rules.check_json``: a request as JSON text, parsed strictly, with a quicker parse when the text allows it.

The quick parse lets a repeated key win, so the tests here aim repeated keys at every object a request can
have, and check that the answer is always what the strict parser and ``check`` give.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import disclosure_rules
from disclosure_rules import Decision, Rules
from disclosure_rules.reading.jsontext import JsonInputError, loads_strict

from .conftest import EXAMPLES, example

RULES: Rules = disclosure_rules.load(cache_size=10_000)
PERMIT = example("irs-ice-address-request.json")
CHAIN = example("ice-criminal-investigators-use-addresses-before-dmass-order.json")


def strict(text: bytes) -> Decision:
    """What the strict parser and ``check`` give: the answer ``check_json`` must always give."""
    try:
        return RULES.decide_uncached(loads_strict(text))
    except JsonInputError as exc:
        return RULES.invalid([exc.diagnostic])


def text(request: Any) -> bytes:
    return json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode()


def test_a_valid_request_is_decided_as_check_decides_it() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        raw = text(json.loads(path.read_text()))
        assert RULES.check_json(raw) == strict(raw), path.name
        assert RULES.check_json(path.read_bytes()) == strict(path.read_bytes()), path.name  # indented


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"date":"2025-08-07","date":"2025-11-21"}', "duplicate_key"),
        # The repeat is in each kind of object the case key reads, and in one it does not read.
        (text(PERMIT)[:-1] + b',"holder":"SSA"}', "duplicate_key"),
        (text(PERMIT).replace(b'"signed_by":', b'"signed_by":"agency_head","signed_by":'), "duplicate_key"),
        (text(PERMIT).replace(b'"facts":{', b'"facts":{"use":{"solely_for_matter":true},'), "duplicate_key"),
        (text(CHAIN).replace(b'"route":', b'"route":"6103(i)(2)","route":'), "duplicate_key"),
        (text(PERMIT).replace(b'"sets_forth":[', b'"sets_forth":[{"a":1,"a":2},'), "duplicate_key"),
        # Whitespace before a colon, or a colon inside a string, must not hide a repeat.
        (b'{"date" :"2025-08-07", "date"\t: "2025-08-08"}', "duplicate_key"),
        (text(dict(PERMIT, element="a:b"))[:-1] + b',"element":"address"}', "duplicate_key"),
        (b'{"date":NaN}', "json_value"),
        (b'{"date":"2025-08-07"', "json_syntax"),
        (b"\xff\xfe{}", "encoding"),
        (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
        (b'{"date":' + b"1" * 5000 + b"}", "json_value"),
    ],
)
def test_bad_json_is_an_error_however_it_is_parsed(raw: bytes, code: str) -> None:
    decision = RULES.check_json(raw)
    assert decision.decision == "deny" and decision.status == "error"
    assert decision.errors[0].code == code
    assert decision == strict(raw)


def test_a_repeated_key_is_refused_even_when_the_request_without_it_is_cached() -> None:
    raw = text(PERMIT)
    assert RULES.check_json(raw).decision == "permit"
    repeated = raw.replace(b'"signed_by":', b'"signed_by":"assistant_director","signed_by":')
    assert RULES.check_json(repeated).errors[0].code == "duplicate_key"


def test_a_colon_in_a_string_only_takes_the_strict_way() -> None:
    request = dict(PERMIT, facts=dict(PERMIT["facts"], matter=dict(PERMIT["facts"]["matter"], statute="8 U.S.C. :")))
    raw = text(request)
    assert RULES.check_json(raw) == strict(raw)
    assert RULES.check_json(raw).decision == "permit"


@st.composite
def texts(draw: st.DrawFn) -> bytes:
    """An example's JSON with a key repeated, whitespace or colons added, or a value changed."""
    base = draw(st.sampled_from(sorted(EXAMPLES.glob("*.json")))).read_text()
    raw = text(json.loads(base))
    rnd = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["repeat", "space", "colon", "value", "drop"]))
        keys = [i for i in range(len(raw)) if raw[i : i + 2] == b'":']
        if not keys:
            break
        at = rnd.choice(keys) + 1  # just after a key's closing quote
        start = raw.rindex(b'"', 0, at - 1)
        member_key = raw[start:at]
        if action == "repeat":
            value = draw(st.sampled_from([b'"IRS"', b"true", b"1", b'"agency_head"', b"null", b"[]", b"{}"]))
            raw = raw[:start] + member_key + b":" + value + b"," + raw[start:]
        elif action == "space":
            raw = raw[:at] + draw(st.sampled_from([b" ", b"\t", b"\n ", b"\r\n"])) + raw[at:]
        elif action == "colon":
            raw = raw.replace(b'"address"', b'"addr:ess"', 1)
        elif action == "value":
            raw = raw[: at + 1] + draw(st.sampled_from([b'"IRS",', b"true,", b"1,", b"NaN,"])) + raw[at + 1 :]
        else:
            raw = raw[:start] + raw[at + 1 :]
    return raw


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts())
def test_check_json_always_answers_as_the_strict_parser_and_check_do(raw: bytes) -> None:
    RULES.check_json(text(PERMIT))  # a permit in the cache, for a neighbouring case
    expected = strict(raw)
    got = RULES.check_json(raw)
    if expected.status == "error":
        assert got.decision == "deny" and got.status == "error"
        assert [e.code for e in got.errors] == [e.code for e in expected.errors]
    else:
        assert got == expected


def test_text_given_as_a_string_is_read_the_same_way() -> None:
    raw = text(PERMIT)
    assert RULES.check_json(raw.decode()) == RULES.check_json(raw)
    assert RULES.check_json('{"date":"2025-08-07","date":"2025-08-08"}').errors[0].code == "duplicate_key"
