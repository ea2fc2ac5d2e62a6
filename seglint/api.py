"""The whole check as one function: configuration, discovery, parsing, policies.

``check()`` never raises for bad input: parse and configuration errors
become diagnostics (SEG901, SEG903) with a file, line and column, and the
other files are still checked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from seglint import directives as directive_scan
from seglint import ignorefile, parallel
from seglint.config import Config, ConfigError, Networks, find_config, load_config
from seglint.discovery import Candidate, Skipped, discover
from seglint.engine import Engine, EngineError
from seglint.findings import Finding, RuleMeta, level_rank
from seglint.formats.base import FileAccess, SourceFile
from seglint.ir import Diagnostic, ParseError, ParseResult, Ruleset, Span, Unknown
from seglint.limits import FileSkipped, LimitedFileAccess, clip, read_rule_file
from seglint.matrix import Column, FlowCheck
from seglint.plugins import load_plugins
from seglint.policy import Requirement, rule_catalogue
from seglint.space import ADDR_ALL, IntervalSet
from seglint.target import Target

logger = logging.getLogger(__name__)

ZERO_CONFIG_NOTE = (
    "required flows (SEG101-SEG112) skipped: no roles are configured; "
    "add roles and rulesets to seglint.yaml to check them"
)
WINDOWS_PROFILES = ("domain", "private", "public")
RESOURCE_FORMATS = frozenset({"terraform", "cloudformation"})


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # SEG901 and SEG903
    rules: list[RuleMeta] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Unused and expired suppressions. They are reported but do not change exit_code.
    suppression_warnings: list[ignorefile.SuppressionWarning] = field(
        default_factory=list)
    files_checked: int = 0
    config: Config | None = None
    exit_code: int = 0
    # Per rule set, the checks behind each row of the port table (``matrix=True`` only).
    verdicts: list[tuple[Column, list[tuple[Requirement, FlowCheck]]]] = field(default_factory=list)

    @property
    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.suppression is None]


@dataclass(frozen=True)
class Options:
    config: Path | None = None
    fail_on: str = "warning"
    inline_suppressions: bool = True
    cwd: Path | None = None
    max_file_size: int | None = None  # overrides the configuration's max-file-size
    matrix: bool = False
    jobs: int | None = 1  # worker processes; None chooses by the size of the run


def display_path(location: Path, cwd: Path) -> str:
    resolved = location.resolve()
    try:
        return resolved.relative_to(cwd).as_posix()
    except ValueError:
        return resolved.as_posix()


def check(paths: Sequence[str | Path], config: str | Path | None = None,
          *, fail_on: str = "warning", inline_suppressions: bool = True,
          cwd: Path | None = None,
          progress: Callable[[int, int], None] | None = None,
          max_file_size: int | None = None,
          matrix: bool = False,
          jobs: int | str = 1) -> RunResult:
    """Check rule files and directories; return findings, diagnostics and the exit code.

    ``progress(done, total)`` is called after each rule file, for a progress bar.
    ``max_file_size`` (bytes) overrides ``max-file-size`` of the configuration.
    ``matrix`` records the verdict of every port table row for ``seglint matrix``.
    ``jobs`` is the number of worker processes, or ``"auto"`` for one per CPU
    on large runs (see ``seglint.parallel``); the result does not depend on it.
    """
    options = Options(Path(config) if config else None, fail_on, inline_suppressions,
                      (cwd or Path.cwd()).resolve(), max_file_size, matrix,
                      parallel.parse_jobs(jobs))
    return _Run(options, progress).run([Path(p) for p in paths])


class _Run:
    def __init__(self, options: Options,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.options = options
        self.progress = progress
        self.cwd = options.cwd or Path.cwd().resolve()
        self.result = RunResult()
        self.catalogue = rule_catalogue()
        self.texts: dict[str, str] = {}
        self.pending_errors: list[tuple[Candidate, Diagnostic]] = []
        self.used_entries: set[int] = set()  # ids of the rulesets entries that matched
        self.max_file_size = options.max_file_size or 0

    def run(self, paths: list[Path]) -> RunResult:
        plugins = load_plugins()
        for failure in plugins.failures:
            self.result.notes.append(failure)
        rules: dict[str, RuleMeta] = dict(self.catalogue)
        for policy in plugins.policies:
            for meta in policy.rules:
                rules.setdefault(meta.id, meta)
        self.result.rules = [rules[key] for key in sorted(rules)]

        config = self._load_config(paths, set(rules))
        if config is None:
            return self._finish()
        self.result.config = config
        if config.zero_config:
            self.result.notes.append(ZERO_CONFIG_NOTE)
        self.max_file_size = self.max_file_size or config.max_file_size

        items = list(discover(paths, plugins.formats))
        candidates = [item for item in items if isinstance(item, Candidate)]
        # The matrix collects the checks of every rule set in this process.
        workers = 1 if self.options.matrix else \
            parallel.worker_count(self.options.jobs, candidates)
        if workers > 1 and self._run_parallel(items, candidates, workers, config):
            self._apply_settings(config, paths, set(rules))
            self._unused_entries(config, paths)
            return self._finish()
        total = len(candidates)
        done = 0
        parsed_files = []
        for item in items:
            if isinstance(item, Path):
                self._missing_or_unknown(item)
                continue
            if isinstance(item, Skipped):
                self.result.notes.append(f"skipped {_link_path(item.location, self.cwd)}: "
                                         f"{item.reason}")
                continue
            parsed = self._parse_file(item)
            if parsed is not None:
                parsed_files.append(parsed)
            done += 1
            if self.progress is not None:
                self.progress(done, total)
        # A file that another checked file loads (a pf anchor, an nftables
        # include) is checked as part of that file, not again on its own.
        loaded = set().union(*(access.read_paths for _, _, _, access in parsed_files))
        # An include fragment may not parse on its own; its parent reports it.
        for candidate, diagnostic in self.pending_errors:
            if candidate.explicit or candidate.location.resolve() not in loaded:
                self.result.diagnostics.append(diagnostic)
        for candidate, source, result, _ in parsed_files:
            if not candidate.explicit and candidate.location.resolve() in loaded:
                continue
            self._check_parsed(candidate, source, result, config, plugins.policies)
        self._apply_settings(config, paths, set(rules))
        self._unused_entries(config, paths)
        return self._finish()

    def _unused_entries(self, config: Config, paths: list[Path]) -> None:
        """Note the rulesets entries that matched nothing, often a mistyped glob.

        Only a run over whole folders can tell: pre-commit passes the
        changed files alone, and those rightly leave most entries unused.
        """
        if not paths or not all(path.is_dir() for path in paths):
            return
        for entry in config.rulesets:
            if id(entry) not in self.used_entries:
                pattern = entry.files or entry.resources
                self.result.notes.append(
                    f"rulesets entry at {entry.span.path}:{entry.span.line} "
                    f"({'files' if entry.files else 'resources'}: {pattern}) "
                    "matches no checked rule set; check its pattern")

    def _run_parallel(self, items: list[Candidate | Path], candidates: list[Candidate],
                      workers: int, config: Config) -> bool:
        """Parse and check the files in worker processes, merged as :meth:`run` does.

        Return False, having changed nothing, when a worker process died.
        """
        results = parallel.check_files(candidates, workers, self.options, config,
                                       self.progress)
        if results is None:
            return False
        by_location = dict(zip((c.location for c in candidates), results, strict=True))
        for item in items:
            # Notes in the order a serial run writes them.
            if isinstance(item, Path):
                self._missing_or_unknown(item)
            elif isinstance(item, Skipped):
                self.result.notes.append(f"skipped {_link_path(item.location, self.cwd)}: "
                                         f"{item.reason}")
            else:
                self.result.notes.extend(by_location[item.location].notes)
        for result in results:
            self.used_entries.update(id(config.rulesets[index])
                                     for index in result.used_entries)
            if result.text is not None:
                self.texts[result.text[0]] = result.text[1]
        loaded = set().union(*(result.read_paths for result in results))
        for candidate, result in zip(candidates, results, strict=True):
            if candidate.explicit or candidate.location.resolve() not in loaded:
                self.result.diagnostics.extend(result.errors)
        for candidate, result in zip(candidates, results, strict=True):
            if not result.parsed or (not candidate.explicit
                                     and candidate.location.resolve() in loaded):
                continue
            self.result.files_checked += 1
            self.result.findings.extend(result.findings)
            self.result.diagnostics.extend(result.diagnostics)
        return True

    # --- configuration -------------------------------------------------------------

    def _load_config(self, paths: list[Path], known_rules: set[str]) -> Config | None:
        path = self.options.config
        try:
            if path is None:
                start = paths[0] if paths else self.cwd
                path = find_config(start if start.is_dir() else start.parent)
            elif not path.is_file():
                raise ConfigError(f"configuration file not found ({path})",
                                  Span(display_path(path, self.cwd), 1))
            return load_config(path, known_rules=known_rules, cwd=self.cwd)
        except ConfigError as exc:
            self.result.diagnostics.append(Diagnostic("SEG903", exc.message, exc.span, "error"))
            return None

    def _missing_or_unknown(self, path: Path) -> None:
        shown = display_path(path, self.cwd) if path.exists() else str(path)
        if path.is_symlink() and path.exists():
            self.result.diagnostics.append(Diagnostic(
                "SEG901", f"refusing to follow symlink {path} to {path.resolve()} "
                "(outside the checked tree); name the target instead",
                Span(str(path), 1), "error"))
            return
        if not path.exists():
            self.result.diagnostics.append(Diagnostic(
                "SEG901", f"file or directory not found ({path})", Span(shown, 1), "error"))
            return
        if not path.is_file() and not path.is_dir():
            # Opening a FIFO or a socket would wait for a writer forever.
            self.result.diagnostics.append(Diagnostic(
                "SEG901", "not a regular file (a FIFO, socket or device); name the rule "
                "file itself", Span(shown, 1), "error"))
            return
        try:
            with path.open("rb") as handle:
                head = handle.read(8192)
        except OSError as exc:
            # Format detection reads nothing from a file it cannot open, so
            # "not a known format" would hide the real cause.
            self.result.diagnostics.append(Diagnostic(
                "SEG901", f"cannot read the file ({exc.strerror or exc}); check its "
                "permissions", Span(shown, 1), "error"))
            return
        if b"\x00" in head:
            # A rule file with a NUL byte in it is corrupt, and skipping it
            # quietly would let a hook pass without checking it.
            self.result.diagnostics.append(Diagnostic(
                "SEG901", "file is binary (contains NUL bytes), not a rule file",
                Span(shown, 1), "error"))
            return
        self.result.notes.append(f"skipped {shown}: not a rule file of a known format")

    # --- one file ---------------------------------------------------------------------

    def _parse_file(self, candidate: Candidate
                    ) -> tuple[Candidate, SourceFile, ParseResult, FileAccess] | None:
        shown = display_path(candidate.location, self.cwd)
        access = LimitedFileAccess(candidate.root, self.cwd, self.max_file_size)
        try:
            source = read_rule_file(candidate.location, shown, self.max_file_size)
            parsed = candidate.format.parse(source, access)
            # Only files that parsed count for suppressions and unused ones.
            self.texts[shown] = source.text
        except FileSkipped as exc:
            # A binary file found in a directory (pf.conf.gz) is no rule file.
            # One named on the command line, or one over the limit, is an error.
            if exc.kind == "binary" and not candidate.explicit:
                self.result.notes.append(f"skipped {shown}: {exc.message}")
            else:
                self._defer_error(candidate, exc.message, exc.span)
            return None
        except ParseError as exc:
            self._defer_error(candidate, exc.message, exc.span)
            return None
        except RecursionError:
            self._defer_error(candidate, "input is nested too deeply to parse", Span(shown, 1))
            return None
        except Exception as exc:  # noqa: BLE001 - no traceback reaches the user
            if isinstance(getattr(exc, "orig_exc", None), RecursionError):
                # Lark's transformers wrap the RecursionError of a deep tree.
                self._defer_error(candidate, "input is nested too deeply to parse",
                                  Span(shown, 1))
                return None
            logger.debug("format %s failed on %s", candidate.format.id, shown, exc_info=True)
            self._defer_error(
                candidate, f"internal error while parsing as {candidate.format.id} "
                f"({type(exc).__name__}: {exc}); please report this file", Span(shown, 1))
            return None
        return candidate, source, parsed, access

    def _check_parsed(self, candidate: Candidate, source: SourceFile, parsed: ParseResult,
                      config: Config, policies: list) -> None:
        self.result.files_checked += 1
        for diagnostic in parsed.diagnostics:
            self._diagnostic(diagnostic)
        for ruleset in parsed.rulesets:
            for diagnostic in ruleset.diagnostics:
                self._diagnostic(diagnostic)
            self._check_ruleset(ruleset, candidate, config, policies, source.text)

    def _defer_error(self, candidate: Candidate, message: str, span: Span) -> None:
        self.pending_errors.append((candidate, Diagnostic("SEG901", message, span, "error")))

    def _parse_error(self, message: str, span: Span) -> None:
        self.result.diagnostics.append(Diagnostic("SEG901", message, span, "error"))

    def _diagnostic(self, diagnostic: Diagnostic) -> None:
        if diagnostic.rule_id in ("SEG901", "SEG903"):
            self.result.diagnostics.append(replace(diagnostic, level="error"))
            return
        if diagnostic.rule_id == "SEG902" or diagnostic.level != "note":
            meta = self.catalogue["SEG902"]
            self.result.findings.append(Finding(
                "SEG902", meta.name, "warning" if diagnostic.level != "note" else "note",
                diagnostic.message, diagnostic.span, identity=("unsupported", diagnostic.message)))
        else:
            logger.debug("%s: %s", diagnostic.span, diagnostic.message)

    def _check_ruleset(self, ruleset: Ruleset, candidate: Candidate, config: Config,
                       policies: list, text: str) -> None:
        target = self._target(ruleset, candidate, config, text)
        if target is None:
            return
        if self.options.matrix:
            target.verdicts = []
            column = Column(ruleset.path, ruleset.name, ruleset.format, target.mode,
                            target.host_role, _unknown_constructs(ruleset))
            self.result.verdicts.append((column, target.verdicts))
        for policy in policies:
            try:
                self.result.findings.extend(policy.check(target))
            except EngineError as exc:
                span = exc.rule.span if exc.rule else Span(ruleset.path, 1)
                self._parse_error(exc.message, span)
                return
            except Exception as exc:  # noqa: BLE001 - a policy bug must not stop the run
                logger.debug("policy %s failed on %s", getattr(policy, "name", policy),
                             ruleset.path, exc_info=True)
                self._parse_error(
                    f"internal error in policy {getattr(policy, 'name', policy)!r} "
                    f"({type(exc).__name__}: {exc}); please report this file",
                    Span(ruleset.path, 1))
                return

    def _target(self, ruleset: Ruleset, candidate: Candidate, config: Config,
                text: str) -> Target | None:
        found = dict(ruleset.directives)
        # Terraform and CloudFormation put a directive above each resource, so
        # their formats fill Ruleset.directives; the file-level scan is for
        # one-firewall files.
        scanned = {} if ruleset.format in RESOURCE_FORMATS else \
            directive_scan.directives(text)
        positions = {key: (line, column) for key, (_, line, column) in scanned.items()}
        for key, (value, _, _) in scanned.items():
            found.setdefault(key, value)
        host = found.get("host")
        if host is not None and host not in config.roles:
            line, column = positions.get("host", (1, 1))
            self.result.diagnostics.append(Diagnostic(
                "SEG903", f"unknown role {host!r} in directive "
                f"(known roles: {', '.join(sorted(config.roles))})",
                Span(ruleset.path, line, column), "error"))
            return None
        entry = config.ruleset_for(ruleset.path, candidate.location, ruleset.name or None)
        if entry is not None:
            self.used_entries.add(id(entry))
        if ruleset.format == "windows-firewall" and ruleset.name in WINDOWS_PROFILES:
            profiles = entry.profiles if entry and entry.profiles else WINDOWS_PROFILES
            if ruleset.name not in profiles:
                return None

        host = found.get("host") or (entry.host if entry else None)
        zones = dict(entry.zones) if entry and entry.zones else {}
        if host:
            mode = "host"
            interfaces = _facing(entry.interfaces if entry else {}, config)
        elif zones or "zones" in found or ruleset.kind == "network":
            mode = "network"
            interfaces = _facing(zones, config) or dict(ruleset.interfaces)
        else:
            mode = "unmapped"
            interfaces = {}
        engine = Engine(ruleset, interfaces)
        return Target(ruleset, engine, config, mode, host, interfaces)

    # --- after all files ------------------------------------------------------------------

    def _apply_settings(self, config: Config, paths: list[Path],
                        known_rules: set[str]) -> None:
        kept: list[Finding] = []
        seen: set[tuple[str, str, int, int, str]] = set()
        fingerprints: dict[str, int] = {}
        suppressor = ignorefile.Suppressor(
            self.texts, self._ignore_file(config, paths, known_rules),
            inline=self.options.inline_suppressions, cwd=self.cwd)
        for finding in sorted(self.result.findings, key=lambda f: (*f.sort_key(), f.may)):
            # One finding per rule and place, the definite one first. SEG208
            # findings at one place with other ports (rules expanded from one
            # Terraform dynamic block) are kept apart.
            key = (finding.rule_id, finding.span.path, finding.span.line, finding.span.column,
                   str(finding.properties.get("ports", "")) if finding.rule_id == "SEG208"
                   else "")
            if key in seen:
                continue
            seen.add(key)
            # Identical rule text twice in one file would share a fingerprint;
            # the occurrence count keeps them apart without using line numbers.
            occurrence = fingerprints.get(finding.fingerprint, 0)
            fingerprints[finding.fingerprint] = occurrence + 1
            if occurrence:
                finding = replace(finding, identity=(*finding.identity, f"#{occurrence}"))
            setting = config.rules.get(finding.rule_id)
            if setting is not None:
                if not setting.enabled:
                    continue
                if setting.level:
                    finding = replace(finding, level=setting.level)
            kept.append(suppressor.apply(finding))
        self.result.findings = kept
        self.result.suppression_warnings = suppressor.warnings()

    def _ignore_file(self, config: Config, paths: list[Path],
                     known_rules: set[str]) -> ignorefile.IgnoreFile | None:
        start = paths[0] if paths else self.cwd
        location = ignorefile.find_ignore_file(config.path, start)
        if location is None:
            return None
        try:
            return ignorefile.load_ignore_file(location, known_rules=known_rules,
                                               cwd=self.cwd)
        except ConfigError as exc:
            self.result.diagnostics.append(
                Diagnostic("SEG903", exc.message, exc.span, "error"))
            return None

    def _finish(self) -> RunResult:
        result = self.result
        # Messages quote the rule file, and a 10 MB token must not make a 10 MB line.
        result.diagnostics = [replace(d, message=clip(d.message)) for d in result.diagnostics]
        result.findings = [replace(f, message=clip(f.message)) for f in result.findings]
        threshold = level_rank(self.options.fail_on) if self.options.fail_on != "never" else 99
        if result.diagnostics:
            result.exit_code = 2
        elif any(level_rank(f.level) >= threshold for f in result.active_findings):
            result.exit_code = 1
        else:
            result.exit_code = 0
        return result


def _unknown_constructs(ruleset: Ruleset) -> tuple[Diagnostic, ...]:
    """List the conditions the engine cannot model, where "may" verdicts come from."""
    found: dict[tuple[int, int, str], Diagnostic] = {}
    for chain in ruleset.chains.values():
        for rule in chain.rules:
            for condition in rule.conditions:
                if isinstance(condition, Unknown):
                    span = condition.span
                    found.setdefault((span.line, span.column, condition.text), Diagnostic(
                        "SEG902", f"not modelled: {condition.text}", span, "warning"))
    return tuple(found[key] for key in sorted(found))


def _link_path(location: Path, cwd: Path) -> str:
    """Return a symlink's own path (not its target's) for messages."""
    absolute = location.absolute()
    try:
        return absolute.relative_to(cwd).as_posix()
    except ValueError:
        return absolute.as_posix()


def _facing(mapping: dict[str, Networks], config: Config) -> dict[str, IntervalSet]:
    """Return the networks each interface faces; ``internet`` excludes the listed networks."""
    listed = IntervalSet()
    for networks in mapping.values():
        if not networks.internet:
            listed = listed.union(networks.values)
    internet = ADDR_ALL.subtract(config.trusted).subtract(listed)
    return {name: internet if networks.internet else networks.values
            for name, networks in mapping.items()}

