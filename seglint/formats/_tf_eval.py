"""Evaluation of Terraform expressions over pyhcl2's AST.

pyhcl2's own evaluator leaves ``"${...}"`` templates as text and has no
Terraform functions, so this module evaluates the AST itself. Values are
those of :mod:`seglint.formats._tf_values`. References that only Terraform
could resolve (resources, data sources, module outputs, variables without a
value) evaluate to :class:`UnknownValue`; nothing is ever run or fetched.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lark.exceptions import UnexpectedInput, VisitError
from pyhcl2.nodes import (
    ArrayExpression,
    AttrSplat,
    BinaryExpression,
    Conditional,
    Expression,
    ForObjectExpression,
    ForTupleExpression,
    FunctionCall,
    GetAttr,
    GetAttrKey,
    GetIndex,
    GetIndexKey,
    Identifier,
    IndexSplat,
    Literal,
    Node,
    ObjectExpression,
    Parenthesis,
    UnaryExpression,
)
from pyhcl2.values import Boolean, Float, Integer, Null, String

from seglint.formats._tf_functions import FUNCTIONS, NeedsUnknown
from seglint.formats._tf_hcl import (
    HclFile,
    heredoc_body,
    matching_brace,
    parse_expression,
)
from seglint.formats._tf_values import (
    EvalError,
    TfSet,
    UnknownValue,
    Value,
    iterate,
    normalize_number,
    tf_equal,
    to_bool,
    to_number,
    to_string,
    type_name,
)

logger = logging.getLogger(__name__)

# The reason, per root name, that a reference is unknown before apply.
ROOT_REASONS = {
    "data": "data sources are not evaluated",
    "module": "module outputs are not evaluated",
    "self": "self attributes are known only after apply",
    "terraform": "terraform.workspace is chosen when terraform runs",
    "path": "file system paths are not evaluated",
    "count": "count.index is used outside a resource with count",
    "each": "each is used outside a resource with for_each",
}
RESOURCE_REASON = "resource attributes are known only after apply"
# Expression nodes one module may evaluate: about a second of CPython work
# (measured on the development container), far above what firewall
# configurations need.
EVALUATION_BUDGET = 500_000

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_UNICODE_ESCAPE = re.compile(r"u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})")


class Namespace:
    """A root such as ``var`` or ``local``: attribute access looks names up."""

    def __init__(self, name: str, values: dict[str, Value] | None = None) -> None:
        self.name = name
        self.values: dict[str, Value] = dict(values or {})

    def get(self, key: str, text: str) -> Value:
        if key in self.values:
            return self.values[key]
        return UnknownValue(text, f"{self.name}.{key} is not declared in this module")


class Scope:
    """Names visible to an expression, with a parent for nested scopes."""

    def __init__(self, values: dict[str, Any], parent: Scope | None = None) -> None:
        self.values = values
        self.parent = parent

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        raise KeyError(name)

    def child(self, values: dict[str, Any]) -> Scope:
        return Scope(values, self)


@dataclass(frozen=True, slots=True)
class Source:
    """The text an AST's offsets refer to: a file and the offset where parsing began."""

    file: HclFile
    base: int = 0

    def text(self, node: Node) -> str:
        return self.file.text[node.span.start + self.base : node.span.end + self.base]

    def shifted(self, offset: int) -> Source:
        return Source(self.file, self.base + offset)


