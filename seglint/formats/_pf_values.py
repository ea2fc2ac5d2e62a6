"""Values of pf.conf: protocol and service names, ICMP types, ports and addresses.

The names are the ones pfctl(8) resolves through the system databases
(``getprotobyname``, ``getservbyname``) and its own ICMP tables, so a rule
reads here as it reads on the firewall. Ports and addresses become interval
sets; nothing is expanded to single values.
"""

from __future__ import annotations

import ipaddress
import re

from seglint.ir import ParseError, Span
from seglint.space import (
    ADDR_ALL,
    V4_ALL,
    V6_ALL,
    IntervalSet,
    address_range,
    addresses,
)

PORT_MAX = 65535
ALL_PORTS = IntervalSet.single(0, PORT_MAX)
TCP, UDP, SCTP, ICMP4, ICMP6 = 6, 17, 132, 1, 58
# Protocols whose rules may name ports: pfctl rejects a port on any other
# ("port only applies to tcp/udp"); FreeBSD 14 added sctp.
PORT_PROTOCOLS = frozenset({TCP, UDP, SCTP})

# /etc/protocols of OpenBSD and FreeBSD (and the IANA registry they follow).
PROTOCOLS: dict[str, int] = {
    "ip": 0,
    "hopopt": 0,
    "icmp": 1,
    "igmp": 2,
    "ggp": 3,
    "ipencap": 4,
    "ipv4": 4,
    "st": 5,
    "tcp": 6,
    "egp": 8,
    "igp": 9,
    "pup": 12,
    "udp": 17,
    "hmp": 20,
    "xns-idp": 22,
    "rdp": 27,
    "iso-tp4": 29,
    "dccp": 33,
    "xtp": 36,
    "ddp": 37,
    "idpr-cmtp": 38,
    "ipv6": 41,
    "ipv6-route": 43,
    "ipv6-frag": 44,
    "idrp": 45,
    "rsvp": 46,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "skip": 57,
    "icmp6": 58,
    "ipv6-icmp": 58,
    "ipv6-nonxt": 59,
    "ipv6-opts": 60,
    "rspf": 73,
    "vmtp": 81,
    "eigrp": 88,
    "ospf": 89,
    "ax.25": 93,
    "ipip": 94,
    "etherip": 97,
    "encap": 98,
    "pim": 103,
    "ipcomp": 108,
    "vrrp": 112,
    "carp": 112,
    "l2tp": 115,
    "isis": 124,
    "sctp": 132,
    "fc": 133,
    "mobility-header": 135,
    "udplite": 136,
    "mpls-in-ip": 137,
    "manet": 138,
    "hip": 139,
    "shim6": 140,
    "wesp": 141,
    "rohc": 142,
    "pfsync": 240,
}

