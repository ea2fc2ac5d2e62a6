"""Splitting the words of an iptables rule into options, as iptables' getopt loop does.

A main option (``-p``, ``-s``, ``-j``, ...) takes one value. ``-m NAME``
loads a match module, and the options after it belong to that module.
``-j NAME`` sets the target, and the options after it belong to the target.
An option that the current module does not know is looked up in the other
loaded modules and in the module iptables loads by itself for ``-p tcp``
(``udp``, ``sctp``, ``dccp``, ``icmp``, ``icmp6``), as iptables does. The
options of modules and targets that seglint does not read take the words up
to the next option, because iptables' own table of their arity is not
available.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seglint.formats._iptables_names import PROTOCOL_MODULES, PROTOCOLS
from seglint.ir import ParseError, Span

# Main options (the ones iptables itself parses) and their canonical names.
# fmt: off
MAIN_OPTIONS: dict[str, str] = {
    "-p": "-p", "--protocol": "-p", "-s": "-s", "--source": "-s", "--src": "-s",
    "-d": "-d", "--destination": "-d", "--dst": "-d", "-i": "-i",
    "--in-interface": "-i", "-o": "-o", "--out-interface": "-o", "-j": "-j",
    "--jump": "-j", "-g": "-g", "--goto": "-g", "-m": "-m", "--match": "-m",
    "-f": "-f", "--fragment": "-f", "-c": "-c", "--set-counters": "-c",
    "-4": "-4", "--ipv4": "-4", "-6": "-6", "--ipv6": "-6",
}
# fmt: on
# fmt: off
_MAIN_ARITY = {
    "-p": 1, "-s": 1, "-d": 1, "-i": 1, "-o": 1, "-j": 1, "-g": 1, "-m": 1, "-f": 0,
    "-c": 2, "-4": 0, "-6": 0,
}
# fmt: on
# Options that are commands or settings of the iptables program; none of
# them may appear inside a rule of a restore file.
# fmt: off
_NOT_IN_RULE = frozenset({
    "-A", "--append", "-I", "--insert", "-D", "--delete", "-R", "--replace",
    "-N", "--new-chain", "-F", "--flush", "-X", "--delete-chain", "-P", "--policy",
    "-Z", "--zero", "-E", "--rename-chain", "-L", "--list", "-S", "--list-rules",
    "-C", "--check", "-t", "--table", "-h", "--help", "-V", "--version", "-n",
    "--numeric", "-v", "--verbose", "-x", "--exact", "-w", "--wait",
    "--line-numbers", "--modprobe",
})
# fmt: on

_PORT_OPTIONS = {"--sport": 1, "--dport": 1}
# Options of the modules seglint reads, with the number of values each takes.
# fmt: off
MODULE_OPTIONS: dict[str, dict[str, int]] = {
    "tcp": {**_PORT_OPTIONS, "--syn": 0, "--tcp-flags": 2, "--tcp-option": 1},
    "udp": dict(_PORT_OPTIONS),
    "sctp": {**_PORT_OPTIONS, "--chunk-types": 2},
    "dccp": {**_PORT_OPTIONS, "--dccp-types": 1, "--dccp-option": 1},
    "icmp": {"--icmp-type": 1},
    "icmp6": {"--icmpv6-type": 1},
    "multiport": {"--sports": 1, "--dports": 1, "--ports": 1},
    "iprange": {"--src-range": 1, "--dst-range": 1},
    "state": {"--state": 1},
    "conntrack": {
        "--ctstate": 1, "--ctproto": 1, "--ctorigsrc": 1, "--ctorigdst": 1,
        "--ctreplsrc": 1, "--ctrepldst": 1, "--ctorigsrcport": 1,
        "--ctorigdstport": 1, "--ctreplsrcport": 1, "--ctrepldstport": 1,
        "--ctstatus": 1, "--ctexpire": 1, "--ctdir": 1,
    },
    "comment": {"--comment": 1},
}
# fmt: on
# fmt: off
OPTION_ALIASES = {
    "--source-port": "--sport", "--destination-port": "--dport",
    "--source-ports": "--sports", "--destination-ports": "--dports",
}
# fmt: on
_NO_OPTION_TARGETS = frozenset({"ACCEPT", "DROP", "RETURN"})
# fmt: off
_TARGET_OPTIONS: dict[str, dict[str, int]] = {
    "REJECT": {"--reject-with": 1},
    "LOG": {
        "--log-level": 1, "--log-prefix": 1, "--log-tcp-sequence": 0,
        "--log-tcp-options": 0, "--log-ip-options": 0, "--log-uid": 0,
        "--log-macdecode": 0,
    },
    "NFLOG": {
        "--nflog-group": 1, "--nflog-prefix": 1, "--nflog-range": 1,
        "--nflog-size": 1, "--nflog-threshold": 1,
    },
    "ULOG": {
        "--ulog-nlgroup": 1, "--ulog-prefix": 1, "--ulog-cprange": 1,
        "--ulog-qthreshold": 1,
    },
}
# fmt: on


# --- words and options ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a command line as iptables-restore splits it.

    ``kind`` is ``option``, ``bang`` or ``word``; ``value`` is the text with
    quotes and escapes removed and ``raw`` the text as written. Columns are
    1-based and ``end_column`` is inclusive.
    """

    kind: str
    value: str
    raw: str
    line: int
    column: int
    end_column: int

    def span(self, path: str) -> Span:
        return Span(path, self.line, self.column, self.line, self.end_column)


