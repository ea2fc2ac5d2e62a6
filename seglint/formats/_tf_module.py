"""A Terraform module as seglint reads it: all ``.tf`` files of one directory.

The module's evaluation scope contains the variables and the locals. A
variable takes its ``default``, then the values of ``terraform.tfvars``,
``terraform.tfvars.json`` and ``*.auto.tfvars[.json]`` in lexical order,
later files winning, as Terraform loads them. Each local is evaluated on
first use, so it sees the locals it depends on, and a cycle is an error.
Resources expand by ``count`` and ``for_each``, and their nested blocks
expand ``dynamic`` blocks.

Every file is read through :class:`FileAccess`, so nothing outside the
checked tree is read. The analysis of a directory is cached per process,
keyed by the text of its files, because each ``.tf`` file of the module is
parsed as its own input but needs the whole module.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pyhcl2.nodes import Attribute, Block, Identifier, Literal
from pyhcl2.values import String

from seglint.formats._tf_eval import Evaluator, Namespace, Scope, Source
from seglint.formats._tf_hcl import HclFile, parse_hcl
from seglint.formats._tf_values import (
    EvalError,
    TfSet,
    UnknownValue,
    Value,
    iterate,
    to_integer,
    to_string,
)
from seglint.formats.base import FileAccess, SourceFile
from seglint.ir import Diagnostic, ParseError, Span

logger = logging.getLogger(__name__)

_CACHE_SIZE = 16
# More instances of one resource than this are rejected rather than checked
# one by one; firewall resources come in far smaller numbers.
INSTANCE_LIMIT = 1000


# --- evaluated blocks -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attr:
    """An evaluated attribute: its value, the span of ``name = expr`` and the text."""

    name: str
    value: Value
    span: Span
    text: str  # the expression as written, whitespace normalised


def normalise(text: str) -> str:
    return " ".join(text.split())


class Body:
    """The attributes and nested blocks of one block, evaluated in its scope.

    ``span`` and ``text`` are what findings about the block use: the block
    itself, or the ``dynamic`` block that produced it. ``instance`` names
    the ``dynamic`` element (empty otherwise) and ``exists`` is set when an
    unknown ``for_each`` makes it unknown whether the block exists at all.
    """

    def __init__(
        self,
        file: HclFile,
        span: Span,
        text: str,
        instance: str = "",
        exists: UnknownValue | None = None,
    ) -> None:
        self.file = file
        self.span = span
        self.text = text
        self.instance = instance
        self.exists = exists

    def attr(self, name: str) -> Attr | None:
        raise NotImplementedError

    def blocks(self, kind: str) -> list[Body]:
        raise NotImplementedError

    def value(self, name: str, default: Value = None) -> Value:
        attr = self.attr(name)
        return default if attr is None else attr.value


class AstBody(Body):
    """A block of the source, evaluated lazily in ``scope``."""

    def __init__(
        self,
        file: HclFile,
        block: Block,
        scope: Scope,
        evaluator: Evaluator,
        span: Span | None = None,
        text: str | None = None,
        instance: str = "",
        exists: UnknownValue | None = None,
    ) -> None:
        super().__init__(
            file,
            span or file.span(block),
            text if text is not None else normalise(file.source(block)),
            instance,
            exists,
        )
        self.block = block
        self.scope = scope
        self.evaluator = evaluator
        self._attrs: dict[str, Attr | None] = {}

    def node(self, name: str) -> Attribute | None:
        for stmt in self.block.body:
            if isinstance(stmt, Attribute) and stmt.key.name == name:
                return stmt
        return None

    def attr(self, name: str) -> Attr | None:
        if name not in self._attrs:
            stmt = self.node(name)
            self._attrs[name] = None if stmt is None else self._evaluate(stmt)
        return self._attrs[name]

    def _evaluate(self, stmt: Attribute) -> Attr:
        src = Source(self.file)
        text = normalise(src.text(stmt.value))
        try:
            value = self.evaluator.eval(stmt.value, self.scope, src)
        except EvalError as exc:
            value = UnknownValue(text, f"cannot be evaluated: {exc.message}")
        return Attr(stmt.key.name, value, self.file.span(stmt), text)

    def blocks(self, kind: str) -> list[Body]:
        found: list[Body] = []
        for stmt in self.block.body:
            if isinstance(stmt, Block):
                labels = _labels(stmt)
                if stmt.type.name == kind and not labels:
                    found.append(AstBody(self.file, stmt, self.scope, self.evaluator))
                elif stmt.type.name == "dynamic" and labels == [kind]:
                    found.extend(self._dynamic(stmt, kind))
            elif isinstance(stmt, Attribute) and stmt.key.name == kind:
                # Attributes-as-blocks: "ingress = [{...}, ...]".
                found.extend(self._attribute_blocks(stmt))
        return found

    def _dynamic(self, block: Block, kind: str) -> list[Body]:
        dynamic = AstBody(self.file, block, self.scope, self.evaluator)
        content = next(
            (
                b
                for b in block.body
                if isinstance(b, Block) and b.type.name == "content"
            ),
            None,
        )
        if content is None:
            return []
        iterator = kind
        iterator_node = dynamic.node("iterator")
        if iterator_node is not None and isinstance(iterator_node.value, Identifier):
            iterator = iterator_node.value.name
        collection = dynamic.attr("for_each")
        value = None if collection is None else collection.value
        if isinstance(value, UnknownValue):
            unknown = UnknownValue(value.text, value.reason)
            names = {iterator: {"key": unknown, "value": unknown}}
            return [
                AstBody(
                    self.file,
                    content,
                    self.scope.child(names),
                    self.evaluator,
                    dynamic.span,
                    dynamic.text,
                    f"{iterator}.key=?",
                    value,
                )
            ]
        try:
            pairs = [] if value is None else iterate(value)
        except EvalError:
            pairs = []
        bodies: list[Body] = []
        for key, item in pairs:
            names = {iterator: {"key": key, "value": item}}
            bodies.append(
                AstBody(
                    self.file,
                    content,
                    self.scope.child(names),
                    self.evaluator,
                    dynamic.span,
                    dynamic.text,
                    f"{iterator}.key={_show(key)}",
                )
            )
        return bodies

    def _attribute_blocks(self, stmt: Attribute) -> list[Body]:
        attr = self._evaluate(stmt)
        items = attr.value if isinstance(attr.value, list) else [attr.value]
        bodies: list[Body] = []
        for number, item in enumerate(items):
            if isinstance(item, dict):
                bodies.append(
                    ValueBody(self.file, item, attr, f"{stmt.key.name}[{number}]")
                )
            elif isinstance(item, UnknownValue):
                bodies.append(
                    ValueBody(self.file, {}, attr, f"{stmt.key.name}[{number}]", item)
                )
        return bodies


class ValueBody(Body):
    """A block given as an object value; every attribute has the value's span."""

    def __init__(
        self,
        file: HclFile,
        values: dict[str, Value],
        origin: Attr,
        instance: str,
        exists: UnknownValue | None = None,
    ) -> None:
        super().__init__(
            file, origin.span, f"{origin.name} = {origin.text}", instance, exists
        )
        self.values = values
        self.origin = origin

    def attr(self, name: str) -> Attr | None:
        if self.exists is not None:
            return Attr(name, self.exists, self.origin.span, self.exists.text)
        if name not in self.values:
            return None
        value = self.values[name]
        text = (
            value.text
            if isinstance(value, UnknownValue)
            else json.dumps(value, default=str)
        )
        return Attr(name, value, self.origin.span, text)

    def blocks(self, kind: str) -> list[Body]:
        items = self.values.get(kind)
        if not isinstance(items, list):
            return []
        return [
            ValueBody(self.file, item, self.origin, f"{self.instance}.{kind}")
            for item in items
            if isinstance(item, dict)
        ]


