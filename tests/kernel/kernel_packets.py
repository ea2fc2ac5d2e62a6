"""Probe packets for the kernel harness: what to send and the bytes on the wire.

A probe is one new connection attempt (a TCP SYN, a UDP datagram or an
ICMP echo request) from a chosen source to a chosen destination. It carries
a tag that the observation chains record: the IPv4 identification field or
the IPv6 flow label, unique within a batch. Frames are complete Ethernet
frames with correct checksums, because conntrack drops packets whose
checksum is wrong before any rule is evaluated.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

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
    STATE_INDEX,
    Box,
    IntervalSet,
    address_value,
)

TCP = 6
UDP = 17
ICMP4 = 1
ICMP6 = 58
ECHO_REQUEST = {4: 8, 6: 128}

FW_MAC = bytes.fromhex("020000000001")
PEER_MAC = bytes.fromhex("020000000002")


@dataclass(frozen=True, slots=True)
class Probe:
    """One packet to inject: protocol, addresses, ports (TCP/UDP) or ICMP id."""

    proto: int
    src: str
    dst: str
    sport: int = 0
    dport: int = 0
    ident: int = 0  # ICMP echo identifier

    @property
    def family(self) -> int:
        return ipaddress.ip_address(self.src).version

    def key(self) -> tuple[object, ...]:
        return (self.proto, self.src, self.dst, self.sport, self.dport, self.ident)

    def __str__(self) -> str:
        names = {TCP: "tcp", UDP: "udp", ICMP4: "icmp", ICMP6: "icmpv6"}
        name = names.get(self.proto, str(self.proto))
        if self.proto in (TCP, UDP):
            return f"{name} {self.src}:{self.sport} -> {self.dst}:{self.dport}"
        return f"{name} echo-request {self.src} -> {self.dst} (id {self.ident})"


def probe_box(
    probe: Probe,
    iif: IntervalSet | None = None,
    state: str = "new",
    oif: IntervalSet | None = None,
) -> Box:
    """Return the single-packet box the engine is asked about."""
    dims = {
        PROTO: IntervalSet.single(probe.proto),
        SRC: IntervalSet.single(address_value(ipaddress.ip_address(probe.src))),
        DST: IntervalSet.single(address_value(ipaddress.ip_address(probe.dst))),
        STATE: IntervalSet.single(STATE_INDEX[state]),
    }
    if probe.proto in (TCP, UDP):
        dims[SPORT] = IntervalSet.single(probe.sport)
        dims[DPORT] = IntervalSet.single(probe.dport)
    else:
        dims[ICMP] = IntervalSet.single(ECHO_REQUEST[probe.family] * 256)
    if iif is not None:
        dims[IIF] = iif
    if oif is not None:
        dims[OIF] = oif
    return Box.of(dims)


# --- wire format -------------------------------------------------------------------


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _l4(probe: Probe, pseudo: bytes, payload: bytes) -> bytes:
    """Build the transport header and payload with its checksum filled in."""
    if probe.proto == TCP:
        # SYN without options; the sequence number only has to be stable.
        header = struct.pack(
            "!HHIIBBHHH",
            probe.sport,
            probe.dport,
            0x5E610000 + probe.sport,
            0,
            5 << 4,
            0x02,
            64240,
            0,
            0,
        )
        segment = header + payload
        checksum = _checksum(pseudo + segment)
        return segment[:16] + struct.pack("!H", checksum) + segment[18:]
    if probe.proto == UDP:
        segment = (
            struct.pack("!HHHH", probe.sport, probe.dport, 8 + len(payload), 0)
            + payload
        )
        checksum = _checksum(pseudo + segment) or 0xFFFF
        return segment[:6] + struct.pack("!H", checksum) + segment[8:]
    icmp_type = ECHO_REQUEST[probe.family]
    message = struct.pack("!BBHHH", icmp_type, 0, 0, probe.ident, 1) + payload
    # ICMPv4 has no pseudo header; ICMPv6 does.
    checksum = _checksum((pseudo if probe.family == 6 else b"") + message)
    return message[:2] + struct.pack("!H", checksum) + message[4:]


def frame(probe: Probe, tag: int) -> bytes:
    """Return the Ethernet frame of ``probe`` from the peer to the firewall."""
    src = ipaddress.ip_address(probe.src)
    dst = ipaddress.ip_address(probe.dst)
    payload = b"seglint-probe" + struct.pack("!I", tag)
    if src.version == 4:
        l4_len = {TCP: 20, UDP: 8}.get(probe.proto, 8) + len(payload)
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, probe.proto, l4_len)
        segment = _l4(probe, pseudo, payload)
        header = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(segment),
            tag & 0xFFFF,
            0x4000,
            64,
            probe.proto,
            0,
            src.packed,
            dst.packed,
        )
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        return FW_MAC + PEER_MAC + b"\x08\x00" + header + segment
    l4_len = {TCP: 20, UDP: 8}.get(probe.proto, 8) + len(payload)
    pseudo = src.packed + dst.packed + struct.pack("!I3xB", l4_len, probe.proto)
    segment = _l4(probe, pseudo, payload)
    first_word = (6 << 28) | (tag & 0xFFFFF)
    header = struct.pack(
        "!IHBB16s16s", first_word, len(segment), probe.proto, 64, src.packed, dst.packed
    )
    return FW_MAC + PEER_MAC + b"\x86\xdd" + header + segment
