"""Terraform evaluation: templates, functions, unknowns, locals, tfvars, expansion."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from seglint.formats._tf_eval import Evaluator, Namespace, Scope, Source
from seglint.formats._tf_hcl import parse_hcl
from seglint.formats._tf_module import TfModule, load_module
from seglint.formats._tf_values import EvalError, TfSet, UnknownValue, Value
from seglint.formats.base import FileAccess, read_source
from seglint.ir import Span

VARIABLES = {"x": "b", "list": ["a", "b"], "port": 25, "map": {"k": "v"}}


def evaluate(expression: str, variables: dict[str, Value] | None = None) -> Value:
    file = parse_hcl(f"value = {expression}\n", "t.tf")
    names = VARIABLES if variables is None else variables
    scope = Scope({"var": Namespace("var", names)})
    return Evaluator().eval(file.module.body[0].value, scope, Source(file))


def module(tmp_path: Path, files: dict[str, str], main: str = "main.tf") -> TfModule:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    source = read_source(tmp_path / main, main)
    return load_module(source, FileAccess(tmp_path, tmp_path))


# --- templates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('"a-${var.x}"', "a-b"),
        ('"${var.x}"', "b"),
        ('"${var.list}"', ["a", "b"]),
        ('"${var.port}"', 25),
        ('"${1 + 2}"', 3),
        ('"p${var.port}"', "p25"),
        ('"\\"q\\" \\\\ \\n"', '"q" \\ \n'),
        ('"$${lit} %%{x}"', "${lit} %{x}"),
        ('"\\u00e9"', "\u00e9"),
        ('"a ${~ var.x ~} c"', "abc"),
        ('"${var.map["k"]}-${var.list[1]}"', "v-b"),
        ('"${format("%s/%d", var.x, 8)}"', "b/8"),
        ('"${merge(map("Name","${var.x}_sg"), {a = 1})}"', {"Name": "b_sg", "a": 1}),
    ],
)
def test_template(expression: str, expected: Value) -> None:
    assert evaluate(expression) == expected


def test_template_unknown_part() -> None:
    value = evaluate('"a-${data.x.y.id}"')
    assert isinstance(value, UnknownValue)
    assert value.text == '"a-${data.x.y.id}"'
    assert value.reason == "data sources are not evaluated"


def test_template_directive_is_unknown() -> None:
    value = evaluate('"%{ if true }x%{ endif }"')
    assert isinstance(value, UnknownValue)
    assert "directives" in value.reason


def test_heredoc_template() -> None:
    file = parse_hcl("value = <<-EOT\n\t\thello ${var.x}\n\t  next\n\tEOT\n", "t.tf")
    scope = Scope({"var": Namespace("var", VARIABLES)})
    value = Evaluator().eval(file.module.body[0].value, scope, Source(file))
    assert value == "hello b\n next\n"


def test_heredoc_keeps_backslashes() -> None:
    file = parse_hcl("value = <<EOT\na\\nb\nEOT\n", "t.tf")
    value = Evaluator().eval(file.module.body[0].value, Scope({}), Source(file))
    assert value == "a\\nb\n"


# --- expressions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("7 / 2", 3.5),
        ("-7 % 3", -1),
        ("var.port == 25 && !false", True),
        ('"1" == 1', False),
        ('var.port > 10 ? "big" : "small"', "big"),
        ('[for s in var.list : upper(s) if s != "a"]', ["B"]),
        ("{for i, s in var.list : s => i}", {"a": 0, "b": 1}),
        ('{for s in ["a", "b", "a"] : s => s...}', {"a": ["a", "a"], "b": ["b"]}),
        ("var.list[*]", ["a", "b"]),
        ("[{p = 1}, {p = 2}][*].p", [1, 2]),
        ("[{p = 1}, {p = 2}].*.p", [1, 2]),
        ("null", None),
        ("var.map.k", "v"),
    ],
)
def test_expression(expression: str, expected: Value) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('concat(["a"], ["b", "c"])', ["a", "b", "c"]),
        ('flatten([["a"], [["b"]], "c"])', ["a", "b", "c"]),
        ('distinct(["a", "b", "a"])', ["a", "b"]),
        ('toset(["b", "a", "b"])', ["a", "b"]),
        ('tolist(toset(["b", "a"]))', ["a", "b"]),
        ("tostring(5)", "5"),
        ('tonumber("42")', 42),
        ('cidrsubnet("10.0.0.0/16", 8, 3)', "10.0.3.0/24"),
        ('cidrsubnet("2001:db8::/32", 16, 1)', "2001:db8:1::/48"),
        ('cidrhost("10.0.1.0/24", 5)', "10.0.1.5"),
        ('cidrhost("10.0.1.0/24", -2)', "10.0.1.254"),
        ('lookup({a = "x"}, "a")', "x"),
        ('lookup({a = "x"}, "b", "d")', "d"),
        ("merge({a = 1, b = 2}, {b = 3})", {"a": 1, "b": 3}),
        (
            'format("%s:%05d %q %v %t %%", "a", 42, "q", 1, true)',
            'a:00042 "q" 1 true %',
        ),
        ('join(",", ["a", "b"], ["c"])', "a,b,c"),
        ('split(",", "a,b")', ["a", "b"]),
        ('split(",", "")', []),
        ("range(3)", [0, 1, 2]),
        ("range(1, 7, 2)", [1, 3, 5]),
        ("range(3, 0)", [3, 2, 1]),
        ('coalesce("", null, "x")', "x"),
        ('compact(["a", "", null, "b"])', ["a", "b"]),
        ('try(var.list[5], "fallback")', "fallback"),
        ("try(var.list[0])", "a"),
        ('length("abc")', 3),
        ("length(var.map)", 1),
        ("element(var.list, 3)", "b"),
        ("keys({b = 1, a = 2})", ["a", "b"]),
        ("values({b = 1, a = 2})", [2, 1]),
        ('contains(["a", "b"], "b")', True),
        ('contains(["a"], "z")', False),
        ('lower("AbC")', "abc"),
        ('upper("abc")', "ABC"),
        ('list("a", "b")', ["a", "b"]),
        ('map("a", 1, "b", 2)', {"a": 1, "b": 2}),
        ("can(var.list[9])", False),
        ("max(1, 5, 3)", 5),
        ('replace("a-b-c", "-", "_")', "a_b_c"),
        ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
        ('format("%s%s", var.list...)', "ab"),
    ],
)
def test_function(expression: str, expected: Value) -> None:
    assert evaluate(expression) == expected


def test_toset_is_a_set() -> None:
    assert isinstance(evaluate('toset(["a"])'), TfSet)


@pytest.mark.parametrize(
    "expression",
    [
        "var.list[5]",
        'var.map["zz"]',
        'lookup({}, "a")',
        'cidrsubnet("10.0.0.0/30", 8, 1)',
        "range(5000)",
        'coalesce("", null)',
        '"a" + 1',
        "var.map.k.z",
        "1 / 0",
        "element([], 0)",
    ],
)
def test_invalid_expression(expression: str) -> None:
    with pytest.raises(EvalError):
        evaluate(expression)


# --- unknown values -------------------------------------------------------------------


def test_data_source_is_unknown() -> None:
    value = evaluate("data.terraform_remote_state.vpc.outputs.cidr")
    assert isinstance(value, UnknownValue)
    assert value.text == "data.terraform_remote_state.vpc.outputs.cidr"


def test_resource_reference_keeps_path() -> None:
    value = evaluate("aws_security_group.mail[0].id")
    assert isinstance(value, UnknownValue)
    assert value.path == ("aws_security_group", "mail", 0, "id")
    assert value.reason == "resource attributes are known only after apply"


def test_module_output_is_unknown() -> None:
    value = evaluate("module.vpc.cidr")
    assert isinstance(value, UnknownValue)
    assert value.reason == "module outputs are not evaluated"


def test_undeclared_variable_is_unknown() -> None:
    value = evaluate("var.nope")
    assert isinstance(value, UnknownValue)
    assert value.reason == "var.nope is not declared in this module"


def test_function_of_unknown_is_unknown() -> None:
    value = evaluate('compact(concat(split(",", data.x.y), var.list))')
    assert isinstance(value, UnknownValue)
    assert value.text == 'compact(concat(split(",", data.x.y), var.list))'


def test_unknown_inside_list_stays_an_element() -> None:
    value = evaluate('["10.0.0.0/8", data.x.y]')
    assert value[0] == "10.0.0.0/8"
    assert isinstance(value[1], UnknownValue)


def test_conditional_on_unknown_with_equal_branches() -> None:
    assert evaluate('data.x.y ? "same" : "same"') == "same"


def test_conditional_on_unknown() -> None:
    assert isinstance(evaluate('data.x.y ? "a" : "b"'), UnknownValue)


def test_logic_settled_by_known_side() -> None:
    assert evaluate("false && data.x.y") is False


def test_unknown_function_is_unknown() -> None:
    value = evaluate('jsondecode("{}")')
    assert isinstance(value, UnknownValue)
    assert value.reason == "function jsondecode is not modelled"


def test_try_of_unknown_is_unknown() -> None:
    assert isinstance(evaluate('try(data.x.y, "d")'), UnknownValue)


# --- variables, tfvars and locals -----------------------------------------------------


def test_variable_default(tmp_path: Path) -> None:
    mod = module(
        tmp_path, {"main.tf": 'variable "a" {\n  default = ["10.0.0.0/8"]\n}\n'}
    )
    assert mod.scope.lookup("var").values["a"] == ["10.0.0.0/8"]


def test_variable_without_value_is_unknown(tmp_path: Path) -> None:
    mod = module(tmp_path, {"main.tf": 'variable "a" {\n  type = list(string)\n}\n'})
    value = mod.scope.lookup("var").values["a"]
    assert isinstance(value, UnknownValue)
    assert value.text == "var.a"


def test_tfvars_precedence(tmp_path: Path) -> None:
    files = {
        "main.tf": """\
            variable "a" { default = "default" }
            variable "b" { default = "default" }
            variable "c" { default = "default" }
            variable "d" { default = "default" }
            variable "e" { default = "default" }
            """,
        "terraform.tfvars": 'b = "tfvars"\nc = "tfvars"\nd = "tfvars"\ne = "tfvars"\n',
        "terraform.tfvars.json": '{"c": "json", "d": "json", "e": "json"}',
        "a.auto.tfvars": 'd = "a-auto"\ne = "a-auto"\n',
        "b.auto.tfvars.json": '{"e": "b-auto"}',
    }
    values = module(tmp_path, files).scope.lookup("var").values
    assert values["a"] == "default"
    assert values["b"] == "tfvars"
    assert values["c"] == "json"
    assert values["d"] == "a-auto"
    assert values["e"] == "b-auto"


def test_tfvars_error_reported_on_first_file(tmp_path: Path) -> None:
    mod = module(
        tmp_path, {"main.tf": 'variable "a" {}\n', "terraform.tfvars": "a = = 1\n"}
    )
    error = mod.errors["main.tf"]
    assert error.span.path == "terraform.tfvars"
    assert error.span.line == 1


def test_locals_in_dependency_order(tmp_path: Path) -> None:
    files = {
        "main.tf": 'locals {\n  c = "${local.b}/24"\n  b = local.a\n}\n',
        "other.tf": 'locals {\n  a = "10.0.0.0"\n}\n',
    }
    locals_ = module(tmp_path, files).locals
    assert locals_.get("c", "local.c") == "10.0.0.0/24"


def test_locals_cycle_is_error(tmp_path: Path) -> None:
    files = {
        "main.tf": (
            "locals {\n  ok = 1\n  a = local.b\n  b = [local.a]\n  c = local.a\n}\n"
        )
    }
    mod = module(tmp_path, files)
    error = mod.errors["main.tf"]
    assert error.message == "locals form a cycle (local.a -> local.b -> local.a)"
    assert error.span == Span("main.tf", 3, 3, 3, 13)
    assert mod.locals.values["ok"] == 1
    assert isinstance(mod.locals.values["c"], UnknownValue)


def test_local_with_invalid_expression_is_unknown(tmp_path: Path) -> None:
    mod = module(tmp_path, {"main.tf": "locals {\n  a = [1][5]\n}\n"})
    value = mod.locals.values["a"]
    assert isinstance(value, UnknownValue)
    assert value.reason.startswith("cannot be evaluated: index 5 is out of range")


# --- count, for_each, dynamic ---------------------------------------------------------


def test_count_instances(tmp_path: Path) -> None:
    mod = module(
        tmp_path,
        {"main.tf": 'resource "t" "r" {\n  count = 2\n  v = count.index * 10\n}\n'},
    )
    instances = mod.instances(mod.resources[0])
    assert [i.address for i in instances] == ["t.r[0]", "t.r[1]"]
    assert [i.body.value("v") for i in instances] == [0, 10]


def test_count_zero(tmp_path: Path) -> None:
    mod = module(tmp_path, {"main.tf": 'resource "t" "r" {\n  count = 0\n}\n'})
    assert mod.instances(mod.resources[0]) == []


def test_count_unknown_is_one_instance(tmp_path: Path) -> None:
    mod = module(
        tmp_path, {"main.tf": 'resource "t" "r" {\n  count = length(data.x.y)\n}\n'}
    )
    instances = mod.instances(mod.resources[0])
    assert len(instances) == 1
    assert instances[0].diagnostics[0].rule_id == "SEG902"
    assert instances[0].diagnostics[0].span.line == 2


def test_for_each_map(tmp_path: Path) -> None:
    text = (
        'resource "t" "r" {\n  for_each = {b = 2, a = 1}\n'
        '  v = "${each.key}=${each.value}"\n}\n'
    )
    mod = module(tmp_path, {"main.tf": text})
    instances = mod.instances(mod.resources[0])
    assert [i.address for i in instances] == ['t.r["a"]', 't.r["b"]']
    assert [i.body.value("v") for i in instances] == ["a=1", "b=2"]


def test_for_each_set(tmp_path: Path) -> None:
    text = 'resource "t" "r" {\n  for_each = toset(["y", "x"])\n  v = each.value\n}\n'
    mod = module(tmp_path, {"main.tf": text})
    assert [i.body.value("v") for i in mod.instances(mod.resources[0])] == ["x", "y"]


DYNAMIC = """\
locals {
  rules = [{port = 22, cidr = "10.0.0.0/8"}, {port = 443, cidr = "0.0.0.0/0"}]
}
resource "t" "r" {
  static {
    port = 1
  }
  dynamic "static" {
    for_each = local.rules
    iterator = rule
    content {
      port = rule.value.port
      key  = rule.key
    }
  }
  dynamic "static" {
    for_each = data.x.y
    content {
      port = static.value
    }
  }
}
"""


def test_dynamic_blocks(tmp_path: Path) -> None:
    mod = module(tmp_path, {"main.tf": DYNAMIC})
    blocks = mod.instances(mod.resources[0])[0].body.blocks("static")
    assert [b.value("port") for b in blocks[:3]] == [1, 22, 443]
    assert [b.value("key") for b in blocks[1:3]] == [0, 1]
    assert [b.span.line for b in blocks] == [5, 8, 8, 16]
    assert [b.instance for b in blocks[:3]] == ["", "rule.key=0", "rule.key=1"]


def test_dynamic_unknown_for_each(tmp_path: Path) -> None:
    mod = module(tmp_path, {"main.tf": DYNAMIC})
    last = mod.instances(mod.resources[0])[0].body.blocks("static")[-1]
    assert isinstance(last.exists, UnknownValue)
    assert last.exists.text == "data.x.y"
    assert isinstance(last.value("port"), UnknownValue)


def test_nested_dynamic(tmp_path: Path) -> None:
    text = """\
        resource "t" "r" {
          dynamic "outer" {
            for_each = [["a", "b"]]
            content {
              dynamic "inner" {
                for_each = outer.value
                content {
                  name = inner.value
                }
              }
            }
          }
        }
        """
    mod = module(tmp_path, {"main.tf": text})
    outer = mod.instances(mod.resources[0])[0].body.blocks("outer")
    assert [b.value("name") for b in outer[0].blocks("inner")] == ["a", "b"]


def test_attributes_as_blocks(tmp_path: Path) -> None:
    text = 'resource "t" "r" {\n  ingress = [{port = 1}, {port = 2}]\n}\n'
    mod = module(tmp_path, {"main.tf": text})
    blocks = mod.instances(mod.resources[0])[0].body.blocks("ingress")
    assert [b.value("port") for b in blocks] == [1, 2]
    assert blocks[0].span.line == 2


def test_sibling_file_with_syntax_error(tmp_path: Path) -> None:
    files = {"main.tf": 'variable "a" { default = 1 }\n', "broken.tf": "x = = 1\n"}
    mod = module(tmp_path, files)
    assert mod.scope.lookup("var").values["a"] == 1
    assert mod.errors["broken.tf"].span.line == 1


# --- limits -----------------------------------------------------------------------


def test_evaluation_budget_makes_unknown(tmp_path: Path) -> None:
    text = """\
        locals {
          big = [for a in range(1000) : [for b in range(1000) : [a, b]]]
          ok  = 1
        }
        """
    mod = module(tmp_path, {"main.tf": text})
    big = mod.locals.values["big"]
    assert isinstance(big, UnknownValue)
    assert "too many evaluation steps" in big.reason


def test_format_width_limit() -> None:
    with pytest.raises(EvalError):
        evaluate('format("%999999999s", "a")')


def test_count_limit(tmp_path: Path) -> None:
    mod = module(tmp_path, {"main.tf": 'resource "t" "r" {\n  count = 100000\n}\n'})
    assert mod.instances(mod.resources[0]) == []
    error = mod.errors["main.tf"]
    assert error.message == "count creates too many instances to check (100000 > 1000)"
    assert error.span.line == 2


def test_sibling_files_are_not_includes(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('variable "a" {}\n')
    (tmp_path / "other.tf").write_text('variable "b" {}\n')
    (tmp_path / "terraform.tfvars").write_text('a = "x"\n')
    access = FileAccess(tmp_path, tmp_path)
    load_module(read_source(tmp_path / "main.tf", "main.tf"), access)
    assert access.read_paths == {(tmp_path / "terraform.tfvars").resolve()}
