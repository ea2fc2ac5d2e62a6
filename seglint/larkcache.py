"""Lark parsers whose LALR tables are kept in a per-user cache.

Building the tables of a grammar takes from 20 ms (iptables) to about a
second (HCL) in each process, and loading them from the cache takes a
fraction of that (measured on a 2-core Xeon with Lark 1.3). The tables are
stored as JSON, never as a pickle, so a changed cache file can at worst
give a wrong parser and cannot run code. The cache directory must
belong to the user and be closed to others, or it is not used. The file
name is a hash of the grammar, the options and the Lark and seglint
versions, and the file repeats that key, so an edited grammar or an
upgrade never loads old tables. A cache that cannot be read or written is
skipped silently: the parser is then built as without a cache.

``SEGLINT_NO_CACHE=1`` turns the cache off; ``SEGLINT_CACHE_DIR`` moves it
(default: ``$XDG_CACHE_HOME/seglint`` or ``~/.cache/seglint``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

from seglint import __version__

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
# JSON has no integer keys and no tuples; the parse tables have both.
_DICT_TAG = "\x00d"
_TUPLE_TAG = "\x00t"
# A mapping of pairs, as LALR action tables are ({token: (action, argument)}):
# one list per entry instead of one tagged object per pair halves the load time.
_PAIRS_TAG = "\x00p"


def cache_dir() -> Path | None:
    """Return the cache directory to use, or None when caching is off."""
    if os.environ.get("SEGLINT_NO_CACHE"):
        return None
    chosen = os.environ.get("SEGLINT_CACHE_DIR")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if base.startswith("~"):
        return None  # no home directory to expand
    return Path(base) / "seglint"


def _private(directory: Path) -> bool:
    """Return True if only the current user can write to ``directory``."""
    try:
        info = directory.stat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _cache_key(grammar: str, options: dict[str, Any]) -> str:
    import lark

    text = json.dumps([FORMAT_VERSION, lark.__version__, __version__, grammar,
                       sorted((k, repr(v)) for k, v in options.items())])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode(value: Any) -> Any:
    """Turn the serialised parser into plain JSON values, tagging int keys and tuples."""
    if isinstance(value, dict):
        if value and all(isinstance(item, tuple) and len(item) == 2
                         for item in value.values()):
            return {_PAIRS_TAG: [[encode(key), encode(first), encode(second)]
                                 for key, (first, second) in value.items()]}
        if all(isinstance(key, str) for key in value):
            return {key: encode(item) for key, item in value.items()}
        return {_DICT_TAG: [[encode(key), encode(item)] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE_TAG: [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in the parser cache")


def _decode_object(mapping: dict[str, Any]) -> Any:
    # json calls this for every object, innermost first, so the values are
    # already decoded.
    if len(mapping) == 1:
        if _DICT_TAG in mapping:
            return {key: item for key, item in mapping[_DICT_TAG]}
        if _TUPLE_TAG in mapping:
            return tuple(mapping[_TUPLE_TAG])
        if _PAIRS_TAG in mapping:
            return {key: (first, second) for key, first, second in mapping[_PAIRS_TAG]}
    return mapping


def decode_text(text: str) -> Any:
    """Parse JSON written from :func:`encode` back into the original values."""
    return json.loads(text, object_hook=_decode_object)


def _load(location: Path, key: str, transformer: Any) -> Any | None:
    try:
        stored = decode_text(location.read_text(encoding="utf-8"))
        if not isinstance(stored, dict) or stored.get("key") != key:
            return None
        tables = stored["tables"]
        return _from_tables(tables, transformer)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a broken cache file only costs a rebuild
        logger.debug("ignoring the parser cache file %s", location, exc_info=True)
        return None


def _tables(parser: Any) -> dict[str, Any]:
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    data, memo = parser.memo_serialize([TerminalDef, Rule])
    return {"data": data, "memo": memo}


def _from_tables(tables: dict[str, Any], transformer: Any) -> Any:
    from lark import Lark

    extra = {} if transformer is None else {"transformer": transformer}
    return Lark._load_from_dict(tables["data"], tables["memo"], **extra)


def _store(directory: Path, location: Path, key: str, tables: dict[str, Any]) -> None:
    import tempfile

    try:
        encoded = encode(tables)
        if decode_text(json.dumps(encoded)) != tables:
            logger.debug("parser tables do not survive JSON; not caching them")
            return
        # Write a private temporary file and rename it, so a reader never
        # sees half a file and two processes never mix their writes.
        descriptor, temporary = tempfile.mkstemp(prefix=".lark-", dir=directory)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"key": key, "tables": encoded}, handle, separators=(",", ":"))
        os.replace(temporary, location)
    except Exception:  # noqa: BLE001 - a cache that cannot be written is skipped
        logger.debug("cannot write the parser cache file %s", location, exc_info=True)


def build_parser(grammar: str, *, transformer: Any = None, **options: Any) -> Any:
    """Return a Lark LALR parser for ``grammar``, loaded from the cache when it has one.

    A ``transformer`` is applied while parsing, so no parse tree is built;
    it is not part of the cached tables.
    """
    from lark import Lark

    directory = cache_dir()
    if directory is None:
        return Lark(grammar, transformer=transformer, **options)
    key = _cache_key(grammar, options)
    location = directory / f"lark-{key[:32]}.json"
    if _private(directory):
        loaded = _load(location, key, transformer)
        if loaded is not None:
            return loaded
    parser = Lark(grammar, **options)
    try:
        tables = _tables(parser)
    except Exception:  # noqa: BLE001 - a grammar that cannot be saved is built each time
        logger.debug("cannot serialise the parser tables", exc_info=True)
        return parser if transformer is None else Lark(grammar, transformer=transformer,
                                                       **options)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        pass
    else:
        if _private(directory):
            _store(directory, location, key, tables)
    return parser if transformer is None else _from_tables(tables, transformer)