# Service names of /etc/services (name or alias = port). pfctl looks a name
# up as tcp first and then as udp, whatever the rule's protocol.
_SERVICE_TEXT = """
    tcpmux=1 echo=7 discard=9 null=9 sink=9 systat=11 users=11 daytime=13 netstat=15
    qotd=17 quote=17 chargen=19 source=19 ttytst=19 ftp-data=20 fsp=21 fspd=21
    ftp=21 ssh=22 telnet=23 mail=25 smtp=25 time=37 timserver=37 nicname=43 whois=43
    tacacs=49 domain=53 bootps=67 bootpc=68 tftp=69 gopher=70 finger=79 http=80
    www=80 kerberos=88 kerberos-sec=88 kerberos5=88 krb5=88 iso-tsap=102 tsap=102
    acr-nema=104 dicom=104 poppassd=106 pop-3=110 pop3=110 portmapper=111 sunrpc=111
    auth=113 authentication=113 ident=113 tap=113 nntp=119 readnews=119 untp=119
    ntp=123 epmap=135 loc-srv=135 netbios-ns=137 netbios-dgm=138 netbios-ssn=139
    imap=143 imap2=143 snmp=161 snmp-trap=162 snmptrap=162 cmip-man=163
    cmip-agent=164 mailq=174 xdmcp=177 bgp=179 smux=199 qmtp=209 wais=210 z3950=210
    ipx=213 ptp-event=319 ptp-general=320 pawserv=345 zserv=346 rpc2portmap=369
    codaauth2=370 Clearcase=371 clearcase=371 ldap=389 svrloc=427 https=443 snpp=444
    microsoft-ds=445 kpasswd=464 smtps=465 ssmtp=465 submissions=465 urd=465
    saft=487 isakmp=500 biff=512 comsat=512 exec=512 login=513 who=513 whod=513
    cmd=514 shell=514 syslog=514 printer=515 spooler=515 talk=517 ntalk=518
    route=520 routed=520 router=520 gdomap=538 uucp=540 uucpd=540 klogin=543
    krcmd=544 kshell=544 dhcpv6-client=546 dhcpv6-server=547 afpovertcp=548 rtsp=554
    nntps=563 snntp=563 submission=587 nqs=607 asf-rmcp=623 qmqp=628 ipp=631
    ldaps=636 ldp=646 tinc=655 silc=706 kerberos-adm=749 kdc=750 kerberos-iv=750
    kerberos4=750 kerberos-master=751 kerberos_master=751 passwd-server=752
    passwd_server=752 hprop=754 krb-prop=754 krb5_prop=754 krb_prop=754 moira-db=775
    moira_db=775 moira-update=777 moira_update=777 moira-ureg=779 moira_ureg=779
    spamd=783 domain-s=853 supfilesrv=871 rsync=873 ftps-data=989 ftps=990
    telnets=992 imaps=993 pop3s=995 socks=1080 proofd=1093 rootd=1094
    rmiregistry=1099 supfiledbg=1127 skkserv=1178 openvpn=1194 predict=1210
    rmtcfg=1236 xtel=1313 xtelw=1314 lotusnote=1352 lotusnotes=1352 ms-sql-s=1433
    ms-sql-m=1434 ingreslock=1524 datametrics=1645 old-radius=1645 old-radacct=1646
    sa-msg-port=1646 kermit=1649 groupwise=1677 l2f=1701 l2tp=1701 radius=1812
    radacct=1813 radius-acct=1813 cisco-sccp=2000 nfs=2049 gnunet=2086
    rtcm-sc104=2101 zephyr-srv=2102 zephyr-clt=2103 zephyr-hm=2104
    gsigatekeeper=2119 iprop=2121 gris=2135 cvspserver=2401 venus=2430 venus-se=2431
    codasrv=2432 codasrv-se=2433 mon=2583 zebrasrv=2600 zebra=2601 ripd=2602
    ripngd=2603 ospfd=2604 bgpd=2605 ospf6d=2606 ospfapi=2607 isisd=2608 dict=2628
    f5-globalsite=2792 gsiftp=2811 gpsd=2947 gds-db=3050 gds_db=3050 icp=3130
    icpv2=3130 isns=3205 iscsi-target=3260 mysql=3306 ms-wbt-server=3389 nut=3493
    distcc=3632 daap=3689 subversion=3690 svn=3690 suucp=4031 sysrqd=4094 sieve=4190
    f5-iquery=4353 epmd=4369 remctl=4373 ntske=4460 ipsec-nat-t=4500 fax=4557
    hylafax=4559 iax=4569 mtn=4691 radmin-port=4899 lrrd=4949 munin=4949 sip=5060
    sip-tls=5061 jabber-client=5222 xmpp-client=5222 jabber-server=5269
    xmpp-server=5269 cfengine=5308 mdns=5353 postgres=5432 postgresql=5432
    rplay=5555 freeciv=5556 rptp=5556 nrpe=5666 nsca=5667 amqps=5671 amqp=5672
    canna=5680 x11=6000 x11-0=6000 x11-1=6001 x11-2=6002 x11-3=6003 x11-4=6004
    x11-5=6005 x11-6=6006 x11-7=6007 gnutella-svc=6346 gnutella-rtr=6347 redis=6379
    sge-qmaster=6444 sge_qmaster=6444 sge-execd=6445 sge_execd=6445 mysql-proxy=6446
    syslog-tls=6514 sane=6566 sane-port=6566 saned=6566 ircd=6667 babel=6696
    ircs-u=6697 afs3-fileserver=7000 bbs=7000 afs3-callback=7001 afs3-prserver=7002
    afs3-vlserver=7003 afs3-kaserver=7004 afs3-volser=7005 afs3-bos=7007
    afs3-update=7008 afs3-rmtsys=7009 font-service=7100 xfs=7100 zope-ftp=8021
    http-alt=8080 webcache=8080 tproxy=8081 omniorb=8088 puppet=8140
    clc-build-daemon=8990 xinetd=9098 bacula-dir=9101 bacula-fd=9102 bacula-sd=9103
    git=9418 xmms2=9667 zope=9673 webmin=10000 zabbix-agent=10050
    zabbix-trapper=10051 amanda=10080 kamanda=10081 amandaidx=10082 amidxtape=10083
    nbd=10809 hkp=11371 sgi-cmsd=17001 sgi-crsd=17002 sgi-gcd=17003 sgi-cad=17004
    db-lsp=17500 dcap=22125 gsidcap=22128 wnn6=22273 binkp=24554 asp=27374
    csync2=30865 dircproxy=57000 tfido=60177 fido=60179
"""
SERVICES: dict[str, int] = {
    name: int(port)
    for name, port in (item.split("=") for item in _SERVICE_TEXT.split())
}

