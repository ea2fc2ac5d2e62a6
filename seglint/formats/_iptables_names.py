"""Name tables of the iptables format: tables, protocols, services, ICMP types, targets.

The protocol and service numbers are the IANA assignments as listed in the
``/etc/protocols`` and ``/etc/services`` files of Debian's netbase package.
They are built in, so a file parses the same on every machine. The ICMP
type names are the ones iptables 1.8 accepts (``extensions/libxt_icmp.h``).
"""

from __future__ import annotations

from seglint.ir import ActionKind

# Built-in chains of each table, as the kernel registers them.
BUILTIN_CHAINS: dict[str, tuple[str, ...]] = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "raw": ("PREROUTING", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}

# Base chains per hook in the order the kernel runs them (hook priorities raw
# -300, mangle -150, filter 0, security 50). The nat table is left out on
# purpose: it rewrites addresses and ports, which the IR does not model.
# fmt: off
HOOK_CHAINS: dict[str, tuple[str, ...]] = {
    "input": (
        "raw/PREROUTING", "mangle/PREROUTING", "mangle/INPUT", "filter/INPUT",
        "security/INPUT",
    ),
    "output": (
        "raw/OUTPUT", "mangle/OUTPUT", "filter/OUTPUT", "security/OUTPUT",
        "mangle/POSTROUTING",
    ),
    "forward": (
        "raw/PREROUTING", "mangle/PREROUTING", "mangle/FORWARD", "filter/FORWARD",
        "security/FORWARD", "mangle/POSTROUTING",
    ),
}
# fmt: on

# Chain names are limited by the kernel's XT_EXTENSION_MAXNAMELEN (29 bytes
# with the terminating NUL) and interface names by IFNAMSIZ (16 with the NUL).
CHAIN_NAME_MAX = 28
INTERFACE_NAME_MAX = 15

# fmt: off
PROTOCOLS: dict[str, int] = {
    "all": 0, "ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4,
    "st": 5, "tcp": 6, "egp": 8, "igp": 9, "pup": 12, "udp": 17, "hmp": 20,
    "xns-idp": 22, "rdp": 27, "iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37,
    "idpr-cmtp": 38, "ipv6": 41, "ipv6-route": 43, "ipv6-frag": 44, "idrp": 45,
    "rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "skip": 57, "ipv6-icmp": 58,
    "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73, "vmtp": 81,
    "eigrp": 88, "ospf": 89, "ax.25": 93, "ipip": 94, "etherip": 97, "encap": 98,
    "pim": 103, "ipcomp": 108, "vrrp": 112, "l2tp": 115, "isis": 124, "sctp": 132,
    "fc": 133, "mobility-header": 135, "ipv6-mh": 135, "mh": 135, "udplite": 136,
    "mpls-in-ip": 137, "manet": 138, "hip": 139, "shim6": 140, "wesp": 141,
    "rohc": 142, "ethernet": 143,
}
# fmt: on
ICMP4 = 1
ICMP6 = 58
TCP = 6
UDP = 17
DCCP = 33
SCTP = 132
UDPLITE = 136

# Match modules that carry ports, and the protocol each one needs (the
# kernel refuses the rule otherwise).
PORT_MODULES: dict[str, int] = {"tcp": TCP, "udp": UDP, "dccp": DCCP, "sctp": SCTP}
# Protocols that the multiport match accepts (xt_multiport's check).
MULTIPORT_PROTOCOLS = frozenset({TCP, UDP, UDPLITE, SCTP, DCCP})
# The match module iptables loads by itself for ``-p NAME`` options.
PROTOCOL_MODULES: dict[int, str] = {
    TCP: "tcp",
    UDP: "udp",
    DCCP: "dccp",
    SCTP: "sctp",
    ICMP4: "icmp",
    ICMP6: "icmp6",
}

# fmt: off
SERVICES: dict[str, int] = {
    "tcpmux": 1, "echo": 7, "discard": 9, "systat": 11, "daytime": 13,
    "netstat": 15, "qotd": 17, "chargen": 19, "ftp-data": 20, "ftp": 21,
    "ssh": 22, "telnet": 23, "smtp": 25, "time": 37, "whois": 43, "nicname": 43,
    "tacacs": 49, "domain": 53, "bootps": 67, "bootpc": 68, "tftp": 69,
    "gopher": 70, "finger": 79, "http": 80, "www": 80, "kerberos": 88,
    "iso-tsap": 102, "pop3": 110, "pop-3": 110, "sunrpc": 111, "portmapper": 111,
    "auth": 113, "ident": 113, "nntp": 119, "ntp": 123, "epmap": 135,
    "loc-srv": 135, "netbios-ns": 137, "netbios-dgm": 138, "netbios-ssn": 139,
    "imap2": 143, "imap": 143, "snmp": 161, "snmp-trap": 162, "xdmcp": 177,
    "bgp": 179, "irc": 194, "ldap": 389, "https": 443, "microsoft-ds": 445,
    "kpasswd": 464, "submissions": 465, "ssmtp": 465, "smtps": 465, "urd": 465,
    "isakmp": 500, "exec": 512, "biff": 512, "login": 513, "shell": 514,
    "syslog": 514, "printer": 515, "talk": 517, "ntalk": 518, "route": 520,
    "efs": 520, "uucp": 540, "klogin": 543, "kshell": 544, "dhcpv6-client": 546,
    "dhcpv6-server": 547, "submission": 587, "ipp": 631, "ldaps": 636,
    "rsync": 873, "ftps-data": 989, "ftps": 990, "telnets": 992, "imaps": 993,
    "pop3s": 995, "socks": 1080, "openvpn": 1194, "ms-sql-s": 1433,
    "ms-sql-m": 1434, "ingreslock": 1524, "l2tp": 1701, "pptp": 1723,
    "radius": 1812, "radius-acct": 1813, "nfs": 2049, "mysql": 3306,
    "ms-wbt-server": 3389, "sieve": 4190, "ipsec-nat-t": 4500, "sip": 5060,
    "sip-tls": 5061, "xmpp-client": 5222, "xmpp-server": 5269,
    "postgresql": 5432, "x11": 6000, "http-alt": 8080, "webcache": 8080,
}
# fmt: on

