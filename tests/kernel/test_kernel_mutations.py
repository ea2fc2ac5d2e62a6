"""The harness catches a broken engine: each mutant must cause disagreements.

For every mutant of :mod:`kernel_mutants` the usual pipeline (render,
parse, load, random and witness packets, compare) runs on two small rule
sets that use the construct the mutant breaks. The same rule sets agree
with the real engine (checked first), so the disagreements come from the
mutation alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402
from kernel_diff import TOTALS, run_iptables  # noqa: E402
from kernel_gen import TCP, UDP, Cond, Model, ModelChain, ModelRule  # noqa: E402
from kernel_mutants import MUTANTS  # noqa: E402


def model(*chains: tuple[str, str | None, list[ModelRule]]) -> Model:
    built = Model(
        frozenset({4}),
        [ModelChain(name, rules, policy) for name, policy, rules in chains],
    )
    built.hot_addresses = {4: [0x0A000001, 0xC0000201]}
    built.hot_ports = [22, 53, 1000, 2000]
    return built


def rule(target: str, *conds: Cond, chain: str = "") -> ModelRule:
    return ModelRule(list(conds), target, chain)


TCP_ = Cond("proto", TCP)
UDP_ = Cond("proto", UDP)
SETS = {
    "negation-ignored": [
        model(
            (
                "INPUT",
                "DROP",
                [rule("ACCEPT", TCP_, Cond("src", ("10.0.0.0/8",), True))],
            )
        ),
        model(
            ("INPUT", "ACCEPT", [rule("DROP", UDP_, Cond("dport", ((53, 53),), True))])
        ),
    ],
    "port-range-short": [
        model(
            ("INPUT", "DROP", [rule("ACCEPT", TCP_, Cond("dport", ((1000, 2000),)))])
        ),
        model(
            (
                "INPUT",
                "ACCEPT",
                [
                    rule(
                        "DROP",
                        UDP_,
                        Cond("dport", ((22, 53), (1000, 2000)), spelling="multiport"),
                    )
                ],
            )
        ),
    ],
    "state-ignored": [
        model(("INPUT", "DROP", [rule("ACCEPT", Cond("state", ("established",)))])),
        model(("INPUT", "ACCEPT", [rule("DROP", TCP_, Cond("state", ("new",)))])),
    ],
    "return-as-accept": [
        model(
            ("INPUT", "DROP", [rule("JUMP", TCP_, chain="c0")]),
            ("c0", None, [rule("RETURN", TCP_, Cond("dport", ((22, 22),), True))]),
        ),
        model(("INPUT", "DROP", [rule("RETURN", UDP_)])),
    ],
    "goto-as-jump": [
        model(
            ("INPUT", "ACCEPT", [rule("GOTO", TCP_, chain="c0"), rule("DROP", TCP_)]),
            ("c0", None, [rule("ACCEPT", TCP_, Cond("dport", ((22, 22),)))]),
        ),
        model(
            ("INPUT", "DROP", [rule("GOTO", chain="c0"), rule("ACCEPT")]),
            ("c0", None, [rule("DROP", UDP_)]),
        ),
    ],
    "wildcard-exact": [
        model(("INPUT", "DROP", [rule("ACCEPT", Cond("iif", "veth+"))])),
        model(("INPUT", "ACCEPT", [rule("DROP", Cond("iif", "vet+"), TCP_)])),
    ],
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mutant_is_caught(lab, monkeypatch, mutant):
    for index, built in enumerate(SETS[mutant]):
        comparison, text = run_iptables(lab, built, index, record=False)
        assert not comparison.disagreements, text
    caught = 0
    with monkeypatch.context() as patch:
        MUTANTS[mutant](patch)
        for index, built in enumerate(SETS[mutant]):
            comparison, _ = run_iptables(lab, built, index, record=False)
            caught += len(comparison.disagreements)
    TOTALS.mutants[mutant] = caught
    assert caught > 0
