"""Name tables of the nftables format: families, hooks, priorities, symbols.

The symbol names (ICMP types and codes, ct states, chain priorities) are the
ones nft 1.1 accepts (``src/proto.c``, ``src/datatype.c``, ``src/ct.c`` and
the priority table of nft(8)). Protocol and service numbers are the IANA
assignments as Debian's netbase package lists them in ``/etc/protocols`` and
``/etc/services``. nft looks them up in those files, so seglint builds them
in to read a file the same way on every machine.
"""

from __future__ import annotations

from seglint.space import STATE_INDEX

FAMILIES = frozenset({"ip", "ip6", "inet", "arp", "bridge", "netdev"})
# Families whose tables see IP packets on the hooks of the IR.
IP_FAMILIES: dict[str, frozenset[int]] = {
    "ip": frozenset({4}),
    "ip6": frozenset({6}),
    "inet": frozenset({4, 6}),
}
DEFAULT_FAMILY = "ip"

# The netfilter hooks a packet passes on each path of the IR, in order. A
# packet to this host passes prerouting, then input. A forwarded packet
# passes prerouting, forward and postrouting. A packet from this host passes
# output and postrouting. The inet ingress hook runs before prerouting.
HOOK_PATHS: dict[str, tuple[str, ...]] = {
    "input": ("ingress", "prerouting", "input"),
    "forward": ("ingress", "prerouting", "forward", "postrouting"),
    "output": ("output", "postrouting"),
}
KNOWN_HOOKS = frozenset({"ingress", "prerouting", "input", "forward", "output",
                         "postrouting", "egress"})

# Standard priority names of the ip, ip6, inet, arp and netdev families.
PRIORITIES: dict[str, int] = {
    "raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50,
    "srcnat": 100,
}
# The bridge family uses its own values for the same names.
BRIDGE_PRIORITIES: dict[str, int] = {
    "dstnat": -300, "filter": -200, "out": 100, "srcnat": 300,
}

TCP = 6
UDP = 17
ICMP4 = 1
ICMP6 = 58
DCCP = 33
SCTP = 132
UDPLITE = 136
# Protocols whose header starts with a source and a destination port; the
# ``th`` (transport header) selector reads those two fields.
PORT_PROTOCOLS = (TCP, UDP, DCCP, SCTP, UDPLITE)
PORT_SELECTORS: dict[str, int] = {
    "tcp": TCP, "udp": UDP, "dccp": DCCP, "sctp": SCTP, "udplite": UDPLITE,
}

PROTOCOLS: dict[str, int] = {
    "hopopt": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4, "st": 5, "tcp": 6,
    "egp": 8, "igp": 9, "pup": 12, "udp": 17, "hmp": 20, "xns-idp": 22, "rdp": 27,
    "iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37, "idpr-cmtp": 38, "ipv6": 41,
    "ipv6-route": 43, "ipv6-frag": 44, "idrp": 45, "rsvp": 46, "gre": 47,
    "esp": 50, "ah": 51, "skip": 57, "ipv6-icmp": 58, "icmpv6": 58,
    "ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73, "vmtp": 81, "eigrp": 88,
    "ospf": 89, "ax.25": 93, "ipip": 94, "etherip": 97, "encap": 98, "pim": 103,
    "ipcomp": 108, "comp": 108, "vrrp": 112, "l2tp": 115, "isis": 124,
    "sctp": 132, "fc": 133, "mobility-header": 135, "udplite": 136,
    "mpls-in-ip": 137, "manet": 138, "hip": 139, "shim6": 140, "wesp": 141,
    "rohc": 142, "ethernet": 143,
}

