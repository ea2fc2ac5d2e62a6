"""Selectors of nftables matches: the left side, such as ``ip saddr`` or ``tcp dport``.

:func:`selector_words` finds how many words of a rule form one selector (a
header field is two words, ``fib saddr . iif oif`` five) and
:func:`classify` returns what the engine can do with it: which packet
dimension it reads and which family and protocol it implies. Selectors the
engine has no dimension for have kind ``other`` and become unknown matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from seglint.formats._nftables_names import (
    ICMP4,
    ICMP6,
    PAYLOAD_PROTOCOLS,
    PORT_PROTOCOLS,
    PORT_SELECTORS,
    UNQUALIFIED_META,
)
from seglint.formats._nftables_syntax import Item
from seglint.ir import Span
from seglint.space import (
    DPORT,
    DST,
    ICMP,
    IIF,
    OIF,
    PROTO,
    SPORT,
    SRC,
    STATE,
    IntervalSet,
)

PORT_PROTOCOL_SET = IntervalSet((p, p) for p in PORT_PROTOCOLS)
_TCP_OPTION_FIELDS = frozenset(
    {
        "kind",
        "length",
        "size",
        "count",
        "left",
        "right",
        "tsval",
        "tsecr",
        "value",
        "subtype",
    }
)
_RAW_PAYLOAD = frozenset({"@ll", "@nh", "@th", "@ih"})
# Header selectors that only IPv4 or only IPv6 packets have (nft adds the
# family as a dependency in inet tables).
_HEADER_FAMILIES = {"ip": 4, "icmp": 4, "ip6": 6, "icmpv6": 6}
# Transport header selectors imply their protocol (nft adds meta l4proto).
_HEADER_PROTOCOLS = {**PORT_SELECTORS, "icmp": ICMP4, "icmpv6": ICMP6}


@dataclass(frozen=True)
class Selector:
    """The left side of a match and what the engine reads from it.

    ``kind`` is addr, port, proto, state, icmp_type, icmp_code, iface, ether
    (``meta protocol``), nfproto or other. ``restrict`` is the set of
    families the selector implies and ``proto`` the set of protocols.
    """

    words: tuple[str, ...]
    span: Span
    kind: str
    dim: str = ""
    family: int = 0
    restrict: frozenset[int] | None = None
    proto: IntervalSet | None = None

    @property
    def text(self) -> str:
        return " ".join(self.words)


def classify(words: tuple[str, ...], span: Span) -> Selector:
    """Return the selector for ``words``; unmodelled ones have kind ``other``."""
    key = words
    if len(words) == 2 and words[0] == "meta" and words[1] in UNQUALIFIED_META:
        key = words[1:]

    if len(key) == 2 and key[0] in ("ip", "ip6") and key[1] in ("saddr", "daddr"):
        family = 4 if key[0] == "ip" else 6
        dim = SRC if key[1] == "saddr" else DST
        return Selector(words, span, "addr", dim, family, frozenset({family}))
    if key in (("ip", "protocol"), ("ip6", "nexthdr")):
        family = 4 if key[0] == "ip" else 6
        return Selector(words, span, "proto", PROTO, family, frozenset({family}))
    if key == ("meta", "l4proto"):
        return Selector(words, span, "proto", PROTO)
    if key == ("meta", "protocol"):
        return Selector(words, span, "ether")
    if key == ("meta", "nfproto"):
        return Selector(words, span, "nfproto")
    if (
        len(key) == 2
        and key[1] in ("dport", "sport")
        and (key[0] in PORT_SELECTORS or key[0] == "th")
    ):
        dim = DPORT if key[1] == "dport" else SPORT
        if key[0] == "th":
            # NOTE: nft reads these two bytes of any transport header without a
            # protocol check, so an ICMP checksum can match. The IR has ports
            # only for the port protocols, so the match is limited to those.
            protocols = PORT_PROTOCOL_SET
        else:
            protocols = IntervalSet.single(PORT_SELECTORS[key[0]])
        return Selector(words, span, "port", dim, proto=protocols)
    if key == ("ct", "state"):
        return Selector(words, span, "state", STATE)
    if len(key) == 2 and key[0] in ("icmp", "icmpv6") and key[1] in ("type", "code"):
        family = 4 if key[0] == "icmp" else 6
        icmp = IntervalSet.single(ICMP4 if family == 4 else ICMP6)
        return Selector(
            words, span, f"icmp_{key[1]}", ICMP, family, frozenset({family}), icmp
        )
    if key in (("iif",), ("iifname",), ("oif",), ("oifname",)):
        return Selector(words, span, "iface", IIF if key[0].startswith("i") else OIF)

    # Not modelled, but a header field still implies its family and protocol.
    family = _HEADER_FAMILIES.get(key[0], 0)
    protocol = _HEADER_PROTOCOLS.get(key[0])
    return Selector(
        words,
        span,
        "other",
        family=family,
        restrict=frozenset({family}) if family else None,
        proto=IntervalSet.single(protocol) if protocol is not None else None,
    )


def join_spans(first: Span, last: Span) -> Span:
    """Return the span from ``first`` to ``last``, or ``first`` if they do not line up.

    Items that a ``$variable`` stands for keep the place of the definition,
    which may be in another file or above the rule.
    """
    if first.path != last.path or (last.end_line, last.end_column) < (
        first.line,
        first.column,
    ):
        return first
    return Span(first.path, first.line, first.column, last.end_line, last.end_column)


def _word(items: tuple[Item, ...], index: int) -> str | None:
    if index < len(items) and items[index].kind == "word":
        return items[index].text
    return None


def selector_words(items: tuple[Item, ...], pos: int) -> list[str]:
    """Return the words of the selector at ``items[pos]``; [] if none starts there."""
    if pos >= len(items):
        return []
    item = items[pos]
    if item.kind == "setref" and item.text in _RAW_PAYLOAD:
        # A raw payload expression: @th,16,16.
        texts = [item.text]
        while (
            len(texts) < 5
            and pos + len(texts) < len(items)
            and items[pos + len(texts)].kind in ("comma", "word")
        ):
            texts.append(items[pos + len(texts)].text)
        return texts
    first = _word(items, pos)
    if first is None:
        return []

    peek = [_word(items, pos + i) for i in range(1, 5)]
    if first in PAYLOAD_PROTOCOLS:
        return _header_words(first, peek)
    if first == "meta":
        return [first, peek[0]] if peek[0] is not None else []
    if first in UNQUALIFIED_META:
        return [first]
    if first == "fib":
        return _fib_words(items, pos)
    if first == "ipsec":
        return _ipsec_words(peek)
    known = _PREFIXED.get(first)
    return known(first, peek) if known is not None else []


def _header_words(first: str, peek: list[str | None]) -> list[str]:
    if peek[0] is None or peek[0] == ".":
        return []
    if peek[0] == "option" and peek[1] is not None:
        words = [first, "option", peek[1]]
        if peek[2] is not None and peek[2] in _TCP_OPTION_FIELDS:
            words.append(peek[2])
        return words
    return [first, peek[0]]


def _ct_words(first: str, peek: list[str | None]) -> list[str]:
    # ct KEY, ct original|reply KEY, ct original ip saddr
    if peek[0] is None:
        return []
    if peek[0] in ("original", "reply") and peek[1] is not None:
        if peek[1] in ("ip", "ip6") and peek[2] is not None:
            return [first, peek[0], peek[1], peek[2]]
        return [first, peek[0], peek[1]]
    return [first, peek[0]]


def _rt_words(first: str, peek: list[str | None]) -> list[str]:
    if peek[0] is None:
        return []
    if peek[0] in ("ip", "ip6") and peek[1] is not None:
        return [first, peek[0], peek[1]]
    return [first, peek[0]]


def _socket_words(first: str, peek: list[str | None]) -> list[str]:
    if peek[0] is None:
        return []
    if peek[0] == "cgroupv2" and peek[1] == "level" and peek[2] is not None:
        return [first, peek[0], peek[1], peek[2]]
    return [first, peek[0]]


def _exthdr_words(first: str, peek: list[str | None]) -> list[str]:
    if peek[0] is None or peek[1] is None:
        return []
    return [first, peek[0], peek[1]]


_PREFIXED = {
    "ct": _ct_words,
    "rt": _rt_words,
    "socket": _socket_words,
    "exthdr": _exthdr_words,
}


def _ipsec_words(peek: list[str | None]) -> list[str]:
    # ipsec in|out [spnum N] KEY, where KEY may be ip saddr or ip6 daddr.
    if peek[0] not in ("in", "out"):
        return []
    words = ["ipsec", peek[0]]
    rest = peek[1:]
    if rest[0] == "spnum" and rest[1] is not None:
        words += ["spnum", rest[1]]
        rest = rest[2:]
    if rest and rest[0] is not None:
        words.append(rest[0])
        if rest[0] in ("ip", "ip6") and len(rest) > 1 and rest[1] is not None:
            words.append(rest[1])
    return words


def _fib_words(items: tuple[Item, ...], pos: int) -> list[str]:
    # fib FLAG [. FLAG]... RESULT, where oif can be a flag or the result.
    words = ["fib"]
    offset = 1
    while True:
        word = _word(items, pos + offset)
        if word is None:
            return []
        words.append(word)
        offset += 1
        if word in ("oif", "oifname", "type") and _word(items, pos + offset) != ".":
            return words