def _labels(block: Block) -> list[str]:
    labels = []
    for label in block.labels:
        if isinstance(label, Identifier):
            labels.append(label.name)
        elif isinstance(label, Literal) and isinstance(label.value, String):
            labels.append(str(label.value.raw()))
    return labels


def _show(key: Value) -> str:
    return json.dumps(key) if isinstance(key, str) else str(key)


# --- resources ------------------------------------------------------------------------


@dataclass
class Resource:
    """A ``resource`` block of the module."""

    type: str
    name: str
    file: HclFile
    block: Block
    span: Span
    directives: dict[str, str]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass
class Instance:
    """One instance of a resource after ``count`` or ``for_each``."""

    resource: Resource
    key: Value  # None without count or for_each
    address: str
    body: AstBody
    diagnostics: list[Diagnostic] = field(default_factory=list)


class LocalsCycle(Exception):
    def __init__(self, names: list[str]) -> None:
        super().__init__(" -> ".join(names))
        self.names = names


class Locals(Namespace):
    """``local.*``: each local is evaluated on first use, after the ones it reads."""

    def __init__(
        self, definitions: dict[str, tuple[HclFile, Attribute]], evaluator: Evaluator
    ) -> None:
        super().__init__("local")
        self.definitions = definitions
        self.pending: list[str] = []
        self.evaluator = evaluator
        self.scope = Scope({})

    def get(self, key: str, text: str) -> Value:
        if key in self.values:
            return self.values[key]
        if key not in self.definitions:
            return UnknownValue(text, f"local.{key} is not declared in this module")
        if key in self.pending:
            raise LocalsCycle([*self.pending[self.pending.index(key) :], key])
        file, stmt = self.definitions[key]
        self.pending.append(key)
        try:
            value = self.evaluator.eval(stmt.value, self.scope, Source(file))
        except EvalError as exc:
            value = UnknownValue(f"local.{key}", f"cannot be evaluated: {exc.message}")
        finally:
            self.pending.pop()
        self.values[key] = value
        return value