SERVICES: dict[str, int] = {
    "tcpmux": 1, "echo": 7, "discard": 9, "systat": 11, "daytime": 13,
    "netstat": 15, "qotd": 17, "chargen": 19, "ftp-data": 20, "ftp": 21,
    "ssh": 22, "telnet": 23, "smtp": 25, "mail": 25, "time": 37, "whois": 43,
    "nicname": 43, "tacacs": 49, "domain": 53, "bootps": 67, "bootpc": 68,
    "tftp": 69, "gopher": 70, "finger": 79, "http": 80, "www": 80,
    "kerberos": 88, "iso-tsap": 102, "pop3": 110, "pop-3": 110, "sunrpc": 111,
    "portmapper": 111, "auth": 113, "ident": 113, "nntp": 119, "ntp": 123,
    "epmap": 135, "loc-srv": 135, "netbios-ns": 137, "netbios-dgm": 138,
    "netbios-ssn": 139, "imap2": 143, "imap": 143, "snmp": 161, "snmp-trap": 162,
    "xdmcp": 177, "bgp": 179, "irc": 194, "ldap": 389, "https": 443,
    "microsoft-ds": 445, "kpasswd": 464, "submissions": 465, "ssmtp": 465,
    "smtps": 465, "isakmp": 500, "exec": 512, "biff": 512, "login": 513,
    "who": 513, "shell": 514, "syslog": 514, "printer": 515, "talk": 517,
    "ntalk": 518, "route": 520, "uucp": 540, "klogin": 543, "kshell": 544,
    "dhcpv6-client": 546, "dhcpv6-server": 547, "nntps": 563, "submission": 587,
    "ipp": 631, "ldaps": 636, "domain-s": 853, "rsync": 873, "ftps-data": 989,
    "ftps": 990, "telnets": 992, "imaps": 993, "pop3s": 995, "socks": 1080,
    "openvpn": 1194, "ms-sql-s": 1433, "ms-sql-m": 1434, "ingreslock": 1524,
    "l2f": 1701, "l2tp": 1701, "pptp": 1723, "radius": 1812,
    "radius-acct": 1813, "nfs": 2049, "mysql": 3306, "ms-wbt-server": 3389,
    "svn": 3690, "sieve": 4190, "ipsec-nat-t": 4500, "sip": 5060,
    "sip-tls": 5061, "xmpp-client": 5222, "xmpp-server": 5269, "mdns": 5353,
    "postgresql": 5432, "amqps": 5671, "amqp": 5672, "x11": 6000,
    "ircs-u": 6697, "http-alt": 8080, "webcache": 8080, "git": 9418,
    "zabbix-agent": 10050, "zabbix-trapper": 10051, "hkp": 11371,
}

ICMP_TYPES: dict[str, int] = {
    "echo-reply": 0, "destination-unreachable": 3, "source-quench": 4,
    "redirect": 5, "echo-request": 8, "router-advertisement": 9,
    "router-solicitation": 10, "time-exceeded": 11, "parameter-problem": 12,
    "timestamp-request": 13, "timestamp-reply": 14, "info-request": 15,
    "info-reply": 16, "address-mask-request": 17, "address-mask-reply": 18,
}
ICMPV6_TYPES: dict[str, int] = {
    "destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3,
    "parameter-problem": 4, "echo-request": 128, "echo-reply": 129,
    "mld-listener-query": 130, "mld-listener-report": 131,
    "mld-listener-done": 132, "mld-listener-reduction": 132,
    "nd-router-solicit": 133, "nd-router-advert": 134,
    "nd-neighbor-solicit": 135, "nd-neighbor-advert": 136, "nd-redirect": 137,
    "router-renumbering": 138, "ind-neighbor-solicit": 141,
    "ind-neighbor-advert": 142, "mld2-listener-report": 143,
}
ICMP_CODES: dict[str, int] = {
    "net-unreachable": 0, "host-unreachable": 1, "prot-unreachable": 2,
    "port-unreachable": 3, "frag-needed": 4, "net-prohibited": 9,
    "host-prohibited": 10, "admin-prohibited": 13,
}
ICMPV6_CODES: dict[str, int] = {
    "no-route": 0, "admin-prohibited": 1, "addr-unreachable": 3,
    "port-unreachable": 4, "policy-fail": 5, "reject-route": 6,
}

# ct state names map to the STATE dimension of the engine.
CT_STATES: dict[str, int] = {name: STATE_INDEX[name] for name in
                             ("new", "established", "related", "invalid", "untracked")}

# meta protocol (the link layer protocol) values that mean an IP family.
ETHER_FAMILIES: dict[str, int] = {"ip": 4, "ip6": 6, "0x0800": 4, "0x86dd": 6}
# meta nfproto values.
NFPROTO_FAMILIES: dict[str, int] = {"ipv4": 4, "ipv6": 6, "2": 4, "10": 6}

# Meta keys nft accepts without the ``meta`` keyword.
UNQUALIFIED_META = frozenset({
    "mark", "iif", "iifname", "iiftype", "oif", "oifname", "oiftype", "skuid",
    "skgid", "nftrace", "rtclassid", "ibrname", "obrname", "ibridgename",
    "obridgename", "ibriport", "obriport", "pkttype", "cpu", "iifgroup",
    "oifgroup", "cgroup", "time", "day", "hour",
})
# Header expressions written as ``PROTOCOL FIELD``.
PAYLOAD_PROTOCOLS = frozenset({
    "ether", "vlan", "arp", "ip", "ip6", "icmp", "icmpv6", "igmp", "tcp", "udp",
    "udplite", "sctp", "dccp", "th", "ah", "esp", "comp", "gre", "geneve",
    "vxlan", "gretap", "dst", "hbh", "rt0", "rt2", "rt4", "srh", "mh", "frag",
})
