"""Windows Defender Firewall: netsh text output and PowerShell CSV exports.

Input forms, detected by content:

* The output of ``netsh advfirewall firewall show rule name=all verbose``
  (English), optionally preceded or followed by the output of
  ``netsh advfirewall show allprofiles`` in the same file. Run it from
  ``cmd.exe`` so the file is written in the console code page; Windows
  PowerShell 5.1's ``>`` writes UTF-16, so there use
  ``... | Out-File -Encoding utf8 rules.txt``.
* A CSV export of the rules, made in PowerShell with::

    Get-NetFirewallRule -PolicyStore ActiveStore | ForEach-Object {
        $port = $_ | Get-NetFirewallPortFilter
        $address = $_ | Get-NetFirewallAddressFilter
        [pscustomobject]@{
            Name          = $_.Name
            DisplayName   = $_.DisplayName
            Enabled       = $_.Enabled
            Direction     = $_.Direction
            Profile       = $_.Profile
            Action        = $_.Action
            Protocol      = $port.Protocol
            LocalPort     = $port.LocalPort -join ','
            RemotePort    = $port.RemotePort -join ','
            IcmpType      = $port.IcmpType -join ','
            LocalAddress  = $address.LocalAddress -join ','
            RemoteAddress = $address.RemoteAddress -join ','
            Program       = ($_ | Get-NetFirewallApplicationFilter).Program
            Service       = ($_ | Get-NetFirewallServiceFilter).Service
        }
    } | Export-Csv -Path firewall-rules.csv -NoTypeInformation -Encoding UTF8

  ``IcmpType``, ``Program`` and ``Service`` are optional columns; without
  ``Program`` and ``Service`` a rule scoped to one program reads as a rule
  for all traffic.

Profile settings (firewall on or off, default inbound and outbound action)
come from ``netsh advfirewall show allprofiles`` output in the same file or,
failing that, from a file in the same folder that holds only profile
settings: that output, or the CSV of::

    Get-NetFirewallProfile -PolicyStore ActiveStore |
        Select-Object Name, Enabled, DefaultInboundAction, DefaultOutboundAction,
            AllowInboundRules |
        Export-Csv -Path firewall-profiles.csv -NoTypeInformation -Encoding UTF8

Without them each profile is on, blocks inbound and allows outbound (the
Windows defaults).

Semantics: disabled rules are skipped, and block rules win over allow rules
whatever their order. Each profile (domain, private, public) becomes its own
rule set named after it.

Not modelled: each of the following becomes an unknown condition with a
SEG902 warning, and the checks that depend on it report "may".

* address keywords (``LocalSubnet``, ``Internet``, ``Intranet``, ``DNS``,
  ``DHCP``, ``WINS``, ``DefaultGateway``, ``PlayToDevice``). ``Internet``
  stays unknown even when trusted networks are configured, because Windows
  defines it on the host (network isolation settings), not from seglint's
  configuration;
* port keywords (``RPC``, ``RPC-EPMap``, ``IPHTTPS``, ``Teredo``,
  ``Ply2Disc``, ``mDNS``);
* program, service and interface type restrictions, IPsec requirements and
  authenticated-bypass rules.

Edge traversal is ignored because it only adds packets tunnelled through a
NAT edge device.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from seglint.formats._winfw_build import (
    FORMAT_ID,
    CompiledRule,
    build_rulesets,
    compile_rule,
)
from seglint.formats._winfw_csv import (
    is_profile_csv,
    is_rule_csv,
    parse_profile_csv,
    parse_rule_csv,
)
from seglint.formats._winfw_model import ProfileSettings, RawRule
from seglint.formats._winfw_netsh import (
    PROFILE_HEADER,
    RULE_NAME,
    parse_netsh_profiles,
    parse_netsh_rules,
)
from seglint.formats.base import FileAccess, SourceFile
from seglint.hookspecs import hookimpl
from seglint.ir import Diagnostic, ParseError, ParseResult, Span

logger = logging.getLogger(__name__)

_RULE_NAME_ANYWHERE = re.compile(RULE_NAME.pattern, re.MULTILINE)
_PROFILE_ANYWHERE = re.compile(PROFILE_HEADER.pattern, re.MULTILINE)
# Sibling files scanned for profile settings, and the largest one read.
_PROFILE_SUFFIXES = (".txt", ".csv", ".log", "")
_PROFILE_FILE_MAX_BYTES = 1024 * 1024


def has_netsh_rules(text: str) -> bool:
    return _RULE_NAME_ANYWHERE.search(text) is not None


def has_profile_settings(text: str) -> bool:
    return _PROFILE_ANYWHERE.search(text) is not None or is_profile_csv(text)


def read_profiles(text: str, path: str) -> dict[str, ProfileSettings]:
    if is_profile_csv(text):
        return parse_profile_csv(text, path)
    return parse_netsh_profiles(text, path)


class WindowsFirewallFormat:
    """The ``windows-firewall`` format: netsh output and CSV exports."""

    id = FORMAT_ID
    # .txt and .csv files are too common to claim by name; detect() decides.
    patterns: tuple[str, ...] = ()

    def detect(self, path: str, head: str) -> int:
        if has_netsh_rules(head) or is_rule_csv(head):
            return 2
        if _PROFILE_ANYWHERE.search(head) and "Firewall Policy" in head:
            return 2
        if is_profile_csv(head):
            return 2
        return 0

    def parse(self, source: SourceFile, files: FileAccess) -> ParseResult:
        text = source.text
        diagnostics: list[Diagnostic] = []
        if is_rule_csv(text):
            rules, notes = parse_rule_csv(text, source.path)
            diagnostics.extend(notes)
            profiles: dict[str, ProfileSettings] = {}
        elif has_netsh_rules(text):
            rules = parse_netsh_rules(text, source.path)
            profiles = parse_netsh_profiles(text, source.path)
        elif has_profile_settings(text):
            # Profile settings alone decide nothing: the rule files of the
            # same folder read them (see sibling_profiles).
            return ParseResult()
        else:
            raise ParseError(
                "no Windows Firewall rules found; expected the output of netsh "
                "advfirewall firewall show rule name=all verbose (English) or a CSV "
                "export with the columns Name, DisplayName, Enabled, Direction, "
                "Profile, Action, Protocol, LocalPort, RemotePort, LocalAddress, "
                "RemoteAddress",
                Span(source.path, 1),
            )

        if len(profiles) < 3:
            found, notes = sibling_profiles(source, files)
            diagnostics.extend(notes)
            for name, settings in found.items():
                profiles.setdefault(name, settings)

        if not profiles:
            note = (
                "no profile settings found (netsh advfirewall show allprofiles); "
                "each profile is taken as on, blocking inbound and allowing outbound"
            )
            diagnostics.append(Diagnostic("SEG902", note, Span(source.path, 1), "note"))
        compiled = compile_rules(rules, diagnostics)
        rulesets = build_rulesets(source.path, compiled, profiles)
        logger.debug(
            "%s: %d rules, %d enabled, profiles from %s",
            source.path,
            len(rules),
            len(compiled),
            sorted(profiles),
        )
        return ParseResult(rulesets, tuple(diagnostics))


def compile_rules(
    rules: list[RawRule], diagnostics: list[Diagnostic]
) -> list[CompiledRule]:
    """Compile the enabled rules; a disabled rule matches no packet."""
    compiled: list[CompiledRule] = []
    for raw in rules:
        if not raw.enabled:
            continue
        item, found = compile_rule(raw)
        compiled.append(item)
        diagnostics.extend(found)
    return compiled


def sibling_profiles(
    source: SourceFile, files: FileAccess
) -> tuple[dict[str, ProfileSettings], list[Diagnostic]]:
    """Return the profile settings of a profile-only file in the same folder.

    With several such files, the one whose name shares the longest prefix
    with the rule file's name wins. A tie uses none of them and warns.
    """
    directory = source.location.parent
    candidates: list[tuple[Path, SourceFile]] = []
    for location in files.glob(directory, "*"):
        if location.suffix.lower() not in _PROFILE_SUFFIXES:
            continue
        if location.resolve() == source.location.resolve():
            continue
        try:
            if location.stat().st_size > _PROFILE_FILE_MAX_BYTES:
                continue
            sibling = files.read(location, Span(source.path, 1), include=False)
        except (OSError, ParseError):
            continue
        if has_netsh_rules(sibling.text) or is_rule_csv(sibling.text):
            continue
        if has_profile_settings(sibling.text):
            candidates.append((location, sibling))

    if not candidates:
        return {}, []
    name = source.location.name
    best = max(_common_prefix(name, location.name) for location, _ in candidates)
    chosen = [item for item in candidates if _common_prefix(name, item[0].name) == best]
    if len(chosen) > 1:
        names = ", ".join(sorted(location.name for location, _ in chosen))
        message = (
            f"several profile settings files in the folder ({names}); none is used, "
            "so the Windows defaults apply; give the one for this file a name that "
            "starts like the rule file's"
        )
        return {}, [Diagnostic("SEG902", message, Span(source.path, 1), "warning")]
    sibling = chosen[0][1]
    return read_profiles(sibling.text, sibling.path), []


def _common_prefix(left: str, right: str) -> int:
    return len(os.path.commonprefix([left.lower(), right.lower()]))


@hookimpl
def seglint_formats() -> list[WindowsFirewallFormat]:
    return [WindowsFirewallFormat()]