class Evaluator:
    """Evaluates pyhcl2 expressions to Terraform values.

    ``budget`` caps the number of expression nodes one evaluator visits, so
    nested ``for`` expressions over large collections cannot hang the run.
    Past it every evaluation fails, and the values become unknown.
    """

    def __init__(
        self,
        functions: dict[str, Callable[..., Value]] | None = None,
        budget: int = EVALUATION_BUDGET,
    ) -> None:
        self.functions = FUNCTIONS if functions is None else functions
        self.budget = budget

    def eval(self, node: Node, scope: Scope, src: Source) -> Value:
        self.budget -= 1
        if self.budget < 0:
            raise EvalError("the module needs too many evaluation steps")
        handler = getattr(self, f"_eval_{type(node).__name__}", None)
        if handler is None:
            raise EvalError(f"unsupported expression ({src.text(node)})")
        return handler(node, scope, src)

    # --- literals and templates -------------------------------------------------

    def _eval_Literal(self, node: Literal, scope: Scope, src: Source) -> Value:
        value = node.value
        if isinstance(value, String):
            return self._string(node, scope, src)
        if isinstance(value, Null):
            return None
        if isinstance(value, Boolean):
            return bool(value.raw())
        if isinstance(value, (Integer, Float)):
            return normalize_number(value.raw())
        raise EvalError(f"unsupported literal ({src.text(node)})")

    def _string(self, node: Literal, scope: Scope, src: Source) -> Value:
        start = node.span.start + src.base
        heredoc = src.file.heredocs.get(start) if src.base == 0 else None
        if heredoc is not None:
            raw, cut = heredoc_body(src.file.text, heredoc)
            text = src.file.text[heredoc.start : heredoc.end]
            return self.template(
                raw, heredoc.body_start, scope, src, text, escapes=False, dedent=cut
            )
        raw = src.file.text[start + 1 : node.span.end + src.base - 1]
        return self.template(raw, start + 1, scope, src, src.text(node), escapes=True)

    def template(
        self,
        raw: str,
        offset: int,
        scope: Scope,
        src: Source,
        text: str,
        escapes: bool = True,
        dedent: int = 0,
    ) -> Value:
        """Evaluate template text found at ``offset`` of the file.

        A template that is a single ``${expr}`` keeps the value's type, as in
        Terraform. ``dedent`` columns of leading spaces or tabs are removed
        from each line of the literal text (``<<-`` heredocs).
        """
        parts: list[Value] = []
        literal: list[str] = []
        position = 0
        strip_next = False
        while position < len(raw):
            marker = _next_template_start(raw, position)
            chunk = raw[position:marker]
            if dedent:
                chunk = _dedent(
                    chunk, dedent, position == 0 or raw[position - 1] == "\n"
                )
            if strip_next:
                chunk = chunk.lstrip()
                strip_next = False
            literal.append(_unescape(chunk) if escapes else chunk)
            if marker >= len(raw):
                break
            if raw.startswith(("$${", "%%{"), marker):
                literal.append(raw[marker + 1 : marker + 3])
                position = marker + 3
                continue
            if raw.startswith("%{", marker):
                return UnknownValue(
                    text, "template directives (%{...}) are not evaluated"
                )
            end = matching_brace(raw, marker + 2)
            if end >= len(raw):
                raise EvalError(f"interpolation is not closed ({text})")
            inner_start, inner_end = marker + 2, end
            if raw.startswith("~", inner_start):
                inner_start += 1
                literal = ["".join(literal).rstrip()]
            if raw[inner_end - 1 : inner_end] == "~":
                inner_end -= 1
                strip_next = True
            if "".join(literal):
                parts.append("".join(literal))
            literal = []
            expression = raw[inner_start:inner_end]
            parts.append(
                self._interpolation(expression, offset + inner_start, scope, src)
            )
            position = end + 1
        if "".join(literal):
            parts.append("".join(literal))
        if len(parts) == 1 and not isinstance(parts[0], str):
            return parts[0]
        for part in parts:
            if isinstance(part, UnknownValue):
                return part.derive(text)
        return "".join(to_string(part) for part in parts)

    def _interpolation(
        self, expression: str, offset: int, scope: Scope, src: Source
    ) -> Value:
        try:
            node = parse_expression(expression)
        except (UnexpectedInput, VisitError):
            raise EvalError(
                f"invalid expression in template ({expression.strip()})"
            ) from None
        return self.eval(node, scope, Source(src.file, offset))

    # --- collections ------------------------------------------------------------

    def _eval_ArrayExpression(
        self, node: ArrayExpression, scope: Scope, src: Source
    ) -> Value:
        return [self.eval(item, scope, src) for item in node.values]

    def _eval_ObjectExpression(
        self, node: ObjectExpression, scope: Scope, src: Source
    ) -> Value:
        result: dict[str, Value] = {}
        for key_node, value_node in node.fields.items():
            if isinstance(key_node, Identifier):
                key: Value = key_node.name
            else:
                key = self.eval(key_node, scope, src)
            if isinstance(key, UnknownValue):
                return key.derive(src.text(node))
            result[to_string(key)] = self.eval(value_node, scope, src)
        return result

    def _eval_Parenthesis(self, node: Parenthesis, scope: Scope, src: Source) -> Value:
        return self.eval(node.expr, scope, src)

    # --- references -------------------------------------------------------------

    def _eval_Identifier(self, node: Identifier, scope: Scope, src: Source) -> Value:
        try:
            return scope.lookup(node.name)
        except KeyError:
            pass
        reason = ROOT_REASONS.get(node.name, RESOURCE_REASON)
        return UnknownValue(node.name, reason, (node.name,))

    def _eval_GetAttr(self, node: GetAttr, scope: Scope, src: Source) -> Value:
        on = self.eval(node.on, scope, src)
        return self._get_attr(on, node.key, src.text(node))

    def _get_attr(self, on: Value, key: GetAttrKey, text: str) -> Value:
        name = key.ident.name
        if isinstance(on, Namespace):
            return on.get(name, text)
        if isinstance(on, UnknownValue):
            return on.derive(text, name)
        if isinstance(on, dict):
            if name in on:
                return on[name]
            raise EvalError(f"no attribute {name!r} in {text}")
        raise EvalError(f"cannot read attribute {name!r} of a {type_name(on)} ({text})")

    def _eval_GetIndex(self, node: GetIndex, scope: Scope, src: Source) -> Value:
        on = self.eval(node.on, scope, src)
        key = self.eval(node.key.expr, scope, src)
        return self._get_index(on, key, src.text(node))

    @staticmethod
    def _get_index(on: Value, key: Value, text: str) -> Value:
        if isinstance(on, Namespace):
            if isinstance(key, str):
                return on.get(key, text)
            return UnknownValue(text, f"{on.name} indexed by a non-string key")
        if isinstance(on, UnknownValue):
            step = None if isinstance(key, UnknownValue) else key
            result = on.derive(text, step)
            if step is None and on.path is not None:
                result.path = (*on.path, key)
            return result
        if isinstance(key, UnknownValue):
            return key.derive(text)
        if isinstance(on, TfSet):
            raise EvalError(f"a set cannot be indexed ({text})")
        if isinstance(on, list):
            index = to_number(key)
            if not isinstance(index, int) or not 0 <= index < len(on):
                raise EvalError(
                    f"index {key} is out of range for {len(on)} elements ({text})"
                )
            return on[index]
        if isinstance(on, dict):
            name = to_string(key)
            if name not in on:
                raise EvalError(f"no key {name!r} in {text}")
            return on[name]
        raise EvalError(f"cannot index a {type_name(on)} ({text})")

    def _eval_AttrSplat(self, node: AttrSplat, scope: Scope, src: Source) -> Value:
        return self._splat(node.on, node.keys, scope, src, src.text(node))

    def _eval_IndexSplat(self, node: IndexSplat, scope: Scope, src: Source) -> Value:
        return self._splat(node.on, node.keys, scope, src, src.text(node))

    def _splat(
        self,
        on_node: Expression,
        keys: list[Any],
        scope: Scope,
        src: Source,
        text: str,
    ) -> Value:
        on = self.eval(on_node, scope, src)
        if isinstance(on, UnknownValue):
            return on.derive(text)
        if on is None:
            items = []
        elif isinstance(on, list):
            items = list(on)
        else:
            items = [on]
        result = []
        for item in items:
            value = item
            for key in keys:
                if isinstance(key, GetAttrKey):
                    value = self._get_attr(value, key, text)
                elif isinstance(key, GetIndexKey):
                    value = self._get_index(
                        value, self.eval(key.expr, scope, src), text
                    )
            result.append(value)
        return result

    # --- operators --------------------------------------------------------------

    def _eval_UnaryExpression(
        self, node: UnaryExpression, scope: Scope, src: Source
    ) -> Value:
        value = self.eval(node.expr, scope, src)
        if isinstance(value, UnknownValue):
            return value.derive(src.text(node))
        if node.op.type == "-":
            return normalize_number(-to_number(value))
        return not to_bool(value)

    def _eval_BinaryExpression(
        self, node: BinaryExpression, scope: Scope, src: Source
    ) -> Value:
        op = node.op.type
        left = self.eval(node.left, scope, src)
        right = self.eval(node.right, scope, src)
        text = src.text(node)
        if op in ("&&", "||"):
            return _logic(op, left, right, text)
        for side in (left, right):
            if isinstance(side, UnknownValue):
                return side.derive(text)
        if op == "==":
            return tf_equal(left, right)
        if op == "!=":
            return not tf_equal(left, right)
        a, b = to_number(left), to_number(right)
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
        if op == "+":
            return normalize_number(a + b)
        if op == "-":
            return normalize_number(a - b)
        if op == "*":
            return normalize_number(a * b)
        if b == 0:
            raise EvalError(f"division by zero ({text})")
        if op == "/":
            return normalize_number(a / b)
        return normalize_number(a - b * int(a / b))  # "%" truncates toward zero

    def _eval_Conditional(self, node: Conditional, scope: Scope, src: Source) -> Value:
        condition = self.eval(node.cond, scope, src)
        if isinstance(condition, UnknownValue):
            then_value = self.eval(node.then_expr, scope, src)
            else_value = self.eval(node.else_expr, scope, src)
            known = not any(
                isinstance(v, UnknownValue) for v in (then_value, else_value)
            )
            if known and tf_equal(then_value, else_value):
                return then_value
            return condition.derive(src.text(node))
        chosen = node.then_expr if to_bool(condition) else node.else_expr
        return self.eval(chosen, scope, src)

    # --- for expressions --------------------------------------------------------

    def _for_items(
        self, node: ForTupleExpression | ForObjectExpression, scope: Scope, src: Source
    ) -> list[Scope] | UnknownValue:
        collection = self.eval(node.collection, scope, src)
        if isinstance(collection, UnknownValue):
            return collection.derive(src.text(node))
        if collection is None:
            raise EvalError(f"cannot iterate over null ({src.text(node)})")
        scopes = []
        for key, value in iterate(collection):
            names = {node.value_ident.name: value}
            if node.key_ident is not None:
                names[node.key_ident.name] = key
            child = scope.child(names)
            if node.condition is not None:
                keep = self.eval(node.condition, child, src)
                if isinstance(keep, UnknownValue):
                    return keep.derive(src.text(node))
                if not to_bool(keep):
                    continue
            scopes.append(child)
        return scopes

    def _eval_ForTupleExpression(
        self, node: ForTupleExpression, scope: Scope, src: Source
    ) -> Value:
        scopes = self._for_items(node, scope, src)
        if isinstance(scopes, UnknownValue):
            return scopes
        return [self.eval(node.value, child, src) for child in scopes]

    def _eval_ForObjectExpression(
        self, node: ForObjectExpression, scope: Scope, src: Source
    ) -> Value:
        scopes = self._for_items(node, scope, src)
        if isinstance(scopes, UnknownValue):
            return scopes
        result: dict[str, Value] = {}
        for child in scopes:
            key = self.eval(node.key, child, src)
            if isinstance(key, UnknownValue):
                return key.derive(src.text(node))
            name = to_string(key)
            value = self.eval(node.value, child, src)
            if node.grouping_mode:
                result.setdefault(name, []).append(value)
            elif name in result:
                raise EvalError(f"duplicate key {name!r} in {src.text(node)}")
            else:
                result[name] = value
        return result

    # --- function calls ---------------------------------------------------------

    def _eval_FunctionCall(
        self, node: FunctionCall, scope: Scope, src: Source
    ) -> Value:
        name = node.ident.name
        text = src.text(node)
        if name in ("try", "can"):
            return self._try(node, scope, src, can=name == "can")
        function = self.functions.get(name)
        if function is None:
            return UnknownValue(text, f"function {name} is not modelled")
        args = [self.eval(arg, scope, src) for arg in node.args]
        if node.var_args and args:
            last = args.pop()
            if isinstance(last, UnknownValue):
                return last.derive(text)
            if not isinstance(last, list):
                raise EvalError(f"expanding arguments needs a list ({text})")
            args.extend(last)
        for arg in args:
            if isinstance(arg, UnknownValue):
                return arg.derive(text)
        try:
            return function(*args)
        except NeedsUnknown as exc:
            return exc.unknown.derive(text)
        except TypeError:
            raise EvalError(f"wrong number of arguments for {name} ({text})") from None
        except EvalError as exc:
            raise EvalError(f"{exc.message} ({text})") from None

    def _try(self, node: FunctionCall, scope: Scope, src: Source, can: bool) -> Value:
        errors = []
        for arg in node.args:
            try:
                value = self.eval(arg, scope, src)
            except EvalError as exc:
                errors.append(exc.message)
                continue
            if isinstance(value, UnknownValue):
                return value.derive(src.text(node))
            return True if can else value
        if can:
            return False
        raise EvalError(f"no argument of try could be evaluated ({'; '.join(errors)})")


