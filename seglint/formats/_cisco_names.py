"""Name tables of the Cisco ASA and IOS formats: protocols, ports, ICMP messages.

Cisco's literal names differ from ``/etc/services``, so each platform has its
own table:

* ASA: the "TCP and UDP Ports" and "ICMP Types" tables of the Cisco ASA
  Series CLI Configuration Guide (appendix "Addresses, Protocols, and
  Ports", ASA 9.x). ``sqlnet`` is 1521 (Oracle's SQL*Net), not 1433; the
  ``radius`` names are the old ports 1645 and 1646; ``kerberos`` is 750.
* IOS: the keywords that ``access-list 100 permit tcp any any eq ?`` and
  ``... udp any any eq ?`` list on IOS 12.4 and 15.x, and the ICMP message
  names of the ``permit icmp`` command reference (type, or type and code).

A name is accepted for any port-carrying protocol: ``eq syslog`` means 514
whatever the protocol, as the number is what the device stores.
"""

from __future__ import annotations

TCP = 6
UDP = 17
SCTP = 132
ICMP4 = 1
ICMP6 = 58
# Protocols whose packets carry the port numbers an ACL port operator tests.
PORT_PROTOCOLS = (TCP, UDP, SCTP)

ASA_PROTOCOLS: dict[str, int | None] = {
    "ip": None, "ah": 51, "eigrp": 88, "esp": 50, "gre": 47, "icmp": ICMP4,
    "icmp6": ICMP6, "igmp": 2, "igrp": 9, "ipinip": 4, "ipsec": 50, "nos": 94,
    "ospf": 89, "pcp": 108, "pim": 103, "pptp": 47, "sctp": SCTP, "snp": 109,
    "tcp": TCP, "udp": UDP,
}

IOS_PROTOCOLS: dict[str, int | None] = {
    "ip": None, "ahp": 51, "eigrp": 88, "esp": 50, "gre": 47, "icmp": ICMP4,
    "igmp": 2, "ipinip": 4, "nos": 94, "ospf": 89, "pcp": 108, "pim": 103,
    "sctp": SCTP, "tcp": TCP, "udp": UDP,
}

# In an ``ipv6 access-list`` the protocol ``icmp`` is ICMPv6 and ``ipv6`` is any.
IOS_IPV6_PROTOCOLS: dict[str, int | None] = {
    "ipv6": None, "ahp": 51, "esp": 50, "icmp": ICMP6, "pcp": 108, "sctp": SCTP,
    "tcp": TCP, "udp": UDP,
}

ASA_PORTS: dict[str, int] = {
    "aol": 5190, "bgp": 179, "biff": 512, "bootpc": 68, "bootps": 67, "chargen": 19,
    "cifs": 3020, "citrix-ica": 1494, "cmd": 514, "ctiqbe": 2748, "daytime": 13,
    "discard": 9, "dnsix": 195, "domain": 53, "echo": 7, "exec": 512, "finger": 79,
    "ftp": 21, "ftp-data": 20, "gopher": 70, "h323": 1720, "hostname": 101,
    "http": 80, "https": 443, "ident": 113, "imap4": 143, "irc": 194, "isakmp": 500,
    "kerberos": 750, "klogin": 543, "kshell": 544, "ldap": 389, "ldaps": 636,
    "login": 513, "lotusnotes": 1352, "lpd": 515, "mobile-ip": 434,
    "nameserver": 42, "netbios-dgm": 138, "netbios-ns": 137, "netbios-ssn": 139,
    "nfs": 2049, "nntp": 119, "ntp": 123, "pcanywhere-data": 5631,
    "pcanywhere-status": 5632, "pim-auto-rp": 496, "pop2": 109, "pop3": 110,
    "pptp": 1723, "radius": 1645, "radius-acct": 1646, "rip": 520, "rsh": 514,
    "rtsp": 554, "secureid-udp": 5510, "sip": 5060, "smtp": 25, "snmp": 161,
    "snmptrap": 162, "sqlnet": 1521, "ssh": 22, "sunrpc": 111, "syslog": 514,
    "tacacs": 49, "talk": 517, "telnet": 23, "tftp": 69, "time": 37, "uucp": 540,
    "vxlan": 4789, "who": 513, "whois": 43, "www": 80, "xdmcp": 177,
}

