"""Address and port sets: exact where the file lists the elements, "may" where not.

iptables ``-m set --match-set`` refers to an ipset whose members live in the
kernel, not in the rule file, so a rule using one can only "may" match and
the construct gets a SEG902 warning. nftables named sets, maps and pf tables
list their elements in the file (or in a file beside it), so their rules are
exact, with a witness taken from the elements.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peerlib import (  # noqa: E402
    IPTABLES_FIRST,
    NFT_FIRST,
    PF_FIRST,
    case,
    exposures,
    hits,
    iptables,
    lint,
    needs,
    nft,
    one,
    pf,
)

PARTNER = "198.51.100.7"


def named_set(name: str, kind: str, elements: str | None, flags: str = "") -> str:
    """Return a set definition; its line count is 3 plus one per optional line."""
    text = f"  set {name} {{\n    type {kind}\n"
    if flags:
        text += f"    flags {flags}\n"
    if elements is not None:
        text += f"    elements = {{ {elements} }}\n"
    return text + "  }\n"


# --- iptables ipset ---------------------------------------------------------------

IPSET = [
    case(
        "iptables",
        "host.rules",
        iptables(
            "-A INPUT -p tcp --dport 1433 -m set --match-set partners src -j ACCEPT"
        ),
        IPTABLES_FIRST,
        id="match-set",
    ),
    case(
        "iptables",
        "host.rules",
        iptables(
            "-A INPUT -p tcp --dport 1433 -m set ! --match-set blocked src -j ACCEPT"
        ),
        IPTABLES_FIRST,
        id="negated-match-set",
    ),
    case(
        "iptables",
        "host.rules",
        iptables(
            "-A INPUT -m set --match-set blocked src -j DROP",
            "-A INPUT -p tcp --dport 1433 -j ACCEPT",
        ),
        IPTABLES_FIRST + 1,
        id="drop-set-before-accept",
    ),
]


@pytest.mark.parametrize(("name", "text", "line"), IPSET)
def test_ipset_may(tmp_path: Path, name: str, text: str, line: int) -> None:
    result = lint(tmp_path, {name: text})
    assert hits(result, "SEG204") == [("SEG204", name, line)]
    assert one(result, "SEG204", line).may is True


@pytest.mark.parametrize(("name", "text", "line"), IPSET)
def test_ipset_warning_line(tmp_path: Path, name: str, text: str, line: int) -> None:
    result = lint(tmp_path, {name: text})
    assert hits(result, "SEG902") == [("SEG902", name, IPTABLES_FIRST)]
    message = one(result, "SEG902", IPTABLES_FIRST).message
    assert "--match-set" in message


@needs("iptables")
def test_ipset_drop_private_accept(tmp_path: Path) -> None:
    # Whatever the set holds, only private sources are accepted after it.
    text = iptables(
        "-A INPUT -m set --match-set blocked src -j DROP",
        "-A INPUT -s 10.0.0.0/8 -p tcp --dport 1433 -j ACCEPT",
    )
    result = lint(tmp_path, {"host.rules": text})
    assert exposures(result) == []
    assert hits(result, "SEG902") == [("SEG902", "host.rules", IPTABLES_FIRST)]


@needs("iptables")
def test_ipset_accept_then_accept(tmp_path: Path) -> None:
    text = iptables(
        "-A INPUT -p tcp --dport 1433 -m set --match-set partners src -j ACCEPT",
        "-A INPUT -p tcp --dport 1433 -j ACCEPT",
    )
    result = lint(tmp_path, {"host.rules": text})
    assert hits(result, "SEG204") == [
        ("SEG204", "host.rules", IPTABLES_FIRST),
        ("SEG204", "host.rules", IPTABLES_FIRST + 1),
    ]
    # The set rule may accept; the rule after it certainly accepts the rest.
    assert one(result, "SEG204", IPTABLES_FIRST).may is True
    assert one(result, "SEG204", IPTABLES_FIRST + 1).may is False


# --- nftables sets and maps with elements -------------------------------------------

PARTNERS = named_set("partners", "ipv4_addr", f"{PARTNER}, 203.0.113.9")
VERDICTS = (
    "  map verdicts {\n    type ipv4_addr : verdict\n"
    f"    elements = {{ {PARTNER} : accept, 10.0.0.1 : drop }}\n  }}\n"
)
PAIRS = named_set("pairs", "ipv4_addr . inet_service", f"{PARTNER} . 1433")
ADD_LATER = named_set("partners", "ipv4_addr", None)

# (file name, text, line of the rule, network of the witness source)
EXACT = [
    case(
        "nftables",
        "host.nft",
        nft("ip saddr @partners tcp dport 1433 accept", sets=PARTNERS),
        NFT_FIRST + 4,
        f"{PARTNER}/32",
        id="nft-named-set",
    ),
    case(
        "nftables",
        "host.nft",
        nft(
            "ip6 saddr @v6 tcp dport 1433 accept",
            sets=named_set("v6", "ipv6_addr", "2001:db8:7::/48", flags="interval"),
        ),
        NFT_FIRST + 5,
        "2001:db8:7::/48",
        id="nft-named-ipv6-interval",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport 1433 ip saddr vmap @verdicts", sets=VERDICTS),
        NFT_FIRST + 4,
        f"{PARTNER}/32",
        id="nft-named-verdict-map",
    ),
    case(
        "nftables",
        "host.nft",
        nft("ip saddr . tcp dport @pairs accept", sets=PAIRS),
        NFT_FIRST + 4,
        f"{PARTNER}/32",
        id="nft-named-concatenation",
    ),
    case(
        "nftables",
        "host.nft",
        nft(f"ip saddr . tcp dport {{ {PARTNER} . 1433, 10.0.0.1 . 22 }} accept"),
        NFT_FIRST,
        f"{PARTNER}/32",
        id="nft-anonymous-concatenation",
    ),
    case(
        "nftables",
        "host.nft",
        nft("ip saddr @partners tcp dport 1433 accept", sets=ADD_LATER)
        + f"add element inet filter partners {{ {PARTNER} }}\n",
        NFT_FIRST + 3,
        f"{PARTNER}/32",
        id="nft-add-element",
    ),
    case(
        "pf",
        "pf.conf",
        f"table <partners> {{ {PARTNER}, 203.0.113.9 }}\n"
        + pf("pass in proto tcp from <partners> to any port 1433"),
        PF_FIRST + 1,
        f"{PARTNER}/32",
        id="pf-table",
    ),
    case(
        "pf",
        "pf.conf",
        'table <partners> persist file "partners.txt"\n'
        + pf("pass in proto tcp from <partners> to any port 1433"),
        PF_FIRST + 1,
        f"{PARTNER}/32",
        id="pf-table-file",
    ),
]
SIDE_FILES = {"partners.txt": f"# partners\n{PARTNER}\n"}


@pytest.mark.parametrize(("name", "text", "line", "network"), EXACT)
def test_set_elements_exact(
    tmp_path: Path, name: str, text: str, line: int, network: str
) -> None:
    result = lint(tmp_path, {name: text, **SIDE_FILES})
    assert result.diagnostics == []
    assert hits(result, "SEG204", "SEG902") == [("SEG204", name, line)]
    assert one(result, "SEG204", line).may is False


@pytest.mark.parametrize(("name", "text", "line", "network"), EXACT)
def test_witness_from_elements(
    tmp_path: Path, name: str, text: str, line: int, network: str
) -> None:
    import ipaddress

    finding = one(lint(tmp_path, {name: text, **SIDE_FILES}), "SEG204", line)
    assert finding.witness is not None
    assert ipaddress.ip_address(finding.witness.src) in ipaddress.ip_network(network)


@needs("nftables")
def test_nft_private_set(tmp_path: Path) -> None:
    sets = named_set(
        "admins", "ipv4_addr", "10.0.0.0/8, 192.168.0.0/16", flags="interval"
    )
    text = nft("ip saddr @admins tcp dport 1433 accept", sets=sets)
    assert exposures(lint(tmp_path, {"host.nft": text})) == []


@needs("nftables")
def test_nft_port_set_interval(tmp_path: Path) -> None:
    sets = named_set("services", "inet_service", "22, 1400-1500", flags="interval")
    text = nft("tcp dport @services accept", sets=sets)
    result = lint(tmp_path, {"host.nft": text})
    line = NFT_FIRST + 5
    assert exposures(result) == [
        ("SEG204", "host.nft", line),
        ("SEG208", "host.nft", line),
    ]
    assert one(result, "SEG208", line).message.startswith("tcp/22,1400-1432,1434-1500 ")


@needs("pf")
def test_pf_table_negation(tmp_path: Path) -> None:
    text = "table <partners> { 0.0.0.0/0, !198.51.100.0/24 }\n" + pf(
        "pass in proto tcp from <partners> to any port 1433"
    )
    finding = one(lint(tmp_path, {"pf.conf": text}), "SEG204", PF_FIRST + 1)
    assert finding.witness is not None
    assert not finding.witness.src.startswith("198.51.100.")


# --- sets whose elements are not in the file ----------------------------------------

RUNTIME = [
    case(
        "nftables",
        "host.nft",
        nft("ip saddr @partners tcp dport 1433 accept", sets=ADD_LATER),
        NFT_FIRST + 3,
        id="nft-set-without-elements",
    ),
    case(
        "nftables",
        "host.nft",
        nft(
            "ip saddr @seen tcp dport 1433 accept",
            sets=named_set("seen", "ipv4_addr", None, flags="dynamic,timeout"),
        ),
        NFT_FIRST + 4,
        id="nft-dynamic-set",
    ),
    case(
        "pf",
        "pf.conf",
        'table <partners> persist file "/etc/pf/partners"\n'
        + pf("pass in proto tcp from <partners> to any port 1433"),
        PF_FIRST + 1,
        id="pf-table-file-missing",
    ),
]


@pytest.mark.parametrize(("name", "text", "line"), RUNTIME)
def test_runtime_set_may(tmp_path: Path, name: str, text: str, line: int) -> None:
    result = lint(tmp_path, {name: text})
    assert hits(result, "SEG204") == [("SEG204", name, line)]
    assert one(result, "SEG204", line).may is True
    assert ("SEG902", name, line) in hits(result, "SEG902")