# (name, type, lowest code, highest code); the order matters because
# iptables accepts any unique prefix of a name.
# fmt: off
ICMP_TYPES: tuple[tuple[str, int, int, int], ...] = (
    ("echo-reply", 0, 0, 255), ("pong", 0, 0, 255),
    ("destination-unreachable", 3, 0, 255), ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1), ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3), ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5), ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7), ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10), ("tos-network-unreachable", 3, 11, 11),
    ("tos-host-unreachable", 3, 12, 12), ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14), ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 255), ("redirect", 5, 0, 255),
    ("network-redirect", 5, 0, 0), ("host-redirect", 5, 1, 1),
    ("tos-network-redirect", 5, 2, 2), ("tos-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 255), ("ping", 8, 0, 255),
    ("router-advertisement", 9, 0, 255), ("router-solicitation", 10, 0, 255),
    ("time-exceeded", 11, 0, 255), ("ttl-exceeded", 11, 0, 255),
    ("ttl-zero-during-transit", 11, 0, 0), ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 255), ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1), ("timestamp-request", 13, 0, 255),
    ("timestamp-reply", 14, 0, 255), ("address-mask-request", 17, 0, 255),
    ("address-mask-reply", 18, 0, 255),
)
# fmt: on
# fmt: off
ICMPV6_TYPES: tuple[tuple[str, int, int, int], ...] = (
    ("destination-unreachable", 1, 0, 255), ("no-route", 1, 0, 0),
    ("communication-prohibited", 1, 1, 1), ("beyond-scope", 1, 2, 2),
    ("address-unreachable", 1, 3, 3), ("port-unreachable", 1, 4, 4),
    ("failed-policy", 1, 5, 5), ("reject-route", 1, 6, 6),
    ("packet-too-big", 2, 0, 255), ("time-exceeded", 3, 0, 255),
    ("ttl-exceeded", 3, 0, 255), ("ttl-zero-during-transit", 3, 0, 0),
    ("ttl-zero-during-reassembly", 3, 1, 1), ("parameter-problem", 4, 0, 255),
    ("bad-header", 4, 0, 0), ("unknown-header-type", 4, 1, 1),
    ("unknown-option", 4, 2, 2), ("echo-request", 128, 0, 255),
    ("ping", 128, 0, 255), ("echo-reply", 129, 0, 255), ("pong", 129, 0, 255),
    ("router-solicitation", 133, 0, 255), ("router-advertisement", 134, 0, 255),
    ("neighbour-solicitation", 135, 0, 255), ("neighbor-solicitation", 135, 0, 255),
    ("neighbour-advertisement", 136, 0, 255), ("neighbor-advertisement", 136, 0, 255),
    ("redirect", 137, 0, 255),
)
# fmt: on

# REJECT --reject-with values of iptables (IPv4) and ip6tables (IPv6), with
# their short aliases; ``tcp-reset`` and ``port-unreach`` exist in both.
# fmt: off
REJECT_WITH_V4 = frozenset({
    "icmp-net-unreachable", "net-unreach", "icmp-host-unreachable", "host-unreach",
    "icmp-proto-unreachable", "proto-unreach", "icmp-net-prohibited", "net-prohib",
    "icmp-host-prohibited", "host-prohib", "icmp-admin-prohibited", "admin-prohib",
    "icmp-port-unreachable",
})
# fmt: on
# fmt: off
REJECT_WITH_V6 = frozenset({
    "icmp6-no-route", "no-route", "icmp6-adm-prohibited", "adm-prohibited",
    "icmp6-addr-unreachable", "addr-unreach", "icmp6-port-unreachable",
    "icmp6-policy-fail", "policy-fail", "icmp6-reject-route", "reject-route",
})
# fmt: on
REJECT_WITH_BOTH = frozenset({"tcp-reset", "tcp-rst", "port-unreach"})

# Targets that end the chain with a verdict.
# fmt: off
VERDICT_TARGETS: dict[str, ActionKind] = {
    "ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return",
}
# fmt: on
# Targets that change or log the packet and let it go on to the next rule.
# fmt: off
CONTINUE_TARGETS = frozenset({
    "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TRACE", "CT", "NOTRACK", "CLASSIFY",
    "DSCP", "TOS", "TTL", "HL", "ECN", "TCPMSS", "SECMARK", "CONNSECMARK", "CHECKSUM",
    "IDLETIMER", "LED", "RATEEST", "SET", "AUDIT", "HMARK", "TCPOPTSTRIP", "TEE",
    "DNPT", "SNPT",
})
# fmt: on
# Address translation targets; the kernel accepts them only in the nat table.
NAT_TARGETS = frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"})