@dataclass
class Option:
    name: str  # canonical name, e.g. "-p" or "--dport"
    word: Word  # the option as written
    words: list[Word]  # the option, its values and "!", as written
    values: list[Word]
    negation: Word | None

    def text(self, with_bang: bool = True) -> str:
        return " ".join(w.raw for w in self.words if with_bang or w.kind != "bang")


@dataclass
class ModuleUse:
    name: str
    words: list[Word]  # "-m NAME", empty for a module loaded by -p
    options: list[Option] = field(default_factory=list)


@dataclass
class TargetUse:
    name: str
    goto: bool
    words: list[Word]
    options: list[Option] = field(default_factory=list)


@dataclass
class SplitRule:
    """The options of one rule, grouped by owner, in the order written."""

    items: list[Option | ModuleUse]  # main options and match modules
    loose: list[Option]  # options that no module or target reads
    target: TargetUse | None
    protocol: int | None  # the number given with -p, if any
    protocol_negated: bool


def split_options(words: tuple[Word, ...], path: str) -> SplitRule:
    """Group the words of one rule (everything after ``-A CHAIN``) into options."""
    reader = _OptionReader(words, path)
    reader.split()
    return SplitRule(
        reader.items,
        reader.loose,
        reader.target,
        reader.protocol,
        reader.protocol_negated,
    )