# ICMP type names of pfctl (sbin/pfctl/pfctl_parser.c), for icmp-type.
ICMP_TYPES: dict[str, int] = {
    "echorep": 0,
    "unreach": 3,
    "squench": 4,
    "redir": 5,
    "althost": 6,
    "echoreq": 8,
    "routeradv": 9,
    "routersol": 10,
    "timex": 11,
    "paramprob": 12,
    "timereq": 13,
    "timerep": 14,
    "inforeq": 15,
    "inforep": 16,
    "maskreq": 17,
    "maskrep": 18,
    "trace": 30,
    "dataconv": 31,
    "mobredir": 32,
    "ipv6-where": 33,
    "ipv6-here": 34,
    "mobregreq": 35,
    "mobregrep": 36,
    "skip": 39,
    "photuris": 40,
}
# ICMPv6 type names of pfctl, for icmp6-type.
ICMP6_TYPES: dict[str, int] = {
    "unreach": 1,
    "toobig": 2,
    "timex": 3,
    "paramprob": 4,
    "echoreq": 128,
    "echorep": 129,
    "groupqry": 130,
    "listqry": 130,
    "grouprep": 131,
    "listenrep": 131,
    "groupterm": 132,
    "listendone": 132,
    "routersol": 133,
    "routeradv": 134,
    "neighbrsol": 135,
    "neighbradv": 136,
    "redir": 137,
    "routrrenum": 138,
    "wrureq": 139,
    "fqdnreq": 139,
    "niqry": 139,
    "wrurep": 140,
    "fqdnrep": 140,
    "nirep": 140,
    "mtraceresp": 200,
    "mtrace": 201,
}
# ICMP code names of pfctl: name -> (type, code).
ICMP_CODES: dict[str, tuple[int, int]] = {
    "net-unr": (3, 0),
    "host-unr": (3, 1),
    "proto-unr": (3, 2),
    "port-unr": (3, 3),
    "needfrag": (3, 4),
    "srcfail": (3, 5),
    "net-unk": (3, 6),
    "host-unk": (3, 7),
    "isolate": (3, 8),
    "net-prohib": (3, 9),
    "host-prohib": (3, 10),
    "net-tos": (3, 11),
    "host-tos": (3, 12),
    "filter-prohib": (3, 13),
    "host-preced": (3, 14),
    "cutoff-preced": (3, 15),
    "redir-net": (5, 0),
    "redir-host": (5, 1),
    "redir-tos-net": (5, 2),
    "redir-tos-host": (5, 3),
    "normal-adv": (9, 0),
    "common-adv": (9, 16),
    "transit": (11, 0),
    "reassemb": (11, 1),
    "badhead": (12, 0),
    "optmiss": (12, 1),
    "badlen": (12, 2),
    "unknown-ind": (40, 1),
    "auth-fail": (40, 2),
    "decrypt-fail": (40, 3),
}
ICMP6_CODES: dict[str, tuple[int, int]] = {
    "noroute-unr": (1, 0),
    "admin-unr": (1, 1),
    "notnbr-unr": (1, 2),
    "beyond-unr": (1, 2),
    "addr-unr": (1, 3),
    "port-unr": (1, 4),
    "transit": (3, 0),
    "reassemb": (3, 1),
    "badhead": (4, 0),
    "nxthdr": (4, 1),
    "redironlink": (137, 0),
    "redirrouter": (137, 1),
}

# An interface name with pf's address modifiers, or a host name.
_NAME = re.compile(r"[A-Za-z][\w.\-]*(:(network|broadcast|peer|0))*(/\d+)?")


def protocol_number(text: str, span: Span) -> int:
    """Return the number of a protocol name or number (``tcp``, ``6``)."""
    value = text.lower()
    if value.isdigit():
        number = int(value)
        if 1 <= number <= 255:
            return number
        raise ParseError(f"protocol outside the range 1-255 ({text})", span)
    if PROTOCOLS.get(value):
        return PROTOCOLS[value]
    raise ParseError(f"unknown protocol ({text})", span)