IOS_PORTS: dict[str, int] = {
    # TCP keywords
    "bgp": 179, "chargen": 19, "cmd": 514, "daytime": 13, "discard": 9,
    "domain": 53, "drip": 3949, "echo": 7, "exec": 512, "finger": 79, "ftp": 21,
    "ftp-data": 20, "gopher": 70, "hostname": 101, "ident": 113, "irc": 194,
    "klogin": 543, "kshell": 544, "login": 513, "lpd": 515, "msrpc": 135,
    "nntp": 119, "onep-plain": 15001, "onep-tls": 15002, "pim-auto-rp": 496,
    "pop2": 109, "pop3": 110, "smtp": 25, "sunrpc": 111, "tacacs": 49, "talk": 517,
    "telnet": 23, "time": 37, "uucp": 540, "whois": 43, "www": 80,
    # UDP keywords
    "biff": 512, "bootpc": 68, "bootps": 67, "dnsix": 195, "isakmp": 500,
    "mobile-ip": 434, "nameserver": 42, "netbios-dgm": 138, "netbios-ns": 137,
    "netbios-ss": 139, "non500-isakmp": 4500, "ntp": 123, "rip": 520,
    "ripv6": 521, "snmp": 161, "snmptrap": 162, "syslog": 514, "tftp": 69,
    "who": 513, "xdmcp": 177,
}

# ICMP message names: a type, or a (type, code) pair.
ASA_ICMP: dict[str, int | tuple[int, int]] = {
    "echo-reply": 0, "unreachable": 3, "source-quench": 4, "redirect": 5,
    "alternate-address": 6, "echo": 8, "router-advertisement": 9,
    "router-solicitation": 10, "time-exceeded": 11, "parameter-problem": 12,
    "timestamp-request": 13, "timestamp-reply": 14, "information-request": 15,
    "information-reply": 16, "mask-request": 17, "mask-reply": 18, "traceroute": 30,
    "conversion-error": 31, "mobile-redirect": 32,
}

ASA_ICMP6: dict[str, int | tuple[int, int]] = {
    "unreachable": 1, "packet-too-big": 2, "time-exceeded": 3,
    "parameter-problem": 4, "echo": 128, "echo-reply": 129, "membership-query": 130,
    "membership-report": 131, "membership-reduction": 132,
    "router-solicitation": 133, "router-advertisement": 134,
    "neighbor-solicitation": 135, "neighbor-advertisement": 136,
    "neighbor-redirect": 137, "router-renumbering": 138,
}

IOS_ICMP: dict[str, int | tuple[int, int]] = {
    "administratively-prohibited": (3, 13), "alternate-address": 6,
    "conversion-error": 31, "dod-host-prohibited": (3, 10),
    "dod-net-prohibited": (3, 9), "echo": 8, "echo-reply": 0,
    "general-parameter-problem": (12, 0), "host-isolated": (3, 8),
    "host-precedence-unreachable": (3, 14), "host-redirect": (5, 1),
    "host-tos-redirect": (5, 3), "host-tos-unreachable": (3, 12),
    "host-unknown": (3, 7), "host-unreachable": (3, 1), "information-reply": 16,
    "information-request": 15, "mask-reply": 18, "mask-request": 17,
    "mobile-redirect": 32, "net-redirect": (5, 0), "net-tos-redirect": (5, 2),
    "net-tos-unreachable": (3, 11), "net-unreachable": (3, 0),
    "network-unknown": (3, 6), "no-room-for-option": (12, 2),
    "option-missing": (12, 1), "packet-too-big": (3, 4), "parameter-problem": 12,
    "port-unreachable": (3, 3), "precedence-unreachable": (3, 15),
    "protocol-unreachable": (3, 2), "reassembly-timeout": (11, 1), "redirect": 5,
    "router-advertisement": 9, "router-solicitation": 10, "source-quench": 4,
    "source-route-failed": (3, 5), "time-exceeded": 11, "timestamp-reply": 14,
    "timestamp-request": 13, "traceroute": 30, "ttl-exceeded": (11, 0),
    "unreachable": 3,
}

IOS_ICMP6: dict[str, int | tuple[int, int]] = {
    "unreachable": 1, "packet-too-big": 2, "time-exceeded": 3,
    "parameter-problem": 4, "echo-request": 128, "echo-reply": 129,
    "mld-query": 130, "mld-report": 131, "mld-reduction": 132,
    "router-solicitation": 133, "router-advertisement": 134, "nd-ns": 135,
    "nd-na": 136, "redirect": 137, "router-renumbering": 138,
    "beyond-scope": (1, 2), "no-admin": (1, 1), "no-route": (1, 0),
    "port-unreachable": (1, 4), "address-unreachable": (1, 3),
    "hop-limit": (3, 0), "reassembly-timeout": (3, 1), "header": (4, 0),
    "next-header": (4, 1), "parameter-option": (4, 2),
}
