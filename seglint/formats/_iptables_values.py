"""Value parsers of the iptables format: addresses, ports, ICMP types, states.

Each parser takes the text of one option value and returns an interval set
(or None for "no condition"). Invalid text raises :class:`ValueError` with
a message in seglint's style; the caller turns it into a ParseError at the
value's position. Values that are valid but cannot be modelled (a hostname,
an unknown service name) raise :class:`NotModelledError`.
"""

from __future__ import annotations

import ipaddress
import re

from seglint.formats._iptables_names import SERVICES
from seglint.space import STATE_INDEX, V6_OFFSET, IntervalSet, network_interval

PORT_MAX = 65535
# iptables' multiport match takes at most 15 ports, a range counting as two
# (XT_MULTI_PORTS in the kernel's xt_multiport.h).
MULTIPORT_MAX = 15
# A non-contiguous mask such as 255.0.255.0 matches a union of blocks; above
# this many blocks the address is left to an Unknown condition instead.
MASK_BLOCKS_MAX = 1024

_HOSTNAME = re.compile(
    r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?"
)
_CONNTRACK_NAT_STATES = frozenset({"SNAT", "DNAT"})


class NotModelledError(Exception):
    """A valid value that the IR cannot express; the rule gets an Unknown condition."""


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


# --- addresses ------------------------------------------------------------------------


def parse_address_list(text: str) -> tuple[IntervalSet, list[tuple[int, str]]]:
    """Parse ``-s``/``-d`` text: hosts, CIDRs and masks, comma separated (a union).

    Returns the address set and the family of each item, for family
    detection. Raises NotModelledError for a hostname, which iptables resolves
    when it loads the rules.
    """
    values = IntervalSet()
    families: list[tuple[int, str]] = []
    for item in text.split(","):
        found, family = parse_address(item)
        values = values.union(found)
        families.append((family, item))
    return values, families


def parse_address(item: str) -> tuple[IntervalSet, int]:
    """Parse one ``ADDRESS[/PREFIX|/MASK]`` into its address set and family."""
    address_text, _, mask_text = item.partition("/")
    try:
        address = ipaddress.ip_address(address_text)
    except ValueError:
        if _is_hostname(address_text):
            message = f"hostname {address_text} is resolved only when the rules load"
            raise NotModelledError(message) from None
        raise ValueError(f"invalid address ({item})") from None

    bits = address.max_prefixlen
    if not mask_text and "/" not in item:
        prefix: int | None = bits
    elif _is_number(mask_text):
        prefix = int(mask_text)
        if prefix > bits:
            raise ValueError(f"invalid prefix length ({item}); the maximum is {bits}")
    else:
        prefix = _mask_prefix(item, mask_text, address.version)
    if prefix is not None:
        network = ipaddress.ip_network((address, prefix), strict=False)
        return IntervalSet([network_interval(network)]), address.version
    return _masked_blocks(item, address, mask_text), address.version


def _is_hostname(text: str) -> bool:
    if not text or len(text) > 253 or not _HOSTNAME.fullmatch(text):
        return False
    # An all-numeric name such as 10.0.0.300 is a mistyped address.
    return not all(label.isdigit() for label in text.rstrip(".").split("."))


def _mask_prefix(item: str, mask_text: str, version: int) -> int | None:
    """Return the prefix length of a dotted mask, or None when it is not contiguous."""
    try:
        mask = ipaddress.ip_address(mask_text)
    except ValueError:
        raise ValueError(f"invalid address mask ({item})") from None
    if mask.version != version:
        raise ValueError(f"address and mask are of different families ({item})")
    bits = mask.max_prefixlen
    value = int(mask)
    inverted = ((1 << bits) - 1) ^ value
    if inverted & (inverted + 1) == 0:
        return bits - inverted.bit_length()
    return None


def _masked_blocks(
    item: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address, mask_text: str
) -> IntervalSet:
    """Expand a non-contiguous mask into the blocks of addresses it matches.

    The kernel matches ``(packet & mask) == (address & mask)``: bits where
    the mask is 0 are free. The free bits below the lowest 1 bit form
    blocks; every combination of the higher free bits is one block.
    """
    bits = address.max_prefixlen
    mask = int(ipaddress.ip_address(mask_text))
    lowest_one = (mask & -mask).bit_length() - 1
    block = 1 << lowest_one
    free_high = [bit for bit in range(lowest_one, bits) if not mask >> bit & 1]
    if (1 << len(free_high)) > MASK_BLOCKS_MAX:
        raise NotModelledError(
            f"non-contiguous mask {mask_text} matches too many blocks"
        )
    offset = 0 if address.version == 4 else V6_OFFSET
    base = int(address) & mask
    intervals = []
    for combination in range(1 << len(free_high)):
        start = base
        for index, bit in enumerate(free_high):
            if combination >> index & 1:
                start |= 1 << bit
        intervals.append((offset + start, offset + start + block - 1))
    return IntervalSet(intervals)


