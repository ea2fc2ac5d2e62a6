"""The per-user Lark parser cache: JSON only, private directories only."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from seglint import larkcache

GRAMMAR = 'start: WORD+\nWORD: /[a-z]+/\n%ignore " "\n'
OPTIONS = {"parser": "lalr", "lexer": "contextual", "propagate_positions": True}


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.delenv("SEGLINT_NO_CACHE", raising=False)
    monkeypatch.setenv("SEGLINT_CACHE_DIR", str(folder))
    return folder


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("lark-*.json")) if folder.is_dir() else []


def test_writes_json(cache_home: Path) -> None:
    larkcache.build_parser(GRAMMAR, **OPTIONS)
    (stored,) = _files(cache_home)
    assert "key" in json.loads(stored.read_text(encoding="utf-8"))


def test_directory_is_private(cache_home: Path) -> None:
    larkcache.build_parser(GRAMMAR, **OPTIONS)
    assert cache_home.stat().st_mode & 0o077 == 0


def test_loaded_parser_parses_alike(cache_home: Path) -> None:
    built = larkcache.build_parser(GRAMMAR, **OPTIONS)
    loaded = larkcache.build_parser(GRAMMAR, **OPTIONS)
    assert loaded.source_path == "<deserialized>"
    assert loaded.parse("ab cd") == built.parse("ab cd")


def test_positions_survive(cache_home: Path) -> None:
    larkcache.build_parser(GRAMMAR, **OPTIONS)
    loaded = larkcache.build_parser(GRAMMAR, **OPTIONS)
    assert loaded.parse("ab cd").meta.end_column == 6


def test_other_grammar_misses(cache_home: Path) -> None:
    larkcache.build_parser(GRAMMAR, **OPTIONS)
    larkcache.build_parser(GRAMMAR.replace("a-z", "a-y"), **OPTIONS)
    assert len(_files(cache_home)) == 2


def test_wrong_key_rebuilds(cache_home: Path) -> None:
    larkcache.build_parser(GRAMMAR, **OPTIONS)
    (stored,) = _files(cache_home)
    content = json.loads(stored.read_text(encoding="utf-8"))
    content["key"] = "0" * 64
    stored.write_text(json.dumps(content), encoding="utf-8")
    assert larkcache.build_parser(GRAMMAR, **OPTIONS).source_path != "<deserialized>"


def test_garbage_rebuilds(cache_home: Path) -> None:
    larkcache.build_parser(GRAMMAR, **OPTIONS)
    (stored,) = _files(cache_home)
    stored.write_text("{not json", encoding="utf-8")
    assert larkcache.build_parser(GRAMMAR, **OPTIONS).parse("ab").children[0] == "ab"


def test_shared_directory_is_not_read(cache_home: Path) -> None:
    larkcache.build_parser(GRAMMAR, **OPTIONS)
    os.chmod(cache_home, 0o777)
    assert larkcache.build_parser(GRAMMAR, **OPTIONS).source_path != "<deserialized>"


def test_cache_off(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGLINT_NO_CACHE", "1")
    larkcache.build_parser(GRAMMAR, **OPTIONS)
    assert _files(cache_home) == []


@pytest.mark.parametrize("value", [
    {1: (2, "a")}, {"a": [None, True, 1.5]}, ({"b": 1},), [{2: {3: ()}}],
    {"a": (1, {"@": 2}), 3: ((), [4])}, {},
])
def test_encoding_round_trip(value: object) -> None:
    assert larkcache.decode_text(json.dumps(larkcache.encode(value))) == value


class _Words:
    def __init__(self) -> None:
        self.calls = 0

    def start(self, children: list[object]) -> list[str]:
        self.calls += 1
        return [str(child) for child in children]


def test_transformer_applied_from_cache(cache_home: Path) -> None:
    larkcache.build_parser(GRAMMAR, **OPTIONS)
    words = _Words()
    loaded = larkcache.build_parser(GRAMMAR, transformer=words, **OPTIONS)
    assert loaded.parse("ab cd") == ["ab", "cd"]
    assert words.calls == 1


def test_transformer_applied_when_built(cache_home: Path) -> None:
    words = _Words()
    built = larkcache.build_parser(GRAMMAR, transformer=words, **OPTIONS)
    assert built.parse("ab cd") == ["ab", "cd"]
    assert _files(cache_home) != []