def _logic(op: str, left: Value, right: Value, text: str) -> Value:
    # A known operand can settle the result on its own: false && x, true || x.
    for side in (left, right):
        if not isinstance(side, UnknownValue) and to_bool(side) == (op == "||"):
            return op == "||"
    for side in (left, right):
        if isinstance(side, UnknownValue):
            return side.derive(text)
    return (
        to_bool(left) and to_bool(right)
        if op == "&&"
        else to_bool(left) or to_bool(right)
    )


def _next_template_start(raw: str, position: int) -> int:
    """Return the offset of the next ``${`` or ``%{`` (or its escape), or len(raw)."""
    best = len(raw)
    for marker in ("${", "%{"):
        found = raw.find(marker, position)
        if found > position and raw[found - 1] == marker[0]:
            found -= 1  # "$${" and "%%{" are escapes for a literal "${" and "%{"
        if 0 <= found < best:
            best = found
    return best


def _dedent(chunk: str, cut: int, at_line_start: bool) -> str:
    lines = chunk.split("\n")
    for number, line in enumerate(lines):
        if number == 0 and not at_line_start:
            continue
        width = len(line) - len(line.lstrip(" \t"))
        lines[number] = line[min(width, cut) :]
    return "\n".join(lines)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char != "\\" or position + 1 >= len(text):
            out.append(char)
            position += 1
            continue
        follower = text[position + 1]
        if follower in _ESCAPES:
            out.append(_ESCAPES[follower])
            position += 2
            continue
        match = _UNICODE_ESCAPE.match(text, position + 1)
        if match is not None:
            out.append(chr(int(match.group(1) or match.group(2), 16)))
            position = match.end()
            continue
        raise EvalError(f"invalid escape sequence \\{follower}")
    return "".join(out)