def parse_address_range(text: str) -> tuple[IntervalSet, int]:
    """Parse ``-m iprange`` text ``FIRST-LAST`` (or a single address)."""
    first_text, _, last_text = text.partition("-")
    try:
        first = ipaddress.ip_address(first_text)
        last = ipaddress.ip_address(last_text) if last_text else first
    except ValueError:
        raise ValueError(f"invalid address range ({text})") from None
    if first.version != last.version:
        raise ValueError(f"address range mixes IPv4 and IPv6 ({text})")
    offset = 0 if first.version == 4 else V6_OFFSET
    if int(first) > int(last):
        raise ValueError(f"invalid address range ({text}); the first address is larger")
    return IntervalSet.single(offset + int(first), offset + int(last)), first.version


# --- ports ----------------------------------------------------------------------------


def parse_port(text: str) -> int:
    """Parse one port: a number 0-65535 or a service name from the built-in table."""
    if _is_number(text):
        port = int(text)
        if port > PORT_MAX:
            raise ValueError(f"invalid port ({text}); ports are 0-{PORT_MAX}")
        return port
    port_number = SERVICES.get(text, SERVICES.get(text.lower()))
    if port_number is None:
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_.+-]*", text):
            raise NotModelledError(f"service name {text} is not in seglint's table")
        raise ValueError(f"invalid port ({text})")
    return port_number


def parse_port_range(text: str) -> tuple[int, int]:
    """Parse ``PORT``, ``FIRST:LAST``, ``:LAST`` or ``FIRST:``."""
    if ":" not in text:
        port = parse_port(text)
        return port, port
    first_text, _, last_text = text.partition(":")
    first = parse_port(first_text) if first_text else 0
    last = parse_port(last_text) if last_text else PORT_MAX
    if first > last:
        raise ValueError(f"invalid port range ({text}); the first port is larger")
    return first, last


def parse_single_ports(text: str) -> IntervalSet:
    """Parse ``--sport``/``--dport`` of the tcp, udp, sctp or dccp match."""
    if "," in text:
        raise ValueError(
            f"invalid port ({text}); use -m multiport --dports or --sports for a list"
        )
    return IntervalSet([parse_port_range(text)])


def parse_multiport(text: str) -> IntervalSet:
    """Parse a multiport list: ports and ``FIRST:LAST`` ranges, comma separated."""
    items = text.split(",")
    count = sum(2 if ":" in item else 1 for item in items)
    if count > MULTIPORT_MAX:
        raise ValueError(
            f"too many ports ({text}); -m multiport takes at most {MULTIPORT_MAX}, "
            "a range counting as two"
        )
    return IntervalSet(parse_port_range(item) for item in items)


# --- ICMP -----------------------------------------------------------------------------


def parse_icmp_type(
    text: str, names: tuple[tuple[str, int, int, int], ...]
) -> IntervalSet | None:
    """Parse an ICMP type as ``type * 256 + code`` values; None for ``any``.

    Accepts a name or a unique prefix of one (as iptables does), a type
    number (every code) or ``TYPE/CODE``.
    """
    lowered = text.lower()
    if lowered == "any":
        return None
    exact = [entry for entry in names if entry[0] == lowered]
    matches = exact or [entry for entry in names if entry[0].startswith(lowered)]
    if len(matches) > 1:
        choices = ", ".join(entry[0] for entry in matches[:4])
        raise ValueError(f"ambiguous ICMP type ({text}); it could be {choices}")
    if matches:
        _, icmp_type, code_min, code_max = matches[0]
        return IntervalSet.single(
            icmp_type * 256 + code_min, icmp_type * 256 + code_max
        )
    type_text, slash, code_text = text.partition("/")
    if not _is_number(type_text) or int(type_text) > 255:
        raise ValueError(f"invalid ICMP type ({text})")
    icmp_type = int(type_text)
    if not slash:
        return IntervalSet.single(icmp_type * 256, icmp_type * 256 + 255)
    if not _is_number(code_text) or int(code_text) > 255:
        raise ValueError(f"invalid ICMP code ({text})")
    return IntervalSet.single(icmp_type * 256 + int(code_text))


# --- connection state -----------------------------------------------------------------


def parse_states(text: str, conntrack: bool) -> IntervalSet:
    """Parse ``--state``/``--ctstate`` values into STATE_INDEX values.

    The conntrack match also accepts SNAT and DNAT (the connection's
    addresses were translated), which raise NotModelledError.
    """
    values = []
    for item in text.split(","):
        name = item.strip().upper()
        if conntrack and name in _CONNTRACK_NAT_STATES:
            raise NotModelledError(
                f"conntrack state {name} (address translation) is not modelled"
            )
        index = STATE_INDEX.get(name.lower())
        if index is None:
            raise ValueError(
                f"invalid state ({item}); expected NEW, ESTABLISHED, RELATED, "
                "INVALID or UNTRACKED"
            )
        values.append((index, index))
    return IntervalSet(values)
