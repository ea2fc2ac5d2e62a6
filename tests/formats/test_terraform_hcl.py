"""Terraform HCL layer: parser reuse, spans, heredocs, syntax errors, directives."""

from __future__ import annotations

import pytest
from pyhcl2.nodes import Attribute, Block

from seglint.formats import _tf_hcl
from seglint.formats._tf_hcl import LineIndex, heredoc_body, parse_hcl, prepass
from seglint.ir import ParseError, Span


def block(text: str, index: int = 0) -> Block:
    stmt = parse_hcl(text, "t.tf").module.body[index]
    assert isinstance(stmt, Block)
    return stmt


def test_parser_built_once() -> None:
    assert _tf_hcl.hcl_parser() is _tf_hcl.hcl_parser()


def test_parse_uses_cached_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = _tf_hcl.Lark

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    _tf_hcl.hcl_parser()
    monkeypatch.setattr(_tf_hcl, "Lark", counting)
    parse_hcl("a = 1\n", "t.tf")
    parse_hcl("b = 2\n", "t.tf")
    assert calls == []


def test_parser_cache_is_json(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SEGLINT_NO_CACHE", raising=False)
    monkeypatch.delenv("SEGLINT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _tf_hcl.hcl_parser.cache_clear()
    parse_hcl("a = 1\n", "t.tf")
    _tf_hcl.hcl_parser.cache_clear()
    (stored,) = (tmp_path / "seglint").iterdir()
    assert stored.suffix == ".json"


def test_parser_cache_off(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SEGLINT_NO_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _tf_hcl.hcl_parser.cache_clear()
    parse_hcl("a = 1\n", "t.tf")
    _tf_hcl.hcl_parser.cache_clear()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(0, (1, 1)), (3, (1, 4)), (4, (2, 1)), (6, (2, 3)), (9, (3, 1)), (99, (3, 2))],
)
def test_line_index_positions(offset: int, expected: tuple[int, int]) -> None:
    assert LineIndex("abc\nxyzw\nq").position(offset) == expected


def test_block_span_ends_at_brace() -> None:
    text = (
        'resource "a" "b" {\n  ingress {\n    x = 1\n  } # trailing }\n\n  # note\n}\n'
    )
    file = parse_hcl(text, "t.tf")
    outer = file.module.body[0]
    inner = outer.body[0]
    assert file.span(outer) == Span("t.tf", 1, 1, 7, 1)
    assert file.span(inner) == Span("t.tf", 2, 3, 4, 3)


def test_attribute_span() -> None:
    file = parse_hcl('x {\n  cidr_blocks = ["0.0.0.0/0"]\n}\n', "t.tf")
    attr = file.module.body[0].body[0]
    assert isinstance(attr, Attribute)
    assert file.span(attr) == Span("t.tf", 2, 3, 2, 29)


def test_block_span_after_multiline_string_placeholder() -> None:
    text = "r {\n  d = <<EOT\nline }\nEOT\n  ingress {\n  }\n}\n"
    file = parse_hcl(text, "t.tf")
    ingress = file.module.body[0].body[1]
    assert file.span(ingress) == Span("t.tf", 5, 3, 6, 3)


# --- heredocs -------------------------------------------------------------------------


def test_heredoc_quote_is_text() -> None:
    text = (
        'r {\n  d = <<EOT\nRelay for "mail\ngateway" hosts\nEOT\n  ingress {\n  }\n}\n'
    )
    scan = prepass(text, "t.tf")
    heredoc = scan.heredocs[text.index("<<")]
    assert heredoc_body(text, heredoc) == ('Relay for "mail\ngateway" hosts\n', 0)


def test_heredoc_ends_only_at_exact_delimiter_line() -> None:
    text = "d = <<DESC\nnot closed here DESC\nDESCRIPTION\nDESC\nx = 1\n"
    scan = prepass(text, "t.tf")
    heredoc = scan.heredocs[4]
    assert heredoc_body(text, heredoc)[0] == "not closed here DESC\nDESCRIPTION\n"


def test_heredoc_indented_terminator() -> None:
    text = "d = <<EOT\n  body\n  EOT\n"
    heredoc = prepass(text, "t.tf").heredocs[4]
    assert heredoc_body(text, heredoc) == ("  body\n", 0)


def test_heredoc_tabs_trimmed() -> None:
    text = "d = <<-EOT\n\t\tindented with tabs\n\t  more\n\tEOT\n"
    heredoc = prepass(text, "t.tf").heredocs[4]
    assert heredoc_body(text, heredoc) == ("\t\tindented with tabs\n\t  more\n", 2)


def test_heredoc_empty_body() -> None:
    text = "d = <<EOT\nEOT\nx = 1\n"
    heredoc = prepass(text, "t.tf").heredocs[4]
    assert heredoc_body(text, heredoc) == ("", 0)


def test_heredoc_keeps_offsets() -> None:
    text = 'a = <<EOT\nx "y\nEOT\nb = 1\n'
    prepared = prepass(text, "t.tf").prepared
    assert len(prepared) == len(text)
    assert prepared.count("\n") == text.count("\n")


def test_unterminated_heredoc_error_line() -> None:
    text = (
        'resource "a" "b" {\n  description = <<DESC\nnever closed\n'
        "  ingress {\n  }\n}\n"
    )
    with pytest.raises(ParseError) as caught:
        parse_hcl(text, "unclosed.tf")
    assert caught.value.span == Span("unclosed.tf", 2, 17, 2, 17)
    assert "DESC" in caught.value.message


def test_heredoc_marker_inside_string_is_text() -> None:
    file = parse_hcl('a = "<<EOT"\n', "t.tf")
    assert file.heredocs == {}


def test_heredoc_marker_inside_comment_is_text() -> None:
    file = parse_hcl("# a = <<EOT\nb = 1\n", "t.tf")
    assert file.heredocs == {}


# --- syntax errors --------------------------------------------------------------------


def test_unterminated_string_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_hcl('a = 1\nb = "open\nc = 2\n', "t.tf")
    assert caught.value.span.line == 2
    assert caught.value.span.column == 5


def test_unterminated_comment_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_hcl("a = 1\n/* open\n", "t.tf")
    assert caught.value.span.line == 2


def test_syntax_error_position_and_expected() -> None:
    with pytest.raises(ParseError) as caught:
        parse_hcl('resource "a" "b" {\n  x = = 1\n}\n', "t.tf")
    assert caught.value.span.line == 2
    assert caught.value.span.column == 7
    assert caught.value.message.startswith("syntax error: unexpected '='")
    assert "expected one of" in caught.value.message


def test_missing_brace_reports_end() -> None:
    with pytest.raises(ParseError) as caught:
        parse_hcl('resource "a" "b" {\n  x = 1\n', "t.tf")
    assert caught.value.span == Span("t.tf", 2, 8, 2, 8)
    assert "unexpected end of file" in caught.value.message


def test_file_without_final_newline() -> None:
    file = parse_hcl("a = 1 # comment", "t.tf")
    assert len(file.module.body) == 1


def test_empty_file() -> None:
    assert parse_hcl("", "t.tf").module.body == []


# --- directives -----------------------------------------------------------------------


def test_directive_directly_above() -> None:
    text = '# intro\n# seglint: host=array-manager\nresource "a" "b" {\n}\n'
    file = parse_hcl(text, "t.tf")
    assert file.directives_above(3) == {"host": "array-manager"}


def test_directive_separated_by_blank_line_is_ignored() -> None:
    text = '# seglint: host=array-manager\n\nresource "a" "b" {\n}\n'
    assert parse_hcl(text, "t.tf").directives_above(3) == {}


def test_directive_skips_disable() -> None:
    text = '# seglint: disable=SEG201 host=sql-server\nresource "a" "b" {\n}\n'
    assert parse_hcl(text, "t.tf").directives_above(2) == {"host": "sql-server"}