class TfModule:
    """The analysed module: files, scope, resources and module-level errors."""

    def __init__(
        self, files: list[HclFile], tfvars: list[tuple[str, dict[str, Value]]]
    ) -> None:
        self.files = files
        self.evaluator = Evaluator()
        self.errors: dict[str, ParseError] = {}
        self.resources: list[Resource] = []
        self.drafts: list[object] | None = None  # filled by the terraform format
        self._instances: dict[str, list[Instance]] = {}
        # Module calls: (file path, span, name); their resources are not read.
        self.module_calls: list[tuple[str, Span, str]] = []

        variables = self._variables(tfvars)
        definitions: dict[str, tuple[HclFile, Attribute]] = {}
        for file in files:
            for block in file.module.get_blocks(None):
                labels = _labels(block)
                if block.type.name == "locals":
                    for stmt in block.body:
                        if isinstance(stmt, Attribute):
                            definitions.setdefault(stmt.key.name, (file, stmt))
                elif block.type.name == "module" and labels:
                    self.module_calls.append((file.path, file.span(block), labels[0]))
                elif block.type.name == "resource" and len(labels) == 2:
                    span = file.span(block)
                    self.resources.append(
                        Resource(
                            labels[0],
                            labels[1],
                            file,
                            block,
                            span,
                            file.directives_above(span.line),
                        )
                    )
        self.locals = Locals(definitions, self.evaluator)
        self.scope = Scope({"var": Namespace("var", variables), "local": self.locals})
        self.locals.scope = self.scope
        self._evaluate_locals()

    def _variables(
        self, tfvars: list[tuple[str, dict[str, Value]]]
    ) -> dict[str, Value]:
        variables: dict[str, Value] = {}
        empty = Scope({})
        for file in self.files:
            for block in file.module.get_blocks("variable"):
                labels = _labels(block)
                if len(labels) != 1:
                    continue
                name = labels[0]
                body = AstBody(file, block, empty, self.evaluator)
                default = body.attr("default")
                variables[name] = (
                    default.value
                    if default is not None
                    else UnknownValue(
                        f"var.{name}",
                        f"variable {name} has no default and no value in "
                        "terraform.tfvars or *.auto.tfvars",
                    )
                )
        for _, values in tfvars:
            variables.update(values)
        return variables

    def _evaluate_locals(self) -> None:
        for name in list(self.locals.definitions):
            while True:
                try:
                    self.locals.get(name, f"local.{name}")
                    break
                except LocalsCycle as cycle:
                    first = cycle.names[0]
                    file, stmt = self.locals.definitions[first]
                    shown = " -> ".join(f"local.{n}" for n in cycle.names)
                    self.errors.setdefault(
                        file.path,
                        ParseError(f"locals form a cycle ({shown})", file.span(stmt)),
                    )
                    for member in cycle.names:
                        self.locals.values[member] = UnknownValue(
                            f"local.{member}", f"locals form a cycle ({shown})"
                        )

    def fail(self, error: ParseError) -> None:
        """Record a resource's error; the file holding it raises it when parsed."""
        self.errors.setdefault(error.span.path, error)

    def resources_of(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    def instances(self, resource: Resource) -> list[Instance]:
        key = f"{resource.file.path}:{resource.span.line}:{resource.address}"
        if key not in self._instances:
            try:
                self._instances[key] = self._expand(resource)
            except ParseError as exc:
                self.fail(exc)
                self._instances[key] = []
        return self._instances[key]

    def _expand(self, resource: Resource) -> list[Instance]:
        probe = AstBody(resource.file, resource.block, self.scope, self.evaluator)
        count, for_each = probe.attr("count"), probe.attr("for_each")
        if count is not None:
            return self._expand_count(resource, count)
        if for_each is not None:
            return self._expand_for_each(resource, for_each)
        return [Instance(resource, None, resource.address, self._body(resource, {}))]

    def _body(
        self, resource: Resource, names: dict[str, Value], instance: str = ""
    ) -> AstBody:
        scope = self.scope.child(names) if names else self.scope
        return AstBody(
            resource.file,
            resource.block,
            scope,
            self.evaluator,
            resource.span,
            None,
            instance,
        )

    def _unknown_expansion(
        self, resource: Resource, attr: Attr, names: dict[str, Value]
    ) -> list[Instance]:
        unknown = attr.value
        assert isinstance(unknown, UnknownValue)
        note = Diagnostic(
            "SEG902",
            f"{attr.name} of {resource.address} is unknown ({unknown.text}: "
            f"{unknown.reason}); it is checked as one instance",
            attr.span,
        )
        body = self._body(resource, names, f"{attr.name}=?")
        return [Instance(resource, unknown, f"{resource.address}[?]", body, [note])]

    def _expand_count(self, resource: Resource, count: Attr) -> list[Instance]:
        if isinstance(count.value, UnknownValue):
            unknown = UnknownValue("count.index", count.value.reason)
            return self._unknown_expansion(
                resource, count, {"count": {"index": unknown}}
            )
        try:
            total = to_integer(count.value)
        except EvalError as exc:
            raise ParseError(f"invalid count ({exc.message})", count.span) from None
        _check_instances(total, count)
        return [
            Instance(
                resource,
                index,
                f"{resource.address}[{index}]",
                self._body(
                    resource, {"count": {"index": index}}, f"count.index={index}"
                ),
            )
            for index in range(max(total, 0))
        ]

    def _expand_for_each(self, resource: Resource, for_each: Attr) -> list[Instance]:
        value = for_each.value
        if isinstance(value, UnknownValue):
            unknown = UnknownValue("each.key", value.reason)
            each = {"key": unknown, "value": UnknownValue("each.value", value.reason)}
            return self._unknown_expansion(resource, for_each, {"each": each})
        if isinstance(value, list) and not isinstance(value, TfSet):
            value = TfSet(value)
        try:
            pairs = [] if value is None else iterate(value)
        except EvalError as exc:
            raise ParseError(
                f"invalid for_each ({exc.message})", for_each.span
            ) from None
        _check_instances(len(pairs), for_each)
        instances = []
        for key, item in pairs:
            if isinstance(key, UnknownValue):
                return self._unknown_expansion(
                    resource,
                    Attr("for_each", key, for_each.span, for_each.text),
                    {"each": {"key": key, "value": item}},
                )
            name = to_string(key)
            instances.append(
                Instance(
                    resource,
                    name,
                    f"{resource.address}[{json.dumps(name)}]",
                    self._body(
                        resource,
                        {"each": {"key": name, "value": item}},
                        f"each.key={json.dumps(name)}",
                    ),
                )
            )
        return instances


def _check_instances(total: int, attr: Attr) -> None:
    if total > INSTANCE_LIMIT:
        raise ParseError(
            f"{attr.name} creates too many instances to check "
            f"({total} > {INSTANCE_LIMIT})",
            attr.span,
        )


# --- loading --------------------------------------------------------------------------

_parsed: OrderedDict[tuple[str, str], HclFile | ParseError] = OrderedDict()
_modules: OrderedDict[tuple[object, ...], TfModule] = OrderedDict()


def _remember(cache: OrderedDict, key: object, value: object, size: int) -> None:  # type: ignore[type-arg]
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


def parse_cached(text: str, path: str) -> HclFile:
    """Parse HCL once per (path, text) in this process."""
    key = (path, text)
    result = _parsed.get(key)
    if result is None:
        try:
            result = parse_hcl(text, path)
        except ParseError as exc:
            result = exc
        _remember(_parsed, key, result, 256)
    if isinstance(result, ParseError):
        raise result
    return result


def sibling_path(source: SourceFile, location: Path) -> str:
    """Return the display path of a file next to ``source``, in its style."""
    return str(PurePosixPath(source.path).parent / location.name)


def _read_tfvars(text: str, path: str) -> dict[str, Value]:
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(
                f"invalid JSON ({exc.msg})", Span(path, exc.lineno, exc.colno)
            ) from None
        if not isinstance(data, dict):
            raise ParseError("a tfvars JSON file must hold an object", Span(path, 1))
        return data
    file = parse_cached(text, path)
    values: dict[str, Value] = {}
    evaluator, empty = Evaluator(), Scope({})
    for stmt in file.module.body:
        if isinstance(stmt, Attribute):
            try:
                values[stmt.key.name] = evaluator.eval(stmt.value, empty, Source(file))
            except EvalError as exc:
                raise ParseError(
                    f"invalid value ({exc.message})", file.span(stmt)
                ) from None
    return values


def load_module(source: SourceFile, files: FileAccess) -> TfModule:
    """Return the analysed module of the directory holding ``source``."""
    directory = source.location.parent
    here = source.location.resolve()
    where = Span(source.path, 1)
    texts: list[tuple[str, str]] = []
    seen_source = False
    for location in files.glob(directory, "*.tf"):
        if location.resolve() == here:
            texts.append((source.path, source.text))
            seen_source = True
            continue
        try:
            texts.append(
                (sibling_path(source, location),
                 files.read(location, where, include=False).text)
            )
        except ParseError as exc:
            logger.debug("skipping sibling %s: %s", location, exc.message)
    if not seen_source:
        texts.append((source.path, source.text))
    var_files = files.glob(directory, "terraform.tfvars")
    var_files += files.glob(directory, "terraform.tfvars.json")
    var_files += sorted(
        files.glob(directory, "*.auto.tfvars")
        + files.glob(directory, "*.auto.tfvars.json"),
        key=lambda location: location.name,
    )
    var_texts: list[tuple[str, str]] = []
    # A variable file that cannot be read would leave the defaults in place
    # without a word, so the module reports it as an error.
    read_errors = _leaving_var_files(source, files)
    for location in var_files:
        try:
            var_texts.append(
                (sibling_path(source, location), files.read(location, where).text)
            )
        except ParseError as exc:
            read_errors.append(
                ParseError(exc.message, Span(sibling_path(source, location), 1)))

    key = (str(directory.resolve()), tuple(texts), tuple(var_texts),
           tuple(error.message for error in read_errors))
    module = _modules.get(key)
    if module is not None:
        _modules.move_to_end(key)
        return module

    parsed: list[HclFile] = []
    parse_errors: list[ParseError] = []
    for path, text in sorted(texts):
        try:
            parsed.append(parse_cached(text, path))
        except ParseError as exc:
            # Reported when that file itself is parsed; the rest of the module
            # is still analysed without it.
            parse_errors.append(exc)
    tfvars: list[tuple[str, dict[str, Value]]] = []
    tfvars_error: ParseError | None = None
    for path, text in var_texts:
        try:
            tfvars.append((path, _read_tfvars(text, path)))
        except ParseError as exc:
            tfvars_error = tfvars_error or exc
    module = TfModule(parsed, tfvars)
    for error in parse_errors:
        module.fail(error)
    if tfvars_error is not None and parsed:
        module.errors.setdefault(parsed[0].path, tfvars_error)
    if read_errors and parsed:
        module.errors.setdefault(parsed[0].path, read_errors[0])
    _remember(_modules, key, module, _CACHE_SIZE)
    return module


VAR_FILE_PATTERNS = ("terraform.tfvars", "terraform.tfvars.json", "*.auto.tfvars",
                     "*.auto.tfvars.json")


def _leaving_var_files(source: SourceFile, files: FileAccess) -> list[ParseError]:
    """Return an error for each variable file that is a symlink out of the checked tree.

    FileAccess.glob leaves such files out, and Terraform would read them.
    """
    directory = source.location.parent
    errors = []
    for location in sorted(directory.iterdir()):
        if (location.is_symlink() and location.exists() and not files.inside(location)
                and any(fnmatch.fnmatch(location.name, p) for p in VAR_FILE_PATTERNS)):
            errors.append(ParseError(
                f"variable file is a symlink to {location.resolve()}, outside the "
                "checked tree, so its values are not read",
                Span(sibling_path(source, location), 1)))
    return errors
