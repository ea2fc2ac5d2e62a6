"""Packet sender run inside a namespace of the kernel harness.

``python3 THIS IFACE`` (in the peer namespace) writes Ethernet frames to the
interface with an AF_PACKET socket, so they arrive exactly as built.
``python3 THIS --raw MARK`` (in the firewall namespace) sends IP packets
through raw sockets with the header included and the firewall mark MARK,
so they leave through the output hook and the routing table that the mark
selects.

Both read packets from standard input, each preceded by its length as four
big-endian bytes. A length of zero ends a batch: the sender writes ``ok N``
on standard output once the batch is out. It imports nothing from seglint
so that it runs with any Python 3.
"""

from __future__ import annotations

import socket
import struct
import sys
import time


class RawSender:
    """Sends IP packets (IPv4 or IPv6, chosen by the version nibble)."""

    def __init__(self, mark: int) -> None:
        self.sockets = {}
        for family, version in ((socket.AF_INET, 4), (socket.AF_INET6, 6)):
            sock = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_RAW)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
            self.sockets[version] = sock

    def send(self, packet: bytes) -> None:
        version = packet[0] >> 4
        if version == 4:
            destination = socket.inet_ntop(socket.AF_INET, packet[16:20])
        else:
            destination = socket.inet_ntop(socket.AF_INET6, packet[24:40])
        try:
            self.sockets[version].sendto(packet, (destination, 0))
        except PermissionError:
            pass  # A drop on the output hook fails the send (the chains recorded it).


def main() -> int:
    if sys.argv[1] == "--raw":
        sock = RawSender(int(sys.argv[2], 0))
    else:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        sock.bind((sys.argv[1], 0))
    source = sys.stdin.buffer
    sent = 0
    while True:
        head = source.read(4)
        if len(head) < 4:
            return 0
        (length,) = struct.unpack("!I", head)
        if length == 0:
            sys.stdout.write(f"ok {sent}\n")
            sys.stdout.flush()
            sent = 0
            continue
        data = source.read(length)
        sock.send(data)
        sent += 1
        # The receiving side queues frames per CPU (netdev_max_backlog, 1000 by
        # default); a short pause every few hundred frames keeps it from overflowing.
        if sent % 200 == 0:
            time.sleep(0.002)


if __name__ == "__main__":
    sys.exit(main())
