"""The Terraform format: AWS, Azure and GCP firewall resources in ``.tf`` files.

A ``.tf`` file is read as part of its module (every ``.tf`` file of its
directory, with ``terraform.tfvars`` and ``*.auto.tfvars``), because
variables, locals and the resources that rules attach to may live in other
files. Each protected target (a security group, a network ACL, an NSG, a
GCP network and target) becomes one host :class:`Ruleset`. The file that
declares its resource returns it, and so does every file that adds rules
to it. Values that only ``terraform apply`` could know become Unknown
conditions. Nothing is executed and data sources are never read.

Resources and their models are described in ``_tf_aws``, ``_tf_azure`` and
``_tf_gcp``. Not modelled: modules called from the configuration (their
resources are not read), ``.tf.json`` files, ``-var`` and ``TF_VAR_``
values, ``%{ }`` template directives, and ties between resources other
than a shared ``# seglint: host=...`` directive.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from seglint.formats.base import FileAccess, Format, SourceFile
from seglint.hookspecs import hookimpl
from seglint.ir import Diagnostic, ParseError, ParseResult, Span

# pyhcl2 and the resource models take about 70 ms to import, so they are
# imported when a Terraform file is parsed, not when the format is registered.
if TYPE_CHECKING:
    from seglint.formats._tf_module import TfModule
    from seglint.formats._tf_rules import Draft

logger = logging.getLogger(__name__)

_TOP_LEVEL = re.compile(
    r'^\s*(resource|data|variable|provider|module|locals|terraform|output)\s+("[^"\n]*"\s*)*\{',
    re.MULTILINE,
)


def module_drafts(module: TfModule) -> list[Draft]:
    """Return the module's rulesets before filtering by file (computed once)."""
    from seglint.formats import _tf_aws, _tf_azure, _tf_gcp
    from seglint.formats._tf_rules import tie_by_directive

    if module.drafts is None:
        drafts: list[Draft] = []
        for convert in (_tf_aws.convert, _tf_azure.convert, _tf_gcp.convert):
            drafts.extend(convert(module))
        module.drafts = list(tie_by_directive(drafts))
    return module.drafts  # type: ignore[return-value]


class TerraformFormat:
    """Terraform configurations (HCL ``.tf`` files) parsed with pyhcl2."""

    id: str = "terraform"
    patterns: tuple[str, ...] = ("*.tf",)

    def detect(self, path: str, head: str) -> int:
        if path.endswith(".tf"):
            return 2
        if path.endswith((".tfvars", ".json", ".yaml", ".yml")):
            return 0
        return 1 if _TOP_LEVEL.search(head) else 0

    def parse(self, source: SourceFile, files: FileAccess) -> ParseResult:
        from seglint.formats._tf_module import load_module

        try:
            module = load_module(source, files)
            drafts = module_drafts(module)
        except ParseError:
            raise
        except RecursionError:
            raise ParseError(
                "expressions are nested too deeply to evaluate", Span(source.path, 1)
            ) from None
        error = module.errors.get(source.path)
        if error is not None:
            raise error
        # A ruleset is returned by every file that adds rules to it, so checking
        # only the changed files (as pre-commit does) still checks those rules.
        # Findings of a ruleset returned twice are the same and the run keeps one.
        rulesets = tuple(
            draft.ruleset() for draft in drafts if source.path in draft.files()
        )
        logger.debug("%s: %d terraform rulesets", source.path, len(rulesets))
        # NOTE: child modules are not evaluated, so their rules are not checked.
        diagnostics = tuple(
            Diagnostic("SEG902", f"module {name!r} is not followed: the rules it "
                       "creates are not checked (check its folder on its own)", span)
            for path, span, name in module.module_calls if path == source.path
        )
        return ParseResult(rulesets=rulesets, diagnostics=diagnostics)


@hookimpl
def seglint_formats() -> list[Format]:
    return [TerraformFormat()]