def port_number(text: str, span: Span) -> int:
    """Return a port number from a number or a service name (``smtp`` is 25)."""
    if text.isdigit():
        number = int(text)
        if number <= PORT_MAX:
            return number
        raise ParseError(f"port outside the range 0-65535 ({text})", span)
    if text in SERVICES:
        return SERVICES[text]
    raise ParseError(
        f"unknown port name ({text}); use a number or a name from /etc/services", span
    )


def port_set(op: str, first: str, second: str, span: Span) -> IntervalSet:
    """Return the ports a pf port expression matches.

    ``op`` is ``=`` (also for a bare port or ``a:b``, both ends included),
    ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``><`` (between, ends excluded) or
    ``<>`` (outside, ends excluded), as pf compares them in pf_match_port().
    """
    if op == "=" and ":" in first:
        low_text, _, high_text = first.partition(":")
        low, high = port_number(low_text, span), port_number(high_text, span)
        if low > high:
            raise ParseError(f"port range is reversed ({first})", span)
        return IntervalSet.single(low, high)
    if ":" in first or ":" in second:
        raise ParseError(
            f"':' cannot be used with another port operator ({first})", span
        )
    low = port_number(first, span)
    if op == "><":
        return IntervalSet.single(low + 1, port_number(second, span) - 1)
    if op == "<>":
        return ALL_PORTS.subtract(IntervalSet.single(low, port_number(second, span)))
    if op == "!=":
        return ALL_PORTS.subtract(IntervalSet.single(low))
    bounds = {
        "=": (low, low),
        "<": (0, low - 1),
        "<=": (0, low),
        ">": (low + 1, PORT_MAX),
        ">=": (low, PORT_MAX),
    }.get(op)
    if bounds is None:
        raise ParseError(f"unknown port operator ({op})", span)
    return IntervalSet.single(*bounds)


def icmp_values(
    keyword: str, type_text: str, code_text: str | None, span: Span
) -> IntervalSet:
    """Return the ICMP values (type * 256 + code) of ``icmp-type T [code C]``."""
    types = ICMP6_TYPES if keyword == "icmp6-type" else ICMP_TYPES
    codes = ICMP6_CODES if keyword == "icmp6-type" else ICMP_CODES
    if type_text.isdigit() and int(type_text) <= 255:
        icmp_type = int(type_text)
    elif type_text in types:
        icmp_type = types[type_text]
    else:
        raise ParseError(f"unknown {keyword} ({type_text})", span)
    if code_text is None:
        return IntervalSet.single(icmp_type * 256, icmp_type * 256 + 255)
    if code_text.isdigit() and int(code_text) <= 255:
        code = int(code_text)
    elif code_text in codes and codes[code_text][0] == icmp_type:
        code = codes[code_text][1]
    else:
        raise ParseError(f"unknown icmp code ({code_text}) for type {type_text}", span)
    return IntervalSet.single(icmp_type * 256 + code)


def parse_address(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """Return the network of an address, a CIDR or a shorthand such as ``172.16/12``.

    Returns None when the text is not an address (an interface or host name).
    """
    value = text.strip()
    if "%" in value:
        # A scoped IPv6 address (fe80::1%em0): the scope only names the link.
        address, _, rest = value.partition("%")
        value = address + ("/" + rest.split("/", 1)[1] if "/" in rest else "")
    if "/" in value and ":" not in value:
        address, _, bits = value.partition("/")
        octets = address.split(".")
        if 1 <= len(octets) < 4 and all(octet.isdigit() for octet in octets):
            value = ".".join(octets + ["0"] * (4 - len(octets))) + "/" + bits
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def address_set(text: str, span: Span) -> IntervalSet | None:
    """Return the addresses of ``text``, or None for an interface or host name."""
    network = parse_address(text)
    if network is not None:
        return addresses([network])
    if _NAME.fullmatch(text):
        return None
    raise ParseError(f"could not parse host specification ({text})", span)


def range_set(first: str, last: str, span: Span) -> IntervalSet:
    """Return the addresses of ``first - last`` (single addresses of one family)."""
    try:
        return address_range(first, last)
    except ValueError as exc:
        raise ParseError(f"invalid address range ({first} - {last})", span) from exc


def families_of(values: IntervalSet) -> IntervalSet:
    """Return every address of the families that occur in ``values``."""
    out = IntervalSet()
    if values.intersect(V4_ALL):
        out = out.union(V4_ALL)
    if values.intersect(V6_ALL):
        out = out.union(V6_ALL)
    return out or ADDR_ALL
