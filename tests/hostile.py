"""Generators of hostile input, shared by the property tests and the long-run battery
(``scripts/hostile_battery.py``).

Each generator is a plain function of a :class:`random.Random`, so the tests can drive it from hypothesis
(``st.randoms()``, which shrinks) and the battery can run it a million times cheaply from a seed.
"""

from __future__ import annotations

import copy
import datetime
import json
import random
import re
from pathlib import Path
from typing import Any

from disclosure_rules import Rules
from disclosure_rules.intake.request import MAX_SET_ITEMS
from disclosure_rules.rulebook.vocabulary import Slot, Vocabulary

from .test_properties import twin

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RULES_DIR = ROOT / "rules"

SEEDS: list[dict[str, Any]] = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]

# Dates the bundled rules compare with, and the days around them: where a wrongly bucketed date would show.
BOUNDARY_DATES = ["2025-11-20", "2025-11-21", "2025-11-22", "2026-02-04", "2026-02-05", "2026-02-06"]
ODD_DATES = ["2025-02-30", "2025-13-01", "0000-01-01", "9999-12-31", "0001-01-01", "2025-1-1", "2025-08-07\n"]
JUNK: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.5,
    float("nan"),
    float("inf"),
    10**30,
    "",
    " ",
    "\udcff",
    "\x00",
    "IRS ",
    "irs",
    "true",
    "1",
    "x" * 20_000,
    [],
    [None],
    [1],
    ["address", "address"],
    {},
    {"a": None},
    [[[]]],
]


def _typo(name: str, rnd: random.Random) -> str:
    """A name close to a declared one (the kind a did-you-mean help catches), or a wholly foreign one."""
    if not name or rnd.random() < 0.2:
        return rnd.choice(["extra", "__class__", "facts", "chain", "", "Date", "null"])
    i = rnd.randrange(len(name))
    return rnd.choice([name[:i] + name[i + 1 :], name + "s", name.upper(), name[:i] + "_" + name[i:], name + " "])


def valid_value(slot: Slot, vocabulary: Vocabulary, rnd: random.Random) -> Any:
    kind = slot.type.kind
    if kind == "enum":
        return rnd.choice(list(vocabulary.enums[slot.type.enum or ""].values))
    if kind == "set":
        values = list(vocabulary.enums[slot.type.enum or ""].values)
        if rnd.random() < 0.3:
            return rnd.choice(values)
        return rnd.sample(values, rnd.randint(0, min(4, len(values))))
    if kind == "bool":
        return rnd.random() < 0.5
    if kind == "date":
        if rnd.random() < 0.5:
            return rnd.choice(BOUNDARY_DATES)
        return (datetime.date(2024, 1, 1) + datetime.timedelta(days=rnd.randrange(1100))).isoformat()
    if kind == "number":
        return rnd.choice([rnd.randint(-5, 5), rnd.random() * 10])
    return rnd.choice(["", "a note", "ü", "x" * 50])


def _objects(request: Any, vocabulary: Vocabulary) -> list[tuple[dict[str, Any], list[str]]]:
    """Every object of a request with the names it may hold (top level, fact groups, chain hops)."""
    found: list[tuple[dict[str, Any], list[str]]] = []
    if not isinstance(request, dict):
        return found
    found.append((request, [*vocabulary.fields, "facts", "chain"]))

    def facts(node: Any, prefix: str) -> None:
        if not isinstance(node, dict):
            return
        names = sorted({p[len(prefix) :].split(".")[0] for p in vocabulary.facts if p.startswith(prefix)})
        found.append((node, names))
        for name, child in node.items():
            facts(child, f"{prefix}{name}.")

    facts(request.get("facts"), "facts.")
    chain = request.get("chain")
    for hop in chain if isinstance(chain, list) else ():
        if isinstance(hop, dict):
            found.append((hop, list(vocabulary.hop)))
    return found