class _OptionReader:
    def __init__(self, words: tuple[Word, ...], path: str) -> None:
        self.words = words
        self.path = path
        self.items: list[Option | ModuleUse] = []
        self.loose: list[Option] = []
        self.modules: list[ModuleUse] = []
        self.target: TargetUse | None = None
        self.context: ModuleUse | TargetUse | None = None
        self.protocol, self.protocol_negated = self._scan_protocol()
        self.implicit: ModuleUse | None = None

    def error(self, message: str, word: Word) -> ParseError:
        return ParseError(message, word.span(self.path))

    def _scan_protocol(self) -> tuple[int | None, bool]:
        """Find ``-p`` before reading, so options of its module resolve in any order."""
        words = self.words
        for index, word in enumerate(words):
            if word.kind != "option":
                continue
            name, attached = _split_attached(word)
            if MAIN_OPTIONS.get(name.value) != "-p":
                continue
            negated = index > 0 and words[index - 1].kind == "bang"
            following = words[index + 1 :]
            if attached is None and following and following[0].kind == "bang":
                negated = True
                following = following[1:]
            value = attached or (following[0] if following else None)
            if value is None:
                return None, negated
            number = protocol_number(value.value)
            return number, negated
        return None, False

    def split(self) -> None:
        words = self.words
        index = 0
        bang: Word | None = None
        while index < len(words):
            word = words[index]
            index += 1
            if word.kind == "bang":
                if bang is not None:
                    raise self.error("multiple ! flags are not allowed", word)
                bang = word
                continue
            if word.kind != "option":
                if word.value.startswith("#"):
                    raise self.error(
                        f"a comment must be on a line of its own ({word.raw})", word
                    )
                raise self.error(
                    f"unexpected value ({word.raw}); a value must follow its option",
                    word,
                )
            index = self._option(word, bang, index)
            bang = None
        if bang is not None:
            raise self.error("! must be followed by an option", bang)

    def _option(self, word: Word, bang: Word | None, index: int) -> int:
        """Read one option starting at ``word``; return the index after its values."""
        name_word, attached = _split_attached(word)
        name = name_word.value
        if name in _NOT_IN_RULE:
            if name in ("-t", "--table"):
                raise self.error(
                    "option -t is not allowed in a restore file; the *TABLE line "
                    "selects the table",
                    word,
                )
            raise self.error(
                f"invalid option ({name}); a rule line contains one command", word
            )

        canonical = MAIN_OPTIONS.get(name)
        owner: ModuleUse | TargetUse | None = None
        if canonical is not None:
            arity: int | None = _MAIN_ARITY[canonical]
        else:
            canonical = OPTION_ALIASES.get(name, name)
            owner, arity = self._owner(canonical)

        option, index = self._take_values(canonical, word, attached, bang, arity, index)
        if canonical in ("-m", "-j", "-g"):
            self._load(option)
        elif canonical in _MAIN_ARITY:
            self.items.append(option)
        elif owner is not None:
            owner.options.append(option)
        else:
            self.loose.append(option)
        return index

    def _owner(self, name: str) -> tuple[ModuleUse | TargetUse | None, int | None]:
        """Find the module or target an option belongs to, and its number of values."""
        candidates: list[ModuleUse | TargetUse] = []
        if self.context is not None:
            candidates.append(self.context)
        candidates.extend(reversed(self.modules))
        for candidate in candidates:
            table = _options_of(candidate)
            if table is not None and name in table:
                return candidate, table[name]
        implicit = self._implicit_module()
        if implicit is not None and name in MODULE_OPTIONS[implicit.name]:
            if implicit not in self.modules:
                self.modules.append(implicit)
                self.items.append(implicit)
            return implicit, MODULE_OPTIONS[implicit.name][name]
        # The options of a target or match module that seglint does not read
        # run up to the next option. ACCEPT, DROP and RETURN take no options.
        context = self.context
        if isinstance(context, TargetUse) and context.name not in _NO_OPTION_TARGETS:
            return context, None
        if isinstance(context, ModuleUse) and context.name not in MODULE_OPTIONS:
            return context, None
        return None, None

    def _implicit_module(self) -> ModuleUse | None:
        if (
            self.implicit is None
            and self.protocol is not None
            and not self.protocol_negated
        ):
            name = PROTOCOL_MODULES.get(self.protocol)
            if name is not None:
                self.implicit = ModuleUse(name, [])
        return self.implicit

    def _take_values(
        self,
        name: str,
        word: Word,
        attached: Word | None,
        bang: Word | None,
        arity: int | None,
        index: int,
    ) -> tuple[Option, int]:
        """Collect the values of an option; arity None means up to the next option."""
        words = self.words
        option = Option(name, word, [bang, word] if bang else [word], [], bang)
        if attached is not None:
            if arity == 0:
                raise self.error(f"option {name} takes no value", attached)
            option.values.append(attached)
        elif self._inner_negation(index, arity):
            # The old "-s ! ADDRESS" form puts the negation after the option.
            if bang is not None:
                raise self.error("multiple ! flags are not allowed", words[index])
            option.negation = words[index]
            option.words.append(words[index])
            index += 1

        if arity is None:
            while index < len(words) and words[index].kind == "word":
                option.values.append(words[index])
                option.words.append(words[index])
                index += 1
            return option, index
        while len(option.values) < arity:
            if (
                index >= len(words)
                or words[index].kind == "bang"
                or _is_known_option(words[index])
            ):
                raise self.error(f"option {name} needs a value", word)
            option.values.append(words[index])
            option.words.append(words[index])
            index += 1
        return option, index

    def _inner_negation(self, index: int, arity: int | None) -> bool:
        words = self.words
        if arity == 0 or index + 1 >= len(words) or words[index].kind != "bang":
            return False
        return arity is not None or words[index + 1].kind == "word"

    def _load(self, option: Option) -> None:
        name = option.values[0].value
        if option.negation is not None:
            raise self.error(f"! cannot be used with {option.name}", option.negation)
        if option.name == "-m":
            module = ModuleUse(name, option.words)
            self.modules.append(module)
            self.items.append(module)
            self.context = module
            return
        if self.target is not None:
            raise self.error("a rule has at most one -j or -g target", option.word)
        self.target = TargetUse(name, option.name == "-g", option.words)
        self.context = self.target


def _options_of(item: ModuleUse | TargetUse) -> dict[str, int] | None:
    if isinstance(item, ModuleUse):
        return MODULE_OPTIONS.get(item.name)
    return _TARGET_OPTIONS.get(item.name)


def _split_attached(word: Word) -> tuple[Word, Word | None]:
    """Split ``--name=value`` and ``-Xvalue`` (getopt forms) into option and value."""
    text = word.value
    if text.startswith("--") and "=" in text:
        name, _, rest = text.partition("=")
    elif not text.startswith("--") and len(text) > 2 and text[1].isalpha():
        name, rest = text[:2], text[2:]
    else:
        return word, None
    value_column = word.column + len(name) + (1 if text.startswith("--") else 0)
    name_word = Word("option", name, name, word.line, word.column, value_column - 1)
    value_word = Word("word", rest, rest, word.line, value_column, word.end_column)
    return name_word, value_word


def _is_known_option(word: Word) -> bool:
    """Tell whether a word is an option that iptables reads, written out in full."""
    if word.kind != "option":
        return False
    name = word.value
    if name in MAIN_OPTIONS:
        return True
    canonical = OPTION_ALIASES.get(name, name)
    return any(canonical in table for table in MODULE_OPTIONS.values())


def protocol_number(text: str) -> int | None:
    lowered = text.lower()
    if lowered.isascii() and lowered.isdigit():
        number = int(lowered)
        return number if number <= 255 else None
    return PROTOCOLS.get(lowered)
