"""Cisco object-groups keep their port part, in the field where it was written.

A model that reads a protocol or service object-group as "these protocols,
any port" over-permits silently. A model that puts a source port where a
destination port belongs misses the exposure. Each case states exactly which
exposures the ACL line opens, so both a widening and a narrowing fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peerlib import (  # noqa: E402
    ASA_FIRST,
    IOS_FIRST,
    asa,
    case,
    exposures,
    ios,
    lint,
    needs,
    one,
)

from seglint.api import RunResult  # noqa: E402

ACL = "access-list OUTSIDE_IN extended permit"
EVERY_EXPOSURE = [f"SEG20{n}" for n in range(1, 9)]
SQL_HOST = "10.0.0.20"


def flows(result: RunResult, line: int) -> list[tuple[str, str]]:
    """Return (rule id, flow its message starts with) of the findings at ``line``."""
    return [
        (f.rule_id, f.message.split(" on ", 1)[0])
        for f in result.findings
        if f.span.line == line and f.rule_id.startswith("SEG2")
    ]


# (file name, text, line of the ACL entry, expected (rule id, flow) at that line)
GROUPS = [
    case(
        "asa",
        "edge.asa",
        asa(
            "object-group protocol TCPUDP",
            " protocol-object tcp",
            " protocol-object udp",
            f"{ACL} object-group TCPUDP any host {SQL_HOST} eq 1433",
        ),
        ASA_FIRST + 3,
        [("SEG204", "tcp/1433"), ("SEG208", "udp/1433")],
        id="asa-protocol-group",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object-group service SQL tcp",
            " port-object eq 1433",
            f"{ACL} tcp any host {SQL_HOST} object-group SQL",
        ),
        ASA_FIRST + 2,
        [("SEG204", "tcp/1433")],
        id="asa-service-group-tcp",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object-group service SQL tcp",
            " port-object range 1430 1440",
            f"{ACL} tcp any host {SQL_HOST} object-group SQL",
        ),
        ASA_FIRST + 2,
        [("SEG204", "tcp/1433"), ("SEG208", "tcp/1430-1432,1434-1440")],
        id="asa-service-group-range",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object-group service SQL",
            " service-object tcp destination eq 1433",
            f"{ACL} object-group SQL any host {SQL_HOST}",
        ),
        ASA_FIRST + 2,
        [("SEG204", "tcp/1433")],
        id="asa-service-object",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object-group service SQL",
            " service-object tcp-udp destination eq 1433",
            f"{ACL} object-group SQL any host {SQL_HOST}",
        ),
        ASA_FIRST + 2,
        [("SEG204", "tcp/1433"), ("SEG208", "udp/1433")],
        id="asa-service-object-tcp-udp",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object service SQLSVC",
            " service tcp destination eq 1433",
            "object-group service SQL",
            " service-object object SQLSVC",
            f"{ACL} object-group SQL any host {SQL_HOST}",
        ),
        ASA_FIRST + 4,
        [("SEG204", "tcp/1433")],
        id="asa-service-object-object",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object service SQLSVC",
            " service tcp destination eq 1433",
            f"{ACL} object SQLSVC any host {SQL_HOST}",
        ),
        ASA_FIRST + 2,
        [("SEG204", "tcp/1433")],
        id="asa-object-service",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object-group service SQL tcp",
            " port-object eq 1433",
            "object-group service DB tcp",
            " group-object SQL",
            " port-object eq 3306",
            f"{ACL} tcp any host {SQL_HOST} object-group DB",
        ),
        ASA_FIRST + 5,
        [("SEG204", "tcp/1433"), ("SEG208", "tcp/3306")],
        id="asa-nested-groups",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object-group network DST",
            f" network-object host {SQL_HOST}",
            " network-object host 10.0.0.21",
            f"{ACL} tcp any object-group DST eq 1433",
        ),
        ASA_FIRST + 3,
        [("SEG204", "tcp/1433")],
        id="asa-network-group",
    ),
    case(
        "asa",
        "edge.asa",
        asa(f"{ACL} tcp any host {SQL_HOST} eq ldap"),
        ASA_FIRST,
        [("SEG205", "tcp/389")],
        id="asa-port-name",
    ),
    case(
        "ios",
        "edge.ios",
        ios(
            "permit object-group SQL any any",
            before="object-group service SQL\n tcp eq 1433\n",
        ),
        IOS_FIRST + 2,
        [("SEG204", "tcp/1433")],
        id="ios-service-group",
    ),
    case(
        "ios",
        "edge.ios",
        ios(
            "permit object-group SQL any any",
            before="object-group service SQL\n tcp-udp eq 1433\n",
        ),
        IOS_FIRST + 2,
        [("SEG204", "tcp/1433"), ("SEG208", "udp/1433")],
        id="ios-service-group-tcp-udp",
    ),
    case(
        "ios",
        "edge.ios",
        ios(
            "permit object-group DB any any",
            before="object-group service SQL\n tcp eq 1433\n"
            "object-group service DB\n group-object SQL\n tcp eq 3306\n",
        ),
        IOS_FIRST + 5,
        [("SEG204", "tcp/1433"), ("SEG208", "tcp/3306")],
        id="ios-nested-groups",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "expected"), GROUPS)
def test_group_ports_exact(
    tmp_path: Path, name: str, text: str, line: int, expected: list[tuple[str, str]]
) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    assert [hit[2] for hit in exposures(result)] == [line] * len(expected)
    assert flows(result, line) == expected


@needs("asa")
def test_asa_witness_destination(tmp_path: Path) -> None:
    text = asa(
        "object-group protocol TCPUDP",
        " protocol-object tcp",
        " protocol-object udp",
        f"{ACL} object-group TCPUDP any host {SQL_HOST} eq 1433",
    )
    witness = one(lint(tmp_path, {"edge.asa": text}), "SEG204", ASA_FIRST + 3).witness
    assert witness is not None
    assert (witness.proto, witness.dst, witness.dport) == (6, SQL_HOST, 1433)


# A source port restricts the client's port, not the service: with any
# destination port allowed, every exposure check fires.
SOURCE_PORTS = [
    case(
        "asa",
        "edge.asa",
        asa(
            "object-group service SRCPORT",
            " service-object tcp source eq 1433",
            f"{ACL} object-group SRCPORT any host {SQL_HOST}",
        ),
        ASA_FIRST + 2,
        id="asa-service-object-source",
    ),
    case(
        "asa",
        "edge.asa",
        asa(f"{ACL} tcp any eq 1433 host {SQL_HOST}"),
        ASA_FIRST,
        id="asa-source-eq",
    ),
    case(
        "ios",
        "edge.ios",
        ios("permit tcp any eq 1433 any"),
        IOS_FIRST,
        id="ios-source-eq",
    ),
]


@pytest.mark.parametrize(("name", "text", "line"), SOURCE_PORTS)
def test_source_port_not_service(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    result = lint(tmp_path, {name: text})
    assert exposures(result) == [(rule_id, name, line) for rule_id in EVERY_EXPOSURE]
    witness = one(result, "SEG204", line).witness
    assert witness is not None
    assert (witness.sport, witness.dport) == (1433, 1433)


# "any" in every position is read, not skipped.
ANY_LINES = [
    case("asa", "edge.asa", asa(f"{ACL} tcp any any eq 1433"), ASA_FIRST, id="asa-any"),
    case(
        "asa", "edge.asa", asa(f"{ACL} tcp any4 any4 eq 1433"), ASA_FIRST, id="asa-any4"
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            f"access-list GLOBAL extended permit tcp any host {SQL_HOST} eq 1433",
            group="access-group GLOBAL global",
        ),
        ASA_FIRST,
        id="asa-global",
    ),
    case("ios", "edge.ios", ios("permit tcp any any eq 1433"), IOS_FIRST, id="ios-any"),
    case(
        "ios",
        "edge.ios",
        ios("permit tcp any host 10.0.0.20 eq 1433"),
        IOS_FIRST,
        id="ios-any-host",
    ),
]


@pytest.mark.parametrize(("name", "text", "line"), ANY_LINES)
def test_any_lines_read(tmp_path: Path, name: str, text: str, line: int) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    assert exposures(result) == [("SEG204", name, line)]
    assert one(result, "SEG204", line).may is False


@needs("asa")
def test_any_deny_before_permit(tmp_path: Path) -> None:
    # A "deny ... any any" line is read too: it shadows the permit below it.
    text = asa(
        "access-list OUTSIDE_IN extended deny tcp any any eq 1433",
        f"{ACL} tcp any any eq 1433",
    )
    result = lint(tmp_path, {"edge.asa": text})
    assert exposures(result) == []
    assert [(f.rule_id, f.span.line) for f in result.findings] == [
        ("SEG301", ASA_FIRST + 1)
    ]