def _set_path(request: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = request
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


def mutate(request: Any, vocabulary: Vocabulary, rnd: random.Random) -> Any:
    """One change: a declared value set (validly or not), dropped, nulled or twinned; an undeclared name
    added at some level (null, junk or valid); a chain rewritten; or the whole thing replaced by junk."""
    if not isinstance(request, dict) or rnd.random() < 0.02:
        return copy.deepcopy(rnd.choice(JUNK))
    action = rnd.random()
    paths = [*vocabulary.fields, *vocabulary.facts]
    if action < 0.35:
        path = rnd.choice(paths)
        slot = vocabulary.slot(path)
        assert slot is not None
        value = valid_value(slot, vocabulary, rnd) if rnd.random() < 0.7 else copy.deepcopy(rnd.choice(JUNK))
        if slot.type.kind == "set" and rnd.random() < 0.15:
            # Repeats of valid values past the list's limit: the set they make is valid, the list is not.
            value = [rnd.choice(list(vocabulary.enums[slot.type.enum or ""].values))] * (MAX_SET_ITEMS + 1)
        _set_path(request, path, value)
    elif action < 0.5:
        obj, names = rnd.choice(_objects(request, vocabulary))
        if obj:
            key = rnd.choice(list(obj))
            choice = rnd.random()
            if choice < 0.4:
                del obj[key]
            elif choice < 0.7:
                obj[key] = None
            else:
                obj[key] = twin(obj[key])
    elif action < 0.75:
        # The failure of issue 9: an undeclared name beside declared ones, above all with a null value.
        obj, names = rnd.choice(_objects(request, vocabulary))
        name = _typo(rnd.choice(names) if names else "x", rnd)
        obj[name] = rnd.choice([None, None, copy.deepcopy(rnd.choice(JUNK)), True, "agency_head", {}])
    elif action < 0.85:
        hop = {
            "from": rnd.choice(["IRS", "SSA", "ICE", "irs"]),
            "to": rnd.choice(["ICE", "DHS"]),
            "route": rnd.choice(["6103(i)(2)", "6103(i)(1)", "other"]),
            "date": rnd.choice([*BOUNDARY_DATES, *ODD_DATES]),
        }
        request["chain"] = rnd.choice([[hop], [], [hop, dict(hop)], [dict(hop, extra=None)], "x", None, [None]])
    elif action < 0.93:
        request[rnd.choice(["date", "element"])] = rnd.choice([*ODD_DATES, *BOUNDARY_DATES])
        if rnd.random() < 0.5:
            _set_path(request, "chain", [{"from": "IRS", "to": "ICE", "route": "6103(i)(2)", "date": "9999-12-31"}])
    else:
        facts = request.get("facts")
        if isinstance(facts, dict) and facts:
            group = rnd.choice(list(facts))
            facts[group] = rnd.choice([None, [], "x", {}, {_typo(group, rnd): None}])
    return request


def fuzz_request(vocabulary: Vocabulary, rnd: random.Random) -> Any:
    """A request near one of the examples: 0 to 4 changes."""
    request: Any = copy.deepcopy(rnd.choice(SEEDS))
    for _ in range(rnd.choice([0, 1, 1, 2, 2, 3, 4])):
        request = mutate(request, vocabulary, rnd)
    return request


def is_json(request: Any) -> bool:
    """Whether ``request`` is JSON data (a Python caller's tuple or NaN is not)."""
    try:
        json.dumps(request, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return not _has_tuple(request)


def _has_tuple(value: Any) -> bool:
    if isinstance(value, tuple):
        return True
    if isinstance(value, list):
        return any(_has_tuple(v) for v in value)
    if isinstance(value, dict):
        return any(_has_tuple(v) for v in value.values())
    return False


def json_line(request: Any, rnd: random.Random) -> bytes:
    """One line of a JSON Lines stream for ``request``: usually its JSON text, sometimes a bad line of one of
    the kinds a stream meets (blank, BOM, truncated, a repeated key, NaN, a huge integer, deep nesting,
    invalid UTF-8, a control character, a lone surrogate escape, CR). A Python-only value (a tuple) is
    written as JSON writes it; a lone surrogate unescaped becomes bytes that are not UTF-8."""
    raw = json.dumps(request, ensure_ascii=rnd.random() < 0.5, default=str).encode("utf-8", "surrogatepass")
    if rnd.random() < 0.6:
        return raw
    bad: list[bytes] = [
        b"",
        b"   \t ",
        b"\xef\xbb\xbf" + raw,
        raw[: max(1, len(raw) // 2)],
        raw[:-1] + b',"date":"2025-08-07"}' if raw.endswith(b"}") else b"{}",
        b'{"date": NaN}',
        b'{"date": ' + b"9" * 5000 + b"}",
        b"[" * 5000 + b"]" * 5000,
        b"\xff\xfe" + raw,
        raw.replace(b'"', b'"\x01', 1),
        raw.replace(b'"IRS"', b'"\\udcff"'),
        raw + b"\r",
        b"null",
        raw.replace(b"{", b'{"signd_by": null, ', 1),
    ]
    return rnd.choice(bad)


# -- rule files ------------------------------------------------------------------------------------

RULE_FILES = sorted(RULES_DIR.glob("*.yaml"))
PWNED = "/tmp/disclosure-rules-hostile-payload-ran"
"""A payload among the mutations creates this file if a YAML tag ever runs code."""

_INSERTS = [
    "\x00",
    "\x1b",
    "\t",
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a ",
    "!!python/object:os.system ",
    f"!!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path ['{PWNED}']] ",
    "!!bool maybe",
    "!!int x",
    "!!timestamp 2025-13-45",
    "!!float nan-ish",
    "!!binary ???",
    "2025-02-30",
    "0000-01-01",
    "9999-12-31",
    "'",
    '"',
    "#",
    "|",
    ">",
    "%YAML 1.1\n---\n",
    "\ufeff",
    "\udcff",
    "not " * 500 + "true",
    "(" * 60 + "true" + ")" * 60,
    "[" * 600 + "]" * 600,
    "- " * 500 + "x",
    "2" * 5000,
    "date + 99999999 days",
]


def mutate_rule_text(text: str, rnd: random.Random) -> str:
    """One to three edits of a rule file's text: a line dropped, repeated, swapped, re-indented or cut; a
    character or a hostile snippet inserted; a date, a key or a condition replaced."""
    for _ in range(rnd.randint(1, 3)):
        lines = text.split("\n")
        i = rnd.randrange(len(lines))
        kind = rnd.randrange(10)
        if kind == 0:
            del lines[i]
        elif kind == 1:
            lines.insert(i, lines[i])
        elif kind == 2:
            j = rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 3:
            lines[i] = rnd.choice(["", " ", "  ", "    ", "\t"]) + lines[i].lstrip()
        elif kind == 4:
            lines[i] = lines[i][: rnd.randrange(len(lines[i]) + 1)]
        elif kind in (5, 6):
            at = rnd.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:at] + rnd.choice(_INSERTS) + lines[i][at:]
        elif kind == 7:
            lines[i] = re.sub(r"\d{4}-\d{2}-\d{2}", rnd.choice(ODD_DATES[:5]), lines[i])
        elif kind == 8 and ":" in lines[i]:
            head, _, _tail = lines[i].partition(":")
            lines[i] = head + ": " + rnd.choice(_INSERTS[5:])
        else:
            lines[i] = lines[i].replace(rnd.choice(["==", "and", "or", "not", "in", "true", "-"]), rnd.choice(_INSERTS))
        text = "\n".join(lines)
    return text


def mutated_rule_directory(directory: Path, rnd: random.Random) -> str:
    """Write the bundled rules to ``directory`` with one file mutated; return that file's name."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.iterdir():
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
    target = rnd.choice(RULE_FILES)
    for path in RULE_FILES:
        text = path.read_text(encoding="utf-8")
        if path == target:
            text = mutate_rule_text(text, rnd)
        (directory / path.name).write_bytes(text.encode("utf-8", "surrogatepass"))
    return target.name


def three_valued_probe(rules: Rules, rnd: random.Random) -> tuple[dict[str, Any], str, list[Any]] | None:
    """A valid request that leaves a fact without a default unstated, the fact's path, and every value (or a
    sample) it could be given; None if the request drawn is not valid."""
    vocabulary = rules.vocabulary
    for _ in range(5):  # most fuzzed requests are invalid; a few tries find a valid one
        request = fuzz_request(vocabulary, rnd)
        if is_json(request) and rules.check(request).status != "error":
            break
    else:
        return None
    unknown = [p for p, s in vocabulary.facts.items() if s.default is None]
    path = rnd.choice(unknown)
    node: Any = request.get("facts")
    for part in path.split(".")[1:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path.split(".")[-1], None)
    slot = vocabulary.facts[path]
    kind = slot.type.kind
    if kind == "bool":
        values: list[Any] = [True, False]
    elif kind == "enum":
        values = list(vocabulary.enums[slot.type.enum or ""].values)
    else:
        values = [valid_value(slot, vocabulary, rnd) for _ in range(6)]
    return request, path, values


def with_fact(request: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(request)
    _set_path(out, path, value)
    return out
