"""pf format: pre-pass, grammar, conditions, last-match order, anchors and corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from seglint.formats.base import FileAccess, read_source
from seglint.formats.pf import PfFormat, seglint_formats
from seglint.ir import (
    Action,
    Condition,
    InterfaceMatch,
    Match,
    ParseError,
    Rule,
    Ruleset,
    Span,
    Unknown,
)
from seglint.space import (
    ADDR_ALL,
    DPORT,
    DST,
    ICMP,
    IIF,
    OIF,
    PROTO,
    SPORT,
    SRC,
    V4_ALL,
    V6_ALL,
    IntervalSet,
    address_range,
    addresses,
)

ACCEPT = Action("accept", stateful=True)
ACCEPT_NO_STATE = Action("accept", stateful=False)
DROP = Action("drop")
REJECT = Action("reject")
TCP = Match(PROTO, IntervalSet.single(6))
UDP = Match(PROTO, IntervalSet.single(17))
ANY4 = (Match(SRC, V4_ALL), Match(DST, V4_ALL))
ANY6 = (Match(SRC, V6_ALL), Match(DST, V6_ALL))
PORT_ONLY = (
    "port only applies to tcp, udp or sctp (add proto tcp or proto udp to the rule)"
)


def ports(*values: int | tuple[int, int]) -> IntervalSet:
    return IntervalSet(v if isinstance(v, tuple) else (v, v) for v in values)


def nets(*items: str) -> IntervalSet:
    return addresses(list(items))


def write(tmp_path: Path, text: str, name: str = "pf.conf") -> Path:
    location = tmp_path / name
    location.parent.mkdir(parents=True, exist_ok=True)
    location.write_bytes(text.encode("utf-8"))
    return location


def parse(
    tmp_path: Path,
    text: str,
    name: str = "pf.conf",
    files: dict[str, str] | None = None,
    root: Path | None = None,
) -> Ruleset:
    for other, content in (files or {}).items():
        write(tmp_path, content, other)
    location = write(tmp_path, text, name)
    source = read_source(location, name)
    result = PfFormat().parse(source, FileAccess(root or tmp_path, tmp_path))
    assert len(result.rulesets) == 1
    return result.rulesets[0]


def rules(ruleset: Ruleset, chain: str = "input") -> tuple[Rule, ...]:
    return ruleset.chains[chain].rules


def only(tmp_path: Path, text: str, chain: str = "input") -> Rule:
    found = rules(parse(tmp_path, text), chain)
    assert len(found) == 1
    return found[0]


def lines(found: tuple[Rule, ...]) -> list[int]:
    return [rule.span.line for rule in found]


def diagnostics(ruleset: Ruleset) -> list[tuple[str, int, str]]:
    return sorted((d.level, d.span.line, d.message) for d in ruleset.diagnostics)


def warning_lines(ruleset: Ruleset) -> list[int]:
    return sorted(d.span.line for d in ruleset.diagnostics if d.level == "warning")


def parse_error(tmp_path: Path, text: str, **kwargs: object) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, text, **kwargs)  # type: ignore[arg-type]
    return caught.value


# --- format registration and detection ---------------------------------------------


def test_hook_registers_format() -> None:
    (fmt,) = seglint_formats()
    assert fmt.id == "pf"
    assert "pf.conf" in fmt.patterns


@pytest.mark.parametrize(
    ("head", "score"),
    [
        ("set skip on lo\nblock in all\n", 2),
        ('ext_if = "em0"\npass in on $ext_if\n', 2),
        ("table <bad> persist\n", 2),
        ("# pf\nblock\n", 2),
        ('anchor "ftp-proxy/*"\n', 2),
        ("scrub in all\n", 1),
        ("*filter\n:INPUT DROP [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n", 0),
        ("table inet filter {\n  chain input {\n  }\n}\n", 0),
        ("access-list 101 permit tcp any any eq 25\n", 0),
    ],
)
def test_detect(head: str, score: int) -> None:
    assert PfFormat().detect("rules", head) == score


# --- pre-pass: macros, continuations, comments ---------------------------------------


def test_macro_interface(tmp_path: Path) -> None:
    rule = only(tmp_path, 'ext_if = "em0"\npass in on $ext_if\n')
    assert rule.conditions == (InterfaceMatch(IIF, ("em0",)),)
    assert rule.span.line == 2
    assert rule.text == "pass in on $ext_if"


def test_macro_nested_list(tmp_path: Path) -> None:
    text = (
        'ext_if = "em0"\n'
        'int_if = "em1"\n'
        'all_if = "{" $ext_if $int_if "}"\n'
        'mail = "{ smtp, \\\n'
        '   submission, smtps }"\n'
        "pass in on $all_if proto tcp to port $mail\n"
    )
    rule = only(tmp_path, text)
    assert rule.conditions == (
        InterfaceMatch(IIF, ("em0", "em1")),
        TCP,
        Match(DPORT, ports(25, 465, 587)),
    )
    assert rule.span.line == 6


def test_macro_in_macro_quoted(tmp_path: Path) -> None:
    rule = only(tmp_path, 'a = "10.0.0.1"\nb = "{ $a 10.0.0.2 }"\npass in from $b\n')
    assert rule.conditions == (
        Match(SRC, address_range("10.0.0.1", "10.0.0.2")),
        Match(DST, V4_ALL),
    )


def test_continuation_rule_span(tmp_path: Path) -> None:
    rule = rules(parse(tmp_path, "block all\npass in proto tcp \\\n   to port 25\n"))[0]
    assert rule.span == Span("pf.conf", 2, 1, 3, 13)
    assert rule.text == "pass in proto tcp to port 25"


def test_comment_continues(tmp_path: Path) -> None:
    # pfctl removes backslash-newline before comments, so the comment goes on.
    found = rules(parse(tmp_path, "pass in # comment \\\nblock in all\npass out\n"))
    assert lines(found) == [1]


def test_crlf_lines(tmp_path: Path) -> None:
    rule = only(tmp_path, "pass in proto udp to port 53\r\n")
    assert rule.conditions == (UDP, Match(DPORT, ports(53)))
    assert rule.span == Span("pf.conf", 1, 1, 1, 28)


def test_macro_undefined(tmp_path: Path) -> None:
    error = parse_error(tmp_path, "block all\npass in on $ext_if\n")
    assert (
        error.message == "macro is not defined (ext_if); define it above its first use"
    )
    assert (error.span.line, error.span.column) == (2, 12)


def test_macro_refers_to_itself(tmp_path: Path) -> None:
    error = parse_error(tmp_path, 'a = "{ $b }"\nb = "$a"\npass in on $a\n')
    assert error.message == "macro refers to itself (a -> b -> a)"
    assert (error.span.line, error.span.column) == (3, 12)


def test_unterminated_quote(tmp_path: Path) -> None:
    error = parse_error(tmp_path, 'pass in\nlabel = "x\n')
    assert error.message == "unterminated quoted string"
    assert (error.span.line, error.span.column) == (2, 9)


def test_syntax_error_position(tmp_path: Path) -> None:
    error = parse_error(tmp_path, "pass in on em0\npass in proto tcp to port 80 foo\n")
    assert (error.span.line, error.span.column) == (2, 30)
    assert error.message.startswith("unexpected 'foo' (expected '!', '->', 'af-to', ")
    assert error.message.endswith("more))")


def test_syntax_error_end_of_file(tmp_path: Path) -> None:
    error = parse_error(tmp_path, "table <t> { 10/8\n")
    assert error.message.startswith("unexpected end of file (expected ")
    assert error.span.line == 1


def test_syntax_error_in_macro_value(tmp_path: Path) -> None:
    # A bad token from a macro's value is reported at the $name.
    error = parse_error(tmp_path, 'p = "tcp to port 25 25 ("\npass in proto $p\n')
    assert (error.span.line, error.span.column) == (2, 15)


# --- conditions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("pass in all", ()),
        ("pass in proto tcp to port 25", (TCP, Match(DPORT, ports(25)))),
        ("pass in proto 6 to port smtp", (TCP, Match(DPORT, ports(25)))),
        (
            "pass in proto { tcp udp } to port domain",
            (Match(PROTO, ports(6, 17)), Match(DPORT, ports(53))),
        ),
        (
            "pass in proto tcp to port 1024:65535",
            (TCP, Match(DPORT, ports((1024, 65535)))),
        ),
        ("pass in proto tcp to port = 80", (TCP, Match(DPORT, ports(80)))),
        (
            "pass in proto tcp to port != 80",
            (TCP, Match(DPORT, ports((0, 79), (81, 65535)))),
        ),
        ("pass in proto tcp to port < 1024", (TCP, Match(DPORT, ports((0, 1023))))),
        ("pass in proto tcp to port <= 1024", (TCP, Match(DPORT, ports((0, 1024))))),
        ("pass in proto tcp to port > 1023", (TCP, Match(DPORT, ports((1024, 65535))))),
        (
            "pass in proto tcp to port >= 1024",
            (TCP, Match(DPORT, ports((1024, 65535)))),
        ),
        (
            "pass in proto tcp to port 134 >< 140",
            (TCP, Match(DPORT, ports((135, 139)))),
        ),
        ("pass in proto tcp to port 1 <> 65534", (TCP, Match(DPORT, ports(0, 65535)))),
        (
            "pass in proto tcp to port { smtp submission smtps ms-sql-s netbios-ssn }",
            (TCP, Match(DPORT, ports(25, 139, 465, 587, 1433))),
        ),
        (
            "pass in proto tcp to port { imap, imaps, pop3, pop3s, ldap, https }",
            (TCP, Match(DPORT, ports(110, 143, 389, 443, 993, 995))),
        ),
        ("pass in proto tcp to port 0:65535", (TCP,)),
        ("pass in proto udp from any port 53", (UDP, Match(SPORT, ports(53)))),
        (
            "pass in proto tcp from port 53 to port 25",
            (TCP, Match(SPORT, ports(53)), Match(DPORT, ports(25))),
        ),
        ("pass in from 10/8", (Match(SRC, nets("10.0.0.0/8")), Match(DST, V4_ALL))),
        (
            "pass in from 172.16/12",
            (Match(SRC, nets("172.16.0.0/12")), Match(DST, V4_ALL)),
        ),
        (
            "pass in from 192.168.1.10 to 10.0.0.0/24",
            (Match(SRC, nets("192.168.1.10")), Match(DST, nets("10.0.0.0/24"))),
        ),
        (
            "pass in from ! 10/8",
            (Match(SRC, V4_ALL.subtract(nets("10.0.0.0/8"))), Match(DST, V4_ALL)),
        ),
        (
            "pass in from { 10/8, fd00::/8 }",
            (Match(SRC, nets("10.0.0.0/8", "fd00::/8")),),
        ),
        (
            "pass in from { !10/8, 10.1.0.0/16 }",
            (
                Match(
                    SRC, V4_ALL.subtract(nets("10.0.0.0/8")).union(nets("10.1.0.0/16"))
                ),
                Match(DST, V4_ALL),
            ),
        ),
        (
            "pass in from 10.0.0.1 - 10.0.0.9",
            (Match(SRC, address_range("10.0.0.1", "10.0.0.9")), Match(DST, V4_ALL)),
        ),
        ("pass in to ::1", (Match(SRC, V6_ALL), Match(DST, nets("::1")))),
        ("pass in from 0.0.0.0/0", ANY4),
        ("pass in from { any, 10/8 }", ()),
        ("pass in inet", ANY4),
        ("pass in inet6 from any to any", ANY6),
        ("pass in on em0", (InterfaceMatch(IIF, ("em0",)),)),
        ("pass in on ! em0", (InterfaceMatch(IIF, ("em0",), negated=True),)),
        ("pass in on { em0 em1 }", (InterfaceMatch(IIF, ("em0", "em1")),)),
        ("pass in on egress", (InterfaceMatch(IIF, ("egress",)),)),
        ("pass in on any", ()),
        (
            "pass in inet proto icmp icmp-type unreach code needfrag",
            (Match(PROTO, ports(1)), *ANY4, Match(ICMP, ports(3 * 256 + 4))),
        ),
        (
            "pass in inet proto icmp icmp-type { 3, echoreq code 0 }",
            (Match(PROTO, ports(1)), *ANY4, Match(ICMP, ports((768, 1023), 2048))),
        ),
        (
            "pass in inet6 proto icmp6 icmp6-type neighbrsol",
            (
                Match(PROTO, ports(58)),
                *ANY6,
                Match(ICMP, ports((135 * 256, 135 * 256 + 255))),
            ),
        ),
        ("pass in proto tcp flags S/SA keep state", (TCP,)),
        ("pass in proto tcp flags any", (TCP,)),
        (
            "pass in proto tcp to port 25 synproxy state (max-src-conn 10)",
            (TCP, Match(DPORT, ports(25))),
        ),
        ("pass in to self", ()),
        (
            'pass in log (all, to pflog1) quick on em0 label "x $if" tag T queue q',
            (InterfaceMatch(IIF, ("em0",)),),
        ),
    ],
)
def test_conditions(tmp_path: Path, rule: str, expected: tuple[Condition, ...]) -> None:
    assert only(tmp_path, rule + "\n").conditions == expected


def test_list_negated_interface_alternatives(tmp_path: Path) -> None:
    # pfctl expands a list into one rule per item: the negated item is on its own.
    found = rules(parse(tmp_path, "block in on { em0 !em1 }\n"))
    assert [rule.conditions for rule in found] == [
        (InterfaceMatch(IIF, ("em0",)),),
        (InterfaceMatch(IIF, ("em1",), negated=True),),
    ]
    assert lines(found) == [1, 1]


def test_list_known_and_unknown_addresses(tmp_path: Path) -> None:
    found = rules(parse(tmp_path, "pass in from { 10/8, (em0) } to any\n"))
    assert [rule.conditions for rule in found] == [
        (Match(SRC, nets("10.0.0.0/8")), Match(DST, V4_ALL)),
        (Unknown("(em0)", Span("pf.conf", 1, 22, 1, 26), "pf source (em0)"),),
    ]


@pytest.mark.parametrize(
    ("rule", "text", "key", "message"),
    [
        (
            "pass in from (em0)",
            "(em0)",
            "pf source (em0)",
            "addresses of an interface or host name are not known ((em0))",
        ),
        (
            "pass in to em0:network",
            "em0:network",
            "pf destination em0:network",
            "addresses of an interface or host name are not known (em0:network)",
        ),
        (
            "pass in from mail.example.com",
            "mail.example.com",
            "pf source mail.example.com",
            "addresses of an interface or host name are not known (mail.example.com)",
        ),
        (
            "pass in from no-route",
            "no-route",
            "pf source no-route",
            "no-route is not modelled",
        ),
        (
            "pass in from urpf-failed",
            "urpf-failed",
            "pf source urpf-failed",
            "urpf-failed is not modelled",
        ),
        (
            "pass in proto tcp user root",
            "user root",
            "pf user root",
            "rule option not modelled (user root)",
        ),
        (
            "pass in proto tcp group { wheel 0 }",
            "group { wheel 0 }",
            "pf group { wheel 0 }",
            "rule option not modelled (group { wheel 0 })",
        ),
        (
            "pass in tagged WEB",
            "tagged WEB",
            "pf tagged WEB",
            "rule option not modelled (tagged WEB)",
        ),
        (
            "pass in probability 10%",
            "probability 10%",
            "pf probability 10%",
            "rule option not modelled (probability 10%)",
        ),
        (
            "pass in proto tcp flags A/A",
            "flags A/A",
            "pf flags A/A",
            "flags A/A do not match the first packet of a connection; the packets "
            "they match are not modelled",
        ),
        (
            "pass in from self",
            "self",
            "pf source self",
            "self as a source address on the input path is not modelled (the host's "
            "addresses are not known)",
        ),
        (
            "pass in from <nowhere>",
            "<nowhere>",
            "pf source <nowhere>",
            "table <nowhere> is not defined in the checked files; it is filled at run "
            "time",
        ),
    ],
)
def test_unknown_conditions(
    tmp_path: Path, rule: str, text: str, key: str, message: str
) -> None:
    found = parse(tmp_path, "block all\n" + rule + "\n")
    unknowns = [c for c in rules(found)[0].conditions if isinstance(c, Unknown)]
    assert [(u.text, u.key, u.span.line) for u in unknowns] == [(text, key, 2)]
    assert diagnostics(found) == [("warning", 2, message)]


# --- pfctl's consistency checks -------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "message", "column"),
    [
        (
            "pass in to port 80",
            PORT_ONLY,
            17,
        ),
        ("pass in port 80", None, 9),
        (
            "pass in proto icmp to port 80",
            PORT_ONLY,
            28,
        ),
        (
            "pass in proto tcp to port nosuchservice",
            "unknown port name (nosuchservice); use a number or a name from "
            "/etc/services",
            27,
        ),
        (
            "pass in proto tcp to port 70000",
            "port outside the range 0-65535 (70000)",
            27,
        ),
        ("pass in proto nosuchproto", "unknown protocol (nosuchproto)", 15),
        (
            "pass in inet proto tcp icmp-type echoreq",
            "icmp-type only applies to proto icmp",
            34,
        ),
        (
            "pass in inet proto icmp icmp-type unreach code nosuch",
            "unknown icmp code (nosuch) for type unreach",
            35,
        ),
        ("pass in proto udp flags S/SA", "flags only apply to tcp", 25),
        ("pass in proto tcp flags SA/S", "flags are always false (SA/S)", 25),
        (
            "pass in from 10.0.0.300",
            "could not parse host specification (10.0.0.300)",
            14,
        ),
        ("pass in from { }", "empty address list", 14),
        ("pass in on { }", "empty interface list", 12),
    ],
)
def test_rejected_like_pfctl(
    tmp_path: Path, rule: str, message: str | None, column: int
) -> None:
    error = parse_error(tmp_path, "block all\n" + rule + "\n")
    if message is not None:
        assert error.message == message
    assert (error.span.line, error.span.column) == (2, column)


# --- actions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("pass in all", ACCEPT),
        ("pass in all keep state", ACCEPT),
        ("pass in proto tcp modulate state", ACCEPT),
        ("pass in proto tcp synproxy state", ACCEPT),
        ("pass in all no state", ACCEPT_NO_STATE),
        ("block in all", DROP),
        ("block drop in all", DROP),
        ("block return in all", REJECT),
        ("block return-rst in proto tcp", REJECT),
        ("block return-icmp (port-unr) in all", REJECT),
        ("set block-policy return\nblock in all", REJECT),
        ("set block-policy return\nblock drop in all", DROP),
        ("set block-policy drop\nblock in all", DROP),
    ],
)
def test_actions(tmp_path: Path, text: str, action: Action) -> None:
    assert only(tmp_path, text + "\n").action == action


# --- hooks, directions and self ------------------------------------------------------


def test_hooks_and_kind(tmp_path: Path) -> None:
    found = parse(tmp_path, "pass in all\n")
    assert found.hooks == {
        "input": ("input",),
        "output": ("output",),
        "forward": ("forward-in", "forward-out"),
    }
    assert found.kind == "either"
    assert found.families == frozenset({4, 6})
    assert found.format == "pf"


@pytest.mark.parametrize(
    ("rule", "chains"),
    [
        ("pass in all", ["input", "forward-in"]),
        ("pass out all", ["output", "forward-out"]),
        ("pass all", ["input", "output", "forward-in", "forward-out"]),
    ],
)
def test_direction_chains(tmp_path: Path, rule: str, chains: list[str]) -> None:
    found = parse(tmp_path, rule + "\n")
    assert [name for name, chain in found.chains.items() if chain.rules] == chains


def test_interface_dimension_follows_chain(tmp_path: Path) -> None:
    found = parse(tmp_path, "pass on em0\n")
    assert rules(found, "input")[0].conditions == (InterfaceMatch(IIF, ("em0",)),)
    assert rules(found, "output")[0].conditions == (InterfaceMatch(OIF, ("em0",)),)
    assert rules(found, "forward-in")[0].conditions == (InterfaceMatch(IIF, ("em0",)),)
    assert rules(found, "forward-out")[0].conditions == (InterfaceMatch(OIF, ("em0",)),)


@pytest.mark.parametrize(
    ("rule", "chain", "expected"),
    [
        ("pass in to self", "input", [()]),
        ("pass in to self", "forward-in", []),
        ("pass out from self", "output", [()]),
        ("pass out from self", "forward-out", []),
        ("pass in to ! self", "input", []),
        ("pass in to ! self", "forward-in", [()]),
        (
            "pass out to self",
            "output",
            [(Unknown("self", Span("pf.conf", 1, 13, 1, 16), "pf destination self"),)],
        ),
    ],
)
def test_self(tmp_path: Path, rule: str, chain: str, expected: list[tuple]) -> None:
    found = parse(tmp_path, rule + "\n")
    assert [r.conditions for r in rules(found, chain)] == expected


def test_policy_default_pass(tmp_path: Path) -> None:
    found = parse(tmp_path, "# rules\nblock in all\n")
    policy = found.chains["input"].policy
    assert policy == Rule(
        Span("pf.conf", 1, 1, 1, 7),
        (),
        ACCEPT_NO_STATE,
        "pass all",
        implicit=True,
        label="pf default pass (no rule matched)",
    )


# --- last match wins unless quick ----------------------------------------------------


def test_quick_then_reverse_order(tmp_path: Path) -> None:
    text = (
        "block in all\n"  # 1
        "pass in proto tcp to port 25\n"  # 2
        "block in quick proto tcp to port 1433\n"  # 3
        "pass in quick proto tcp to port 22\n"  # 4
        "block in proto tcp to port 25\n"  # 5
    )
    found = rules(parse(tmp_path, text))
    assert lines(found) == [3, 4, 5, 2, 1]
    assert [rule.action for rule in found] == [DROP, ACCEPT, DROP, ACCEPT, DROP]
    # The last rule for port 25 (a block) decides, not the earlier pass.
    assert found[2].conditions == (TCP, Match(DPORT, ports(25)))


# --- tables --------------------------------------------------------------------------


def test_table_most_specific_entry(tmp_path: Path) -> None:
    text = "table <t> const { 10/8, !10.1/16, 10.1.2/24 }\npass in from <t>\n"
    rule = only(tmp_path, text)
    expected = (
        nets("10.0.0.0/8").subtract(nets("10.1.0.0/16")).union(nets("10.1.2.0/24"))
    )
    # The table contains IPv4 addresses only, so the packet is IPv4.
    assert rule.conditions == (Match(SRC, expected), Match(DST, V4_ALL))


def test_table_mixed_families(tmp_path: Path) -> None:
    text = (
        "table <internet> const { 0.0.0.0/0, !10/8, ::/0, !fd00::/8 }\n"
        "pass in from <internet>\n"
    )
    rule = only(tmp_path, text)
    expected = ADDR_ALL.subtract(nets("10.0.0.0/8", "fd00::/8"))
    assert rule.conditions == (Match(SRC, expected),)


def test_table_negated_use(tmp_path: Path) -> None:
    rule = only(tmp_path, "table <t> { 10/8 }\npass in from ! <t>\n")
    assert rule.conditions == (Match(SRC, ADDR_ALL.subtract(nets("10.0.0.0/8"))),)


def test_table_with_self(tmp_path: Path) -> None:
    found = parse(tmp_path, "table <me> const { self }\npass in to <me>\n")
    assert [r.conditions for r in rules(found, "input")] == [()]
    assert rules(found, "forward-in") == ()


def test_table_persist_empty_unknown(tmp_path: Path) -> None:
    found = parse(tmp_path, "table <bad> persist\nblock in quick from <bad>\n")
    assert rules(found)[0].conditions == (
        Unknown("<bad>", Span("pf.conf", 2, 21, 2, 25), "pf source <bad>"),
    )
    assert diagnostics(found) == [
        (
            "warning",
            2,
            "table <bad> has no entries in the checked files; it is filled at run time",
        ),
    ]


def test_table_const_empty_never(tmp_path: Path) -> None:
    assert rules(parse(tmp_path, "table <none> const\npass in from <none>\n")) == ()


def test_table_host_names(tmp_path: Path) -> None:
    found = parse(tmp_path, "table <t> { 10/8 mx.example.com }\npass in from <t>\n")
    assert [r.conditions for r in rules(found)] == [
        (Match(SRC, nets("10.0.0.0/8")), Match(DST, V4_ALL)),
        (
            Unknown(
                "<t> mx.example.com",
                Span("pf.conf", 2, 14, 2, 16),
                "pf source <t> names",
            ),
        ),
    ]
    assert warning_lines(found) == [2]


def test_table_file_inside_tree(tmp_path: Path) -> None:
    text = 'table <bad> persist file "lists/bad.txt"\nblock in from <bad>\n'
    found = parse(
        tmp_path, text, files={"lists/bad.txt": "# bad\n10/8\n!10.1/16 192.0.2.1\n"}
    )
    expected = nets("10.0.0.0/8", "192.0.2.1").subtract(nets("10.1.0.0/16"))
    assert rules(found)[0].conditions == (Match(SRC, expected), Match(DST, V4_ALL))
    assert diagnostics(found) == []


def test_table_file_outside_tree(tmp_path: Path) -> None:
    write(tmp_path, "10/8\n", "outside.txt")
    error = parse_error(
        tmp_path / "tree", 'table <bad> file "../outside.txt"\nblock in from <bad>\n'
    )
    assert error.message.startswith(
        "table file is outside the checked tree (../outside.txt)"
    )
    assert (error.span.line, error.span.column) == (1, 18)


def test_table_file_absolute_missing(tmp_path: Path) -> None:
    found = parse(tmp_path, 'table <bad> file "/etc/pf.nosuch"\nblock in from <bad>\n')
    assert rules(found)[0].conditions == (
        Unknown("<bad>", Span("pf.conf", 2, 15, 2, 19), "pf source <bad>"),
    )
    assert warning_lines(found) == [1, 2]


# --- options and statements that do not filter --------------------------------------


def test_set_skip(tmp_path: Path) -> None:
    found = parse(tmp_path, "set skip on { lo0 wg0 }\nblock all\n")
    assert found.loopback == ("lo", "lo0", "Loopback+", "wg0")
    first = rules(found, "output")[0]
    assert first.conditions == (InterfaceMatch(OIF, ("lo0", "wg0")),)
    assert first.action == ACCEPT
    assert first.span.line == 1


def test_antispoof(tmp_path: Path) -> None:
    found = parse(tmp_path, "pass all\nantispoof quick for em0 inet\n")
    network = Unknown(
        "em0:network", Span("pf.conf", 2, 1, 2, 28), "pf source em0:network"
    )
    own = Unknown("(em0)", Span("pf.conf", 2, 1, 2, 28), "pf source (em0)")
    assert [(r.span.line, r.action, r.conditions) for r in rules(found)] == [
        (2, DROP, (InterfaceMatch(IIF, ("em0",), negated=True), *ANY4, network)),
        (2, DROP, (*ANY4, own)),
        (1, ACCEPT, ()),
    ]
    assert [r.span.line for r in rules(found, "output")] == [1]
    assert warning_lines(found) == [2, 2]


def test_antispoof_loopback(tmp_path: Path) -> None:
    found = parse(tmp_path, "antispoof for lo0\n")
    assert len(rules(found)) == 1


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "scrub in all fragment reassemble",
            "scrub rules normalise packets and do not filter; parsed and ignored",
        ),
        (
            "match out on egress nat-to (egress)",
            "match rules set options for later rules and do not pass or block; parsed "
            "and ignored",
        ),
        (
            'nat-anchor "ftp-proxy/*"',
            "nat-anchor calls translation rules; address translation is not modelled",
        ),
        (
            "altq on em0 cbq bandwidth 10Mb queue { std }",
            "queueing (altq) does not filter; parsed and ignored",
        ),
        (
            "nat on em0 from 10/8 to any -> (em0)",
            "nat rules are parsed and ignored for filtering (address translation is "
            "not modelled)",
        ),
        (
            "pass out on em0 route-to (em1 10.0.0.1) from 10/8",
            "routing and translation options are not modelled "
            "(route-to (em1 10.0.0.1)); the rule is checked on the packet as it "
            "arrives",
        ),
    ],
)
def test_ignored_notes(tmp_path: Path, statement: str, message: str) -> None:
    found = parse(tmp_path, "set limit states 10000\n" + statement + "\n")
    assert diagnostics(found) == [("note", 2, message)]


def test_rdr_pass_accepts_first(tmp_path: Path) -> None:
    text = "block all\nrdr pass on em0 proto tcp to port 25 -> 10.0.0.5\n"
    found = parse(tmp_path, text)
    assert [(r.span.line, r.action, r.conditions) for r in rules(found)] == [
        (2, ACCEPT, (InterfaceMatch(IIF, ("em0",)), TCP, Match(DPORT, ports(25)))),
        (1, DROP, ()),
    ]
    assert lines(rules(found, "output")) == [1]


def test_nat_pass_accepts_first(tmp_path: Path) -> None:
    found = parse(tmp_path, "block all\nnat pass on em0 from 10/8 to any -> (em0)\n")
    assert [(r.span.line, r.conditions) for r in rules(found, "output")] == [
        (
            2,
            (
                InterfaceMatch(OIF, ("em0",)),
                Match(SRC, nets("10.0.0.0/8")),
                Match(DST, V4_ALL),
            ),
        ),
        (1, ()),
    ]
    assert lines(rules(found, "input")) == [1]


# --- anchors -------------------------------------------------------------------------


def test_inline_anchor_joins_last_match(tmp_path: Path) -> None:
    text = (
        "pass in all\n"  # 1
        'anchor "a" in proto tcp {\n'  # 2
        "  block in proto tcp to port 25\n"  # 3
        "  pass in quick proto tcp to port 22\n"  # 4
        "}\n"
        "pass in proto tcp to port 25\n"  # 6
    )
    found = rules(parse(tmp_path, text))
    assert [(r.span.line, r.action, r.conditions) for r in found] == [
        (4, ACCEPT, (TCP, Match(DPORT, ports(22)))),
        (6, ACCEPT, (TCP, Match(DPORT, ports(25)))),
        (3, DROP, (TCP, Match(DPORT, ports(25)))),
        (1, ACCEPT, ()),
    ]


def test_quick_anchor_is_one_quick_block(tmp_path: Path) -> None:
    text = (
        "block in all\n"  # 1
        'anchor "b" quick on em0 {\n'  # 2
        "  pass in proto tcp to port 25\n"  # 3
        "  block in proto tcp from 10/8 to port 25\n"  # 4
        "}\n"
        "pass in proto tcp to port 1433\n"  # 6
    )
    found = rules(parse(tmp_path, text))
    em0 = InterfaceMatch(IIF, ("em0",))
    assert [(r.span.line, r.action, r.conditions) for r in found] == [
        (
            4,
            DROP,
            (
                em0,
                TCP,
                Match(SRC, nets("10.0.0.0/8")),
                Match(DST, V4_ALL),
                Match(DPORT, ports(25)),
            ),
        ),
        (3, ACCEPT, (em0, TCP, Match(DPORT, ports(25)))),
        (6, ACCEPT, (TCP, Match(DPORT, ports(1433)))),
        (1, DROP, ()),
    ]
    assert found[0].text == "block in proto tcp from 10/8 to port 25"
    assert found[1].text == "pass in proto tcp to port 25"


def test_load_anchor_file(tmp_path: Path) -> None:
    text = (
        'block in all\nanchor "mail" to 192.0.2.25\n'
        'load anchor "mail" from "anchors/mail.conf"\n'
    )
    found = parse(
        tmp_path,
        text,
        files={"anchors/mail.conf": "# mail\npass in proto tcp to port 25\n"},
    )
    first = rules(found)[0]
    assert (first.span.path, first.span.line) == ("anchors/mail.conf", 2)
    assert first.conditions == (
        TCP,
        Match(SRC, V4_ALL),
        Match(DST, nets("192.0.2.25")),
        Match(DPORT, ports(25)),
    )
    assert diagnostics(found) == []


def test_load_anchor_outside_tree(tmp_path: Path) -> None:
    write(tmp_path, "pass all\n", "outside.conf")
    error = parse_error(
        tmp_path / "tree", 'anchor "x"\nload anchor "x" from "../outside.conf"\n'
    )
    assert error.message.startswith(
        "anchor file is outside the checked tree (../outside.conf)"
    )
    assert (error.span.line, error.span.column) == (2, 22)


def test_load_anchor_symlink_outside_tree(tmp_path: Path) -> None:
    write(tmp_path, "pass all\n", "outside.conf")
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "link.conf").symlink_to(tmp_path / "outside.conf")
    error = parse_error(
        tmp_path / "tree", 'anchor "x"\nload anchor "x" from "link.conf"\n'
    )
    assert error.span.line == 2


def test_unknown_anchor(tmp_path: Path) -> None:
    found = parse(tmp_path, 'block in all\nanchor "relayd/*" in\n')
    anchor = "anchor relayd/*"
    span = Span("pf.conf", 2, 1, 2, 20)
    assert [(r.span.line, r.action, r.conditions) for r in rules(found)] == [
        (2, DROP, (Unknown(anchor, span, f"pf {anchor} quick drop"),)),
        (2, ACCEPT, (Unknown(anchor, span, f"pf {anchor} quick accept"),)),
        (2, ACCEPT, (Unknown(anchor, span, f"pf {anchor} last-match accept"),)),
        (2, DROP, (Unknown(anchor, span, f"pf {anchor} last-match drop"),)),
        (1, DROP, ()),
    ]
    assert rules(found, "output") == ()
    assert diagnostics(found) == [
        (
            "warning",
            2,
            "rules of anchor relayd/* are not in the checked files (loaded "
            "at run time); packets it sees may be passed or blocked",
        ),
    ]


def test_quick_unknown_anchor_only_quick(tmp_path: Path) -> None:
    found = parse(tmp_path, 'anchor "x" quick\n')
    assert [r.conditions[0].key for r in rules(found)] == [  # type: ignore[union-attr]
        "pf anchor x quick drop",
        "pf anchor x quick accept",
    ]


def test_wildcard_anchor_known_children(tmp_path: Path) -> None:
    text = (
        'anchor "web/*"\nload anchor "web/a" from "a.conf"\n'
        'load anchor "web/b" from "b.conf"\n'
    )
    found = parse(
        tmp_path,
        text,
        files={
            "a.conf": "pass in proto tcp to port 80\n",
            "b.conf": "block in proto tcp to port 81\n",
        },
    )
    assert [(r.span.path, r.action) for r in rules(found)] == [
        ("b.conf", DROP),
        ("a.conf", ACCEPT),
    ]


def test_anchor_table_scope(tmp_path: Path) -> None:
    text = (
        "table <t> { 10/8 }\n"
        'anchor "a" {\n'
        "  table <t> { 192.168/16 }\n"
        "  pass in from <t>\n"
        "}\n"
        "pass in from <t>\n"
    )
    found = rules(parse(tmp_path, text))
    assert [(r.span.line, r.conditions[0]) for r in found] == [
        (6, Match(SRC, nets("10.0.0.0/8"))),
        (4, Match(SRC, nets("192.168.0.0/16"))),
    ]


# --- includes ------------------------------------------------------------------------


def test_include_spliced(tmp_path: Path) -> None:
    text = 'ports = "{ 25 587 }"\ninclude "rules.d/mail.conf"\nblock in all\n'
    found = parse(
        tmp_path,
        text,
        files={"rules.d/mail.conf": "\npass in quick proto tcp to port $ports\n"},
    )
    first = rules(found)[0]
    assert (first.span.path, first.span.line) == ("rules.d/mail.conf", 2)
    assert first.conditions == (TCP, Match(DPORT, ports(25, 587)))


def test_include_missing_unknown(tmp_path: Path) -> None:
    found = parse(tmp_path, 'block in all\ninclude "/etc/pf.d/extra.conf"\n')
    assert lines(rules(found)) == [2, 2, 2, 2, 1]
    assert warning_lines(found) == [2]


# --- corpus --------------------------------------------------------------------------

CORPUS = (
    "adyxax-freebsd-template.pf.conf",
    "fwbuilder-firewall51-main.pf.conf",
    "fwbuilder-firewall51-mail_server_inbound.anchor.conf",
)


def corpus(shared: Path, name: str) -> Ruleset:
    folder = shared / "corpus" / "pf"
    source = read_source(folder / name, name)
    result = PfFormat().parse(source, FileAccess(folder, folder))
    return result.rulesets[0]


def test_corpus_complete(shared: Path) -> None:
    present = {
        p.name for p in (shared / "corpus" / "pf").iterdir() if p.suffix == ".conf"
    }
    assert present == set(CORPUS)


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_parses(shared: Path, name: str) -> None:
    found = corpus(shared, name)
    assert found.chains["input"].rules


def test_corpus_adyxax(shared: Path) -> None:
    found = corpus(shared, CORPUS[0])
    assert [
        (d.level, d.span.line)
        for d in sorted(found.diagnostics, key=lambda d: (d.span.line, d.level))
    ] == [
        ("note", 1),
        ("note", 9),
        ("warning", 9),
        ("note", 10),
    ]
    assert lines(rules(found)) == [11, 26, 25, 24, 20, 18, 17, 16, 15, 12]
    smtp = rules(found)[4]
    assert smtp.conditions[2] == Match(
        SRC,
        ADDR_ALL.subtract(
            nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8")
        ),
    )
    assert smtp.conditions[3] == Match(DPORT, ports(22, 25, 80, 443, 465, 587))
    # `to <myself>` (a table of self) matches every destination of the input path.
    assert len(smtp.conditions) == 4
    assert rules(found)[-1].action == REJECT


def test_corpus_fwbuilder_anchor_file(shared: Path) -> None:
    found = corpus(shared, CORPUS[1])
    anchor_rules = rules(found)[:2]
    assert [(r.span.path, r.span.line) for r in anchor_rules] == [
        (CORPUS[2], 3),
        (CORPUS[2], 6),
    ]
    assert anchor_rules[0].conditions == (
        TCP,
        Match(SRC, V4_ALL),
        Match(DST, nets("192.168.1.10")),
        Match(DPORT, ports(25)),
    )
    assert (
        anchor_rules[0].text
        == "pass in quick inet proto tcp from any to any port 25 keep state"
    )
    assert [
        (d.level, d.span.line)
        for d in sorted(found.diagnostics, key=lambda d: (d.span.line, d.level))
    ] == [
        ("warning", 9),
        ("warning", 12),
        ("warning", 15),
        ("warning", 18),
        ("note", 24),
        ("warning", 25),
        ("warning", 26),
        ("warning", 27),
        ("warning", 28),
    ]
    block = next(r for r in rules(found) if r.span.line == 22)
    assert (block.action, block.conditions) == (DROP, ANY4)


# --- end to end ----------------------------------------------------------------------


def check_findings(paths: list[Path]) -> list[tuple[str, str, int]]:
    from seglint.api import check

    result = check(paths)
    assert result.diagnostics == []
    return sorted(
        (f.rule_id, Path(f.span.path).name, f.span.line)
        for f in result.findings
        if f.level in ("error", "warning")
    )


def test_e2e_netbios_exposed(tmp_path: Path) -> None:
    path = write(tmp_path, "block in all\npass in proto tcp to port 139\n")
    assert check_findings([path]) == [("SEG201", "pf.conf", 2)]


def test_e2e_quick_pass_wins(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "block in all\npass in quick proto tcp to port 1433\n"
        "block in proto tcp to port 1433\n",
    )
    assert check_findings([path]) == [("SEG204", "pf.conf", 2)]


def test_e2e_last_match_block_wins(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "block in all\npass in proto tcp to port 1433\n"
        "block in proto tcp to port 1433\n",
    )
    assert check_findings([path]) == []


def test_e2e_trusted_table_clean(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "table <lan> const { 10/8 }\nblock in all\n"
        "pass in proto tcp from <lan> to port 389\n",
    )
    assert check_findings([path]) == []


def test_e2e_unknown_table_may(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "table <admins> persist\nblock in all\n"
        "pass in proto tcp from <admins> to port 19001\n",
    )
    assert check_findings([path]) == [
        ("SEG203", "pf.conf", 3),
        ("SEG902", "pf.conf", 3),
    ]


def test_e2e_skip_loopback_clean(tmp_path: Path) -> None:
    path = write(tmp_path, "set skip on lo0\nblock in all\n")
    assert check_findings([path]) == []


def test_e2e_anchor_file(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'block in all\nanchor "sql"\nload anchor "sql" from "sql.conf"\n'
    )
    write(tmp_path, "# sql\npass in proto tcp to port 1433\n", "sql.conf")
    assert check_findings([path]) == [("SEG204", "sql.conf", 2)]


def test_e2e_parse_error(tmp_path: Path) -> None:
    from seglint.api import check

    path = write(tmp_path, "block in all\npass in from 10.0.0.300\n")
    result = check([path])
    assert [(d.rule_id, d.span.line, d.span.column) for d in result.diagnostics] == [
        ("SEG901", 2, 14),
    ]
    assert result.exit_code == 2


def test_e2e_corpus_fwbuilder(shared: Path) -> None:
    found = check_findings([shared / "corpus" / "pf" / CORPUS[1]])
    assert ("SEG902", CORPUS[1], 9) in found
    assert ("SEG902", CORPUS[1], 25) in found
    assert ("SEG201", CORPUS[1], 12) in found
