"""Safe YAML with positions: core types only, no tags, no aliases, no duplicate keys."""

from __future__ import annotations

import datetime

import pytest

from disclosure_rules.reading.yamlsource import YamlError, YMap, YScalar, YSeq, parse_yaml


def scalar(node: object, key: str) -> YScalar:
    assert isinstance(node, YMap)
    value = node.items[key]
    assert isinstance(value, YScalar)
    return value


def test_yaml_12_core_types_only() -> None:
    root = parse_yaml("f.yaml", "a: no\nb: yes\nc: 010\nd: true\ne: 2025-11-21\nf: 1_000\ng: ~\nh: 3\n")
    assert scalar(root, "a").value == "no"
    assert scalar(root, "b").value == "yes"
    assert scalar(root, "c").value == "010"
    assert scalar(root, "d").value is True
    assert scalar(root, "e").value == datetime.date(2025, 11, 21)
    assert scalar(root, "f").value == "1_000"
    assert scalar(root, "g").value is None
    assert scalar(root, "h").value == 3


def test_positions_are_one_based() -> None:
    root = parse_yaml("f.yaml", "top:\n  - x: 1\n")
    assert isinstance(root, YMap)
    seq = root.items["top"]
    assert isinstance(seq, YSeq)
    assert seq.items[0].position.line == 2
    assert seq.items[0].position.column == 5


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        ("a: !!python/object:os.system x\n", "yaml_unsafe_tag", 1, 4),
        ("a: !custom 1\n", "yaml_unsafe_tag", 1, 4),
        ("a: &x [1]\nb: *x\n", "yaml_alias", 2, 4),
        ("a: 1\na: 2\n", "duplicate_key", 2, 1),
        ("a: [1\nb: 2\n", "yaml_syntax", 2, 2),
        ("a: 1\n---\nb: 2\n", "yaml_syntax", 2, 1),
    ],
)
def test_refusals_have_codes_and_positions(text: str, code: str, line: int, column: int) -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml("f.yaml", text)
    d = caught.value.diagnostic
    assert (d.code, d.position.line if d.position else None, d.position.column if d.position else None) == (
        code,
        line,
        column,
    )


def test_billion_laughs_is_refused_without_expanding() -> None:
    text = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n"
    with pytest.raises(YamlError) as caught:
        parse_yaml("f.yaml", text)
    assert caught.value.diagnostic.code == "yaml_alias"


@pytest.mark.parametrize(
    ("text", "needle", "line", "column"),
    [
        ('when: holder == "IRS" and date >= 2025-11-21\n', "date", 1, 27),
        ("when: 'holder == \"IRS\" and date'\n", "date", 1, 28),
        ('when: "holder == \\"IRS\\" and date"\n', "and", 1, 26),
        ('when: >\n  holder == "IRS"\n  and date >= 2025-11-21\n', "date", 3, 7),
        ('when: |\n  holder == "IRS"\n  and date >= 2025-11-21\n', "date", 3, 7),
        ('when:\n  holder == "IRS"\n  and date\n', "date", 3, 7),
    ],
)
def test_offsets_inside_scalars_map_back_to_the_file(text: str, needle: str, line: int, column: int) -> None:
    node = scalar(parse_yaml("f.yaml", text), "when")
    assert isinstance(node.value, str)
    position = node.position_at(node.value.index(needle))
    assert (position.line, position.column) == (line, column)


def _walk(node: object) -> object:
    if isinstance(node, YScalar):
        return (node.value, node.position, node.start, node.end)
    if isinstance(node, YSeq):
        return ("seq", node.position, [_walk(i) for i in node.items])
    assert isinstance(node, YMap)
    return ("map", node.position, {k: (node.keys[k].position, _walk(v)) for k, v in node.items.items()})


def test_libyaml_and_the_pure_python_parser_agree_on_every_bundled_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from disclosure_rules.checker import bundled_rules_path
    from disclosure_rules.reading import yamlsource

    if yamlsource._FastLoader is None:
        pytest.skip("PyYAML was built without libyaml")
    files = sorted(bundled_rules_path().rglob("*.yaml"))
    fast = {p: _walk(parse_yaml(str(p), p.read_text())) for p in files}
    monkeypatch.setattr(yamlsource, "_FastLoader", None)
    slow = {p: _walk(parse_yaml(str(p), p.read_text())) for p in files}
    assert fast == slow
