"""Reading one iptables rule: its options become IR conditions and a target.

Modules and options that seglint does not model become one
:class:`~seglint.ir.Unknown` condition each (negated when written with
``!``) plus one SEG902 diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass

from seglint.formats import _iptables_values as values
from seglint.formats._iptables_names import (
    ICMP4,
    ICMP6,
    ICMP_TYPES,
    ICMPV6_TYPES,
    MULTIPORT_PROTOCOLS,
    PORT_MODULES,
    REJECT_WITH_BOTH,
    REJECT_WITH_V4,
    REJECT_WITH_V6,
)
from seglint.formats._iptables_options import (
    MODULE_OPTIONS,
    ModuleUse,
    Option,
    Word,
    protocol_number,
    split_options,
)
from seglint.formats._iptables_values import NotModelledError
from seglint.ir import (
    Condition,
    Diagnostic,
    InterfaceMatch,
    Match,
    ParseError,
    Span,
    TupleMatch,
    Unknown,
)
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
    IntervalSet,
)

KEY_PREFIX = "iptables:"
_ALL_PORTS = IntervalSet.single(0, values.PORT_MAX)

# The option or module a rule needs before it can use each module option.
# fmt: off
_OPTION_NEEDS = {
    "--sport": "-p tcp, udp, sctp or dccp", "--dport": "-p tcp, udp, sctp or dccp",
    "--syn": "-p tcp", "--tcp-flags": "-p tcp", "--tcp-option": "-p tcp",
    "--icmp-type": "-p icmp", "--icmpv6-type": "-p ipv6-icmp",
    "--sports": "-m multiport", "--dports": "-m multiport", "--ports": "-m multiport",
    "--src-range": "-m iprange", "--dst-range": "-m iprange",
    "--state": "-m state", "--ctstate": "-m conntrack", "--comment": "-m comment",
}
# fmt: on


# --- data -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """The ``-j``/``-g`` part of a rule; the builder resolves its name at COMMIT."""

    name: str
    goto: bool
    name_word: Word
    span: Span
    text: str
    has_options: bool = False


@dataclass(frozen=True, slots=True)
class Evidence:
    """A word that shows the address family of the file (an address, icmp, ...)."""

    family: int
    reason: str
    span: Span


@dataclass(frozen=True, slots=True)
class ParsedRule:
    conditions: tuple[Condition, ...]
    target: Target | None
    diagnostics: tuple[Diagnostic, ...]
    evidence: tuple[Evidence, ...]
    comment: str = ""
    in_interface: Word | None = None
    out_interface: Word | None = None


# --- reading --------------------------------------------------------------------------


def read_rule(words: tuple[Word, ...], path: str) -> ParsedRule:
    """Read the options of one rule (everything after ``-A CHAIN``)."""
    return _RuleReader(words, path).read()


class _RuleReader:
    def __init__(self, words: tuple[Word, ...], path: str) -> None:
        self.path = path
        split = split_options(words, path)
        self.items = split.items
        self.loose = split.loose
        self.target = split.target
        self.protocol = split.protocol
        self.protocol_negated = split.protocol_negated
        self.protocol_seen = False

        self.conditions: list[Condition] = []
        self.diagnostics: list[Diagnostic] = []
        self.evidence: list[Evidence] = []
        self.comment = ""
        self.in_interface: Word | None = None
        self.out_interface: Word | None = None

    def error(self, message: str, word: Word) -> ParseError:
        return ParseError(message, word.span(self.path))

    def read(self) -> ParsedRule:
        for item in self.items:
            if isinstance(item, ModuleUse):
                self._module(item)
            else:
                self._main(item)
        for option in self.loose:
            self._loose(option)
        target = self._target()
        return ParsedRule(
            tuple(self.conditions),
            target,
            tuple(self.diagnostics),
            tuple(self.evidence),
            self.comment,
            self.in_interface,
            self.out_interface,
        )

    # --- main options -----------------------------------------------------------------

    def _main(self, option: Option) -> None:
        name = option.name
        negated = option.negation is not None
        value = option.values[0] if option.values else None
        if name == "-p":
            self._protocol(option)
        elif name in ("-s", "-d") and value is not None:
            self._addresses(option, SRC if name == "-s" else DST)
        elif name in ("-i", "-o") and value is not None:
            self._interface(option, IIF if name == "-i" else OIF)
        elif name == "-f":
            self._unknown(
                option.words,
                f"{KEY_PREFIX}-f",
                negated,
                "fragment match is not modelled",
            )
        elif name in ("-4", "-6"):
            family = 4 if name == "-4" else 6
            self._evidence(family, f"option {name}", option.word)
        # -c sets the counters of the rule and matches nothing.

    def _protocol(self, option: Option) -> None:
        if self.protocol_seen:
            raise self.error("multiple -p flags are not allowed", option.word)
        self.protocol_seen = True
        value = option.values[0]
        number = protocol_number(value.value)
        if number is None:
            raise self.error(
                f"unknown protocol ({value.value}); use a name from /etc/protocols "
                "or a number 0-255",
                value,
            )
        if number == 0:
            if option.negation is not None:
                raise self.error(
                    f"rule would never match protocol (! -p {value.value})", value
                )
            return
        if number == ICMP4:
            self._evidence(4, f"protocol {value.value}", value)
        elif number == ICMP6:
            self._evidence(6, f"protocol {value.value}", value)
        self.conditions.append(
            Match(PROTO, IntervalSet.single(number), option.negation is not None)
        )

    def _addresses(self, option: Option, dim: str) -> None:
        value = option.values[0]
        negated = option.negation is not None
        if negated and "," in value.value:
            raise self.error(
                f"! cannot be used with several addresses ({value.value})", value
            )
        try:
            found, families = values.parse_address_list(value.value)
        except NotModelledError as exc:
            key = f"{KEY_PREFIX}{option.name} {value.value}"
            self._unknown(option.words, key, negated, str(exc))
            return
        except ValueError as exc:
            raise self.error(str(exc), value) from None
        for family, item in families:
            self._evidence(family, f"IPv{family} address {item}", value)
        self.conditions.append(Match(dim, found, negated))

    def _interface(self, option: Option, dim: str) -> None:
        value = option.values[0]
        name = value.value
        if not name or len(name) > 15 or any(ch.isspace() or ch == "/" for ch in name):
            raise self.error(
                f"invalid interface name ({name}); names have 1-15 characters and no "
                "spaces or slashes",
                value,
            )
        if dim == IIF:
            self.in_interface = value
        else:
            self.out_interface = value
        self.conditions.append(
            InterfaceMatch(dim, (name,), option.negation is not None)
        )

    # --- match modules ----------------------------------------------------------------

    def _module(self, module: ModuleUse) -> None:
        name = module.name
        if name not in MODULE_OPTIONS:
            self._unknown_module(module)
            return
        self._check_module_protocol(module)
        for option in module.options:
            self._module_option(module, option)

    def _check_module_protocol(self, module: ModuleUse) -> None:
        name = module.name
        where = module.words[-1] if module.words else None
        needed: frozenset[int] | None = None
        if name in PORT_MODULES:
            needed = frozenset({PORT_MODULES[name]})
        elif name == "icmp":
            needed = frozenset({ICMP4})
        elif name == "icmp6":
            needed = frozenset({ICMP6})
        elif name == "multiport":
            needed = MULTIPORT_PROTOCOLS
        if needed is None or where is None:
            return
        if self.protocol in needed and not self.protocol_negated:
            return
        wanted = {
            "multiport": "-p tcp, udp, udplite, sctp or dccp",
            "icmp": "-p icmp",
            "icmp6": "-p ipv6-icmp",
        }.get(name, f"-p {name}")
        raise self.error(f"-m {name} needs {wanted} in the same rule", where)

    def _module_option(self, module: ModuleUse, option: Option) -> None:
        name = option.name
        negated = option.negation is not None
        value = option.values[0] if option.values else None
        try:
            if name in ("--sport", "--dport") and value is not None:
                ports = values.parse_single_ports(value.value)
                self.conditions.append(
                    Match(SPORT if name == "--sport" else DPORT, ports, negated)
                )
            elif name in ("--sports", "--dports") and value is not None:
                ports = values.parse_multiport(value.value)
                self.conditions.append(
                    Match(SPORT if name == "--sports" else DPORT, ports, negated)
                )
            elif name == "--ports" and value is not None:
                self.conditions.append(
                    _either_port(values.parse_multiport(value.value), negated)
                )
            elif name == "--syn":
                # seglint's packet model has no TCP flags: a new TCP connection
                # starts with a SYN, so --syn (SYN set; ACK, RST and FIN clear)
                # is modelled as the connection state NEW of a TCP packet.
                new = IntervalSet.single(STATE_INDEX["new"])
                self.conditions.append(Match(STATE, new, negated))
            elif name in ("--icmp-type", "--icmpv6-type") and value is not None:
                self._icmp(option, value)
            elif name in ("--src-range", "--dst-range") and value is not None:
                found, family = values.parse_address_range(value.value)
                self._evidence(
                    family, f"IPv{family} address range {value.value}", value
                )
                dim = SRC if name == "--src-range" else DST
                self.conditions.append(Match(dim, found, negated))
            elif name in ("--state", "--ctstate") and value is not None:
                states = values.parse_states(value.value, name == "--ctstate")
                self.conditions.append(Match(STATE, states, negated))
            elif name == "--comment" and value is not None:
                self.comment = value.value
            else:
                key = f"{KEY_PREFIX}-m {module.name} {option.text(with_bang=False)}"
                self._unknown(
                    option.words, key, negated, f"option {name} is not modelled"
                )
        except NotModelledError as exc:
            key = f"{KEY_PREFIX}-m {module.name} {option.text(with_bang=False)}"
            self._unknown(option.words, key, negated, str(exc))
        except ValueError as exc:
            assert value is not None
            raise self.error(str(exc), value) from None

    def _icmp(self, option: Option, value: Word) -> None:
        version = 4 if option.name == "--icmp-type" else 6
        table = ICMP_TYPES if version == 4 else ICMPV6_TYPES
        self._evidence(version, f"option {option.name}", option.word)
        found = values.parse_icmp_type(value.value, table)
        if found is not None:
            self.conditions.append(Match(ICMP, found, option.negation is not None))
        elif option.negation is not None:
            # "! --icmp-type any" matches nothing with iptables-legacy but
            # everything with iptables-nft 1.8.9, so its meaning depends on
            # the backend.
            key = f"{KEY_PREFIX}! {option.name} any"
            self._unknown(list(option.words), key, False,
                          f"! {option.name} any means no packet with iptables-legacy "
                          "and every packet with iptables-nft")

    def _unknown_module(self, module: ModuleUse) -> None:
        """Turn a match module that is not modelled into one Unknown condition.

        A module with a single negated option reads as the negation of the
        same module without "!", so both uses share one Unknown dimension.
        """
        words = list(module.words)
        for option in module.options:
            words.extend(option.words)
        negated = len(module.options) == 1 and module.options[0].negation is not None
        key_words = [w for w in words if not (negated and w.kind == "bang")]
        key = KEY_PREFIX + " ".join(w.raw for w in key_words)
        self._unknown(
            words, key, negated, f"match module {module.name} is not modelled"
        )

    def _loose(self, option: Option) -> None:
        needs = _OPTION_NEEDS.get(option.name)
        if needs is not None:
            raise self.error(
                f"option {option.name} needs {needs} in the same rule", option.word
            )
        key = f"{KEY_PREFIX}{option.text(with_bang=False)}"
        negated = option.negation is not None
        self._unknown(
            option.words, key, negated, f"option {option.name} is not modelled"
        )

    # --- target -----------------------------------------------------------------------

    def _target(self) -> Target | None:
        use = self.target
        if use is None:
            return None
        words = list(use.words)
        for option in use.options:
            words.extend(option.words)
            if (
                use.name == "REJECT"
                and option.name == "--reject-with"
                and option.values
            ):
                self._reject_with(option.values[0])
        span = Span(
            self.path,
            words[0].line,
            words[0].column,
            words[-1].line,
            words[-1].end_column,
        )
        text = " ".join(w.raw for w in words)
        return Target(use.name, use.goto, use.words[-1], span, text, bool(use.options))

    def _reject_with(self, value: Word) -> None:
        kind = value.value.lower()
        if kind in REJECT_WITH_V4:
            self._evidence(4, f"--reject-with {value.value}", value)
        elif kind in REJECT_WITH_V6:
            self._evidence(6, f"--reject-with {value.value}", value)
        elif kind not in REJECT_WITH_BOTH:
            raise self.error(f"invalid --reject-with type ({value.value})", value)

    # --- helpers ----------------------------------------------------------------------

    def _evidence(self, family: int, reason: str, word: Word) -> None:
        self.evidence.append(Evidence(family, reason, word.span(self.path)))

    def _unknown(self, words: list[Word], key: str, negated: bool, reason: str) -> None:
        """Add an Unknown condition and its SEG902 diagnostic, with ``reason``."""
        text = " ".join(w.raw for w in words if not (negated and w.kind == "bang"))
        span = Span(
            self.path,
            words[0].line,
            words[0].column,
            words[-1].line,
            words[-1].end_column,
        )
        self.conditions.append(Unknown(text, span, key, negated))
        shown = " ".join(w.raw for w in words)
        self.diagnostics.append(
            Diagnostic(
                "SEG902",
                f"{reason}, so the rule may or may not match ({shown})",
                span,
                "warning",
            )
        )


def _either_port(ports: IntervalSet, negated: bool) -> TupleMatch:
    """Model multiport ``--ports`` (source or destination port in the list).

    One TupleMatch over (SPORT, DPORT) with the rows "source port in the
    list, any destination port" and "any source port, destination port in
    the list" keeps the union in one condition, so ``! --ports`` stays one
    negated condition and the rule stays one rule.
    """
    return TupleMatch(
        (SPORT, DPORT), ((ports, _ALL_PORTS), (_ALL_PORTS, ports)), negated
    )
