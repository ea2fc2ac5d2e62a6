"""Two network namespaces joined by a veth pair, for asking the kernel about packets.

The firewall namespace contains the rule set under test. Every destination is
local there (AnyIP routes ``local 0.0.0.0/0`` and ``local ::/0``), reverse
path filtering is off and local sources are accepted. So a spoofed packet
from any source to any destination reaches the input hook, except martians
that the kernel drops first (loopback and multicast sources, 0.0.0.0/8,
link-local destinations). The peer namespace writes probe frames onto its
end of the veth with an AF_PACKET socket. For the output hook the firewall
namespace sends the probes itself through raw sockets with a firewall mark
that routes them out of the veth. No packet leaves the two namespaces.

Verdicts are read in batches from an nftables table of the harness
(``inet seglint_probe``). On each hook one chain at priority -1000, before
any chain of the rule set, records every probe that reached the hook, and
one at priority 1000, after all of them, records the probes that were let
through. Each probe is identified by its source address and a tag (IPv4
identification, IPv6 flow label). A probe missing from the first set never
reached the hook and is reported as lost, never as dropped. Each batch runs
in a fresh conntrack zone, so every probe is the first packet of its
connection (state NEW).
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import logging
import os
import secrets
import struct
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from kernel_packets import FW_MAC, PEER_MAC, Probe, frame

logger = logging.getLogger(__name__)

SENDER = Path(__file__).with_name("kernel_sender.py")
NETNS_DIR = Path("/run/netns")
PREFIX = "seglint-k"
FW_IF = "veth0"
PEER_IF = "peer0"
BATCH = 1000  # probes per batch; well under the kernel's receive backlog with pauses
PROBE_TABLE = "seglint_probe"
# Addresses used by connection tests that need a real TCP stack on both sides.
PEER_ADDR = {4: "198.18.0.1", 6: "2001:db8:ffff::1"}
FW_ADDR = {4: "198.18.0.2", 6: "2001:db8:ffff::2"}
IPTABLES_TABLES = ("filter", "nat", "mangle", "raw", "security")
# Packets the firewall namespace sends itself carry this mark, which routes them
# out of the veth (table OUT_TABLE) instead of to the AnyIP routes on lo.
OUT_MARK = 0x5E9
OUT_TABLE = 1001
OUT_GATEWAY = {4: "169.254.0.1", 6: "fe80::1"}


class LabError(Exception):
    """The harness itself failed (a command, a lost packet), not the engine."""


class Rejected(Exception):
    """The kernel or its tools rejected a rule set; ``message`` gives the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def unavailable_reason() -> str | None:
    """Return why network namespaces cannot be made here, or None when they can."""
    if sys.platform != "linux":
        return f"network namespaces need Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "creating network namespaces needs root (run the kernel tests as root)"
    name = f"{PREFIX}{os.getpid()}-check"
    try:
        result = subprocess.run(
            ["ip", "netns", "add", name],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        return (
            None  # the lab will fail with a clear message: iproute2 is a CI requirement
        )
    if result.returncode != 0:
        return f"cannot create a network namespace ({result.stderr.strip()})"
    subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    return None


def _run(
    args: Sequence[str],
    stdin: str | None = None,
    check: bool = True,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            list(args),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise LabError(
            f"command not found ({args[0]}); install iproute2, iptables and nftables"
        ) from exc
    if check and result.returncode != 0:
        raise LabError(f"command failed ({' '.join(args)}): {result.stderr.strip()}")
    return result


def remove_stale() -> None:
    """Delete namespaces left by earlier runs whose process is gone."""
    if not NETNS_DIR.is_dir():
        return
    for entry in NETNS_DIR.iterdir():
        name = entry.name
        if not name.startswith(PREFIX):
            continue
        pid_text = name[len(PREFIX) :].split("-", 1)[0]
        if pid_text.isdigit() and Path(f"/proc/{pid_text}").exists():
            continue
        _run(["ip", "netns", "del", name], check=False)


class Lab:
    """The namespace pair; create with :meth:`open`, always :meth:`close` it."""

    def __init__(self) -> None:
        token = secrets.token_hex(3)
        self.fw = f"{PREFIX}{os.getpid()}-{token}-fw"
        self.peer = f"{PREFIX}{os.getpid()}-{token}-peer"
        self.interface = FW_IF
        self.zone = 0
        self.sender: subprocess.Popen[bytes] | None = None
        self.raw_sender: subprocess.Popen[bytes] | None = None
        self.created: list[str] = []
        self.sent = 0
        self.legacy_used = False

    # --- life cycle -------------------------------------------------------------------

    @classmethod
    def open(cls) -> Lab:
        remove_stale()
        lab = cls()
        atexit.register(lab.close)
        try:
            lab._build()
        except BaseException:
            lab.close()
            raise
        return lab

    def _build(self) -> None:
        for name in (self.fw, self.peer):
            _run(["ip", "netns", "add", name])
            self.created.append(name)
        # Both ends are created inside the namespaces: none in the host namespace.
        _run(
            [
                "ip",
                "-n",
                self.fw,
                "link",
                "add",
                FW_IF,
                "address",
                FW_MAC.hex(":"),
                "type",
                "veth",
                "peer",
                "name",
                PEER_IF,
                "address",
                PEER_MAC.hex(":"),
                "netns",
                self.peer,
            ]
        )
        for ns, interface in ((self.fw, FW_IF), (self.peer, PEER_IF)):
            # No link-local address: no router solicitations or DAD on the wire.
            _run(["ip", "-n", ns, "link", "set", interface, "addrgenmode", "none"])
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            _run(["ip", "-n", ns, "link", "set", interface, "up"])
        self.sysctl(
            self.fw,
            {
                "net/ipv4/conf/all/rp_filter": 0,
                "net/ipv4/conf/default/rp_filter": 0,
                f"net/ipv4/conf/{FW_IF}/rp_filter": 0,
                # Every address is local here, sources included: accept them anyway.
                "net/ipv4/conf/all/accept_local": 1,
                f"net/ipv4/conf/{FW_IF}/accept_local": 1,
            },
        )
        # In the main table, so that more specific routes of the connection tests win.
        _run(
            [
                "ip",
                "-n",
                self.fw,
                "route",
                "add",
                "local",
                "0.0.0.0/0",
                "dev",
                "lo",
                "table",
                "main",
            ]
        )
        _run(
            [
                "ip",
                "-n",
                self.fw,
                "-6",
                "route",
                "add",
                "local",
                "::/0",
                "dev",
                "lo",
                "table",
                "main",
            ]
        )
        for family, flag in ((4, []), (6, ["-6"])):
            _run(
                [
                    "ip",
                    "-n",
                    self.fw,
                    *flag,
                    "rule",
                    "add",
                    "pref",
                    "100",
                    "fwmark",
                    hex(OUT_MARK),
                    "lookup",
                    str(OUT_TABLE),
                ]
            )
            self._out_route(family)
        self.reset()
        self._start_sender()

    def _out_route(self, family: int) -> None:
        # A gateway with a static neighbour: no neighbour discovery on the wire.
        flag = ["-6"] if family == 6 else []
        gateway = OUT_GATEWAY[family]
        _run(
            [
                "ip",
                "-n",
                self.fw,
                *flag,
                "neigh",
                "replace",
                gateway,
                "lladdr",
                PEER_MAC.hex(":"),
                "dev",
                self.interface,
                "nud",
                "permanent",
            ]
        )
        _run(
            [
                "ip",
                "-n",
                self.fw,
                *flag,
                "route",
                "replace",
                "default",
                "via",
                gateway,
                "dev",
                self.interface,
                "onlink",
                "table",
                str(OUT_TABLE),
            ]
        )

    def close(self) -> None:
        for name in ("sender", "raw_sender"):
            sender = getattr(self, name)
            setattr(self, name, None)
            if sender is None:
                continue
            try:
                if sender.stdin:
                    sender.stdin.close()
                sender.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                sender.kill()
                sender.wait()
        while self.created:
            name = self.created.pop()
            _run(["ip", "netns", "del", name], check=False)

    def sysctl(self, ns: str, values: dict[str, int]) -> None:
        """Set kernel parameters of namespace ``ns``, keyed by path under /proc/sys.

        Writing the files directly needs only a shell, not the procps package,
        and paths keep interface names with dots (eth0.100) intact.
        """
        script = "; ".join(
            f"echo {value} > /proc/sys/{key}" for key, value in values.items()
        )
        _run(["ip", "netns", "exec", ns, "sh", "-e", "-c", script])

    def in_fw(self, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.fw, *args]

    def in_peer(self, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.peer, *args]

    # --- firewall state --------------------------------------------------------------

    def _probe_table(self) -> str:
        interface = self.interface
        return f"""
table inet {PROBE_TABLE} {{
    set seen4 {{ typeof ip saddr . ip id; size 65535; }}
    set seen6 {{ typeof ip6 saddr . ip6 flowlabel; size 65535; }}
    set pass4 {{ typeof ip saddr . ip id; size 65535; }}
    set pass6 {{ typeof ip6 saddr . ip6 flowlabel; size 65535; }}
    chain zone_in {{
        type filter hook prerouting priority -400; policy accept;
        ct zone set {self.zone}
    }}
    chain zone_out {{
        type filter hook output priority -400; policy accept;
        ct zone set {self.zone}
    }}
    chain early {{
        type filter hook input priority -1000; policy accept;
        iifname "{interface}" add @seen4 {{ ip saddr . ip id }}
        iifname "{interface}" add @seen6 {{ ip6 saddr . ip6 flowlabel }}
    }}
    chain late {{
        type filter hook input priority 1000; policy accept;
        iifname "{interface}" add @pass4 {{ ip saddr . ip id }}
        iifname "{interface}" add @pass6 {{ ip6 saddr . ip6 flowlabel }}
    }}
    chain early_out {{
        type filter hook output priority -1000; policy accept;
        meta mark {OUT_MARK} add @seen4 {{ ip saddr . ip id }}
        meta mark {OUT_MARK} add @seen6 {{ ip6 saddr . ip6 flowlabel }}
    }}
    chain late_out {{
        type filter hook output priority 1000; policy accept;
        meta mark {OUT_MARK} oifname "{interface}" add @pass4 {{ ip saddr . ip id }}
        meta mark {OUT_MARK} oifname "{interface}" \\
            add @pass6 {{ ip6 saddr . ip6 flowlabel }}
    }}
}}
"""

    def reset(self) -> None:
        """Remove every rule set (nftables and legacy iptables) but the probe table."""
        _run(
            self.in_fw("nft", "-f", "-"), stdin="flush ruleset\n" + self._probe_table()
        )
        self._reset_legacy()

    def _reset_legacy(self) -> None:
        # Legacy tables live outside nftables; once created they stay, so empty them.
        if not self.legacy_used:
            return
        empty = "".join(
            f"*{table}\n"
            + "".join(f":{chain} ACCEPT [0:0]\n" for chain in _builtin(table))
            + "COMMIT\n"
            for table in IPTABLES_TABLES
        )
        for tool in ("iptables-legacy-restore", "ip6tables-legacy-restore"):
            _run(self.in_fw(tool), stdin=empty)

    def load_iptables(
        self, v4: str | None = None, v6: str | None = None, backend: str = "nft"
    ) -> None:
        """Load iptables-restore input as the firewall; raise Rejected on failure."""
        self.reset()
        if backend == "legacy":
            self.legacy_used = True
        for text, family in ((v4, 4), (v6, 6)):
            if text is None:
                continue
            tool = ("iptables" if family == 4 else "ip6tables") + f"-{backend}-restore"
            result = _run(self.in_fw(tool), stdin=text, check=False)
            if result.returncode != 0:
                raise Rejected(f"{tool}: {result.stderr.strip()}")

    def load_nft(self, text: str) -> None:
        """Replace the firewall with an nftables rule set; raise Rejected on failure."""
        self.reset()
        result = _run(self.in_fw("nft", "-f", "-"), stdin=text, check=False)
        if result.returncode != 0:
            raise Rejected(f"nft: {result.stderr.strip()}")

    def rename_interface(self, name: str) -> None:
        """Give the firewall's end of the veth another name (rules match names)."""
        if name == self.interface:
            return
        _run(["ip", "-n", self.fw, "link", "set", self.interface, "down"])
        _run(["ip", "-n", self.fw, "link", "set", self.interface, "name", name])
        _run(["ip", "-n", self.fw, "link", "set", name, "up"])
        self.sysctl(
            self.fw,
            {
                f"net/ipv4/conf/{name}/rp_filter": 0,
                f"net/ipv4/conf/{name}/accept_local": 1,
            },
        )
        self.interface = name
        for family in (4, 6):
            self._out_route(family)
        _run(
            self.in_fw("nft", "-f", "-"),
            stdin=f"delete table inet {PROBE_TABLE}\n" + self._probe_table(),
        )

    # --- connections -----------------------------------------------------------------

    def _address_both(self, family: int) -> None:
        """Give both namespaces real addresses and routes to each other."""
        fw, peer = FW_ADDR[family], PEER_ADDR[family]
        width = 32 if family == 4 else 128
        flag = ["-6"] if family == 6 else []
        extra = ["nodad"] if family == 6 else []
        mac = {self.fw: PEER_MAC, self.peer: FW_MAC}
        for ns, interface, mine, other in (
            (self.fw, self.interface, fw, peer),
            (self.peer, PEER_IF, peer, fw),
        ):
            _run(
                [
                    "ip",
                    "-n",
                    ns,
                    *flag,
                    "addr",
                    "replace",
                    f"{mine}/{width}",
                    "dev",
                    interface,
                    *extra,
                ]
            )
            # More specific than the AnyIP route, so replies really leave on the veth.
            _run(
                [
                    "ip",
                    "-n",
                    ns,
                    *flag,
                    "route",
                    "replace",
                    f"{other}/{width}",
                    "dev",
                    interface,
                    "table",
                    "main",
                ]
            )
            _run(
                [
                    "ip",
                    "-n",
                    ns,
                    *flag,
                    "neigh",
                    "replace",
                    other,
                    "lladdr",
                    mac[ns].hex(":"),
                    "dev",
                    interface,
                    "nud",
                    "permanent",
                ]
            )

    def handshake(
        self,
        family: int,
        port: int,
        client_port: int,
        from_fw: bool = False,
        timeout: float = 1.5,
    ) -> tuple[bool, dict[str, int]]:
        """Open one TCP connection between the namespaces; count its packets.

        The client is in the peer namespace (or, with ``from_fw``, in the
        firewall namespace) and connects from ``client_port`` to a real
        listening socket on ``port``. Returns whether the client connected
        and the handshake counters ("syn_input_seen", "synack_output_pass", ...).
        """
        self._address_both(family)
        _run(self.in_fw("nft", "-f", "-"), stdin=handshake_table(self.interface))
        server_ns, client_ns = (self.peer, self.fw) if from_fw else (self.fw, self.peer)
        server_addr = PEER_ADDR[family] if from_fw else FW_ADDR[family]
        client_addr = FW_ADDR[family] if from_fw else PEER_ADDR[family]
        server = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                server_ns,
                sys.executable,
                "-c",
                SERVER,
                "::" if family == 6 else "0.0.0.0",
                str(port),
                str(timeout + 1),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            if server.stdout.readline().strip() != "listening":
                raise LabError("the test server did not start")
            client = _run(
                [
                    "ip",
                    "netns",
                    "exec",
                    client_ns,
                    sys.executable,
                    "-c",
                    CLIENT,
                    client_addr,
                    str(client_port),
                    server_addr,
                    str(port),
                    str(timeout),
                ],
                timeout=timeout + 10,
            )
        finally:
            server.kill()
            server.wait()
        output = _run(
            self.in_fw(
                "nft", "-j", "list", "counters", "table", "inet", "seglint_handshake"
            )
        ).stdout
        counts = {}
        for item in json.loads(output)["nftables"]:
            if "counter" in item:
                counts[item["counter"]["name"]] = int(item["counter"]["packets"])
        _run(self.in_fw("nft", "delete", "table", "inet", "seglint_handshake"))
        return client.stdout.startswith("connected"), counts

    # --- probing ---------------------------------------------------------------------

    def _start_sender(self) -> None:
        self.sender = subprocess.Popen(
            self.in_peer(sys.executable, str(SENDER), PEER_IF),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def _send(self, frames: Iterable[bytes], hook: str = "input") -> int:
        if hook == "output" and self.raw_sender is None:
            self.raw_sender = subprocess.Popen(
                self.in_fw(sys.executable, str(SENDER), "--raw", hex(OUT_MARK)),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        sender = self.raw_sender if hook == "output" else self.sender
        if hook == "output":
            frames = (f[14:] for f in frames)  # raw sockets take the IP packet
        if sender is None or sender.stdin is None or sender.stdout is None:
            raise LabError("the frame sender is not running")
        data = b"".join(struct.pack("!I", len(f)) + f for f in frames)
        try:
            sender.stdin.write(data + struct.pack("!I", 0))
            sender.stdin.flush()
            reply = sender.stdout.readline().decode()
        except OSError as exc:
            raise LabError(f"the frame sender failed ({exc})") from exc
        if not reply.startswith("ok "):
            error = sender.stderr.read().decode() if sender.stderr else ""
            raise LabError(f"the frame sender failed ({error.strip() or reply!r})")
        return int(reply.split()[1])

    def _new_batch(self) -> None:
        """Empty the observation sets and move to a fresh conntrack zone."""
        self.zone = self.zone % 65000 + 1
        commands = [
            f"flush set inet {PROBE_TABLE} {name}"
            for name in ("seen4", "seen6", "pass4", "pass6")
        ]
        for chain in ("zone_in", "zone_out"):
            commands.append(f"flush chain inet {PROBE_TABLE} {chain}")
            commands.append(
                f"add rule inet {PROBE_TABLE} {chain} ct zone set {self.zone}"
            )
        _run(self.in_fw("nft", "-f", "-"), stdin="\n".join(commands) + "\n")

    def _read(self) -> dict[str, set[tuple[str, int]]]:
        output = _run(
            self.in_fw("nft", "-j", "list", "table", "inet", PROBE_TABLE)
        ).stdout
        found: dict[str, set[tuple[str, int]]] = {}
        for item in json.loads(output)["nftables"]:
            described = item.get("set")
            if described is None:
                continue
            elements = set()
            for element in described.get("elem", ()):
                if isinstance(element, dict) and "elem" in element:
                    element = element["elem"]["val"]
                address, tag = element["concat"]
                elements.add((str(ipaddress.ip_address(address)), int(tag)))
            found[described["name"]] = elements
        return found

    def verdicts(self, probes: Sequence[Probe], hook: str = "input") -> list[str]:
        """Send ``probes`` and return "accept", "drop" or "lost" for each, in order.

        On the input hook the probes arrive from the peer. On the output hook
        the firewall namespace sends them itself, out of the veth. Two probes
        of one connection (the same packet, or one the reply of the other) go
        to different batches, because in one zone the second would not be NEW.
        """
        out: list[str] = [""] * len(probes)
        pending = list(range(len(probes)))
        while pending:
            batch: list[int] = []
            later: list[int] = []
            keys: set[tuple[object, ...]] = set()
            for index in pending:
                key = connection_key(probes[index])
                if key in keys or len(batch) >= BATCH:
                    later.append(index)
                else:
                    keys.add(key)
                    batch.append(index)
            verdicts = self._batch([probes[i] for i in batch], hook)
            for index, verdict in zip(batch, verdicts, strict=True):
                out[index] = verdict
            pending = later
        return out

    def _batch(self, probes: Sequence[Probe], hook: str = "input") -> list[str]:
        self._new_batch()
        tags = list(range(1, len(probes) + 1))
        sent = self._send(
            (frame(p, t) for p, t in zip(probes, tags, strict=True)), hook
        )
        self.sent += sent
        # Frames are handled in softirq context, possibly on another CPU: read
        # until every probe is seen (or time is up) and two reads agree.
        deadline = time.monotonic() + 3.0
        sets = self._read()
        while True:
            seen = len(sets.get("seen4", ())) + len(sets.get("seen6", ()))
            if seen >= len(probes) or time.monotonic() > deadline:
                again = self._read()
                if again == sets:
                    break
                sets = again
                continue
            time.sleep(0.01)
            sets = self._read()
        out = []
        for probe, tag in zip(probes, tags, strict=True):
            family = probe.family
            key = (str(ipaddress.ip_address(probe.src)), tag)
            if key not in sets.get(f"seen{family}", ()):
                out.append("lost")
            elif key in sets.get(f"pass{family}", ()):
                out.append("accept")
            else:
                out.append("drop")
        return out


SERVER = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
server = socket.socket(family, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((sys.argv[1], int(sys.argv[2])))
server.listen(4)
print("listening", flush=True)
server.settimeout(float(sys.argv[3]))
try:
    server.accept()
    print("accepted", flush=True)
except OSError as exc:
    print("failed", exc, flush=True)
"""

CLIENT = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
client = socket.socket(family, socket.SOCK_STREAM)
client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
client.bind((sys.argv[1], int(sys.argv[2])))
client.settimeout(float(sys.argv[5]))
try:
    client.connect((sys.argv[3], int(sys.argv[4])))
    print("connected", flush=True)
except OSError as exc:
    print("failed", exc, flush=True)
"""

# Counters of one TCP handshake, per packet kind, hook and stage.
HANDSHAKE_KINDS = {"syn": "syn", "synack": "syn | ack", "ack": "ack"}


def handshake_table(interface: str) -> str:
    """An nftables table counting handshake packets before and after the rule set."""
    counters = []
    chains = []
    for hook, side in (("input", "iifname"), ("output", "oifname")):
        for stage, priority in (("seen", -1000), ("pass", 1000)):
            rules = []
            for kind, flags in HANDSHAKE_KINDS.items():
                name = f"{kind}_{hook}_{stage}"
                counters.append(f"    counter {name} {{ }}")
                rules.append(
                    f'        {side} "{interface}" tcp flags & (syn | ack | fin | rst)'
                    f' == {flags} counter name "{name}"'
                )
            chains.append(
                f"    chain {hook}_{stage} {{\n"
                f"        type filter hook {hook} priority {priority};"
                " policy accept;\n" + "\n".join(rules) + "\n    }"
            )
    return "table inet seglint_handshake {\n" + "\n".join(counters + chains) + "\n}\n"


def connection_key(probe: Probe) -> tuple[object, ...]:
    """The conntrack identity of a probe, the same for a packet and its reply."""
    if probe.proto in (6, 17):
        ends = sorted([(probe.src, probe.sport), (probe.dst, probe.dport)])
        return (probe.proto, *ends)
    return (probe.proto, probe.src, probe.dst, probe.ident)


def _builtin(table: str) -> tuple[str, ...]:
    return {
        "filter": ("INPUT", "FORWARD", "OUTPUT"),
        "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
        "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
        "raw": ("PREROUTING", "OUTPUT"),
        "security": ("INPUT", "FORWARD", "OUTPUT"),
    }[table]
