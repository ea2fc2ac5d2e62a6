"""The engine against the kernel on random nftables rule sets (input hook).

Each rule set has an ``inet`` table with one or two base chains on the
hook (different priorities and policies), and sometimes an ``ip`` or
``ip6`` table with a base chain of its own. Rules use user chains reached
by jump and goto, return, anonymous and named sets, prefixes, ranges and
negation. The rule set is written as an ``nft -f`` file, parsed by
seglint's nftables format and loaded with ``nft -f``. Packets of both
families are compared, on the input hook and on the output hook.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from kernel_diff import examples, failure_report, run_nft  # noqa: E402
from kernel_gen import nft_models  # noqa: E402

SLOW = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
]


@settings(max_examples=examples(100), deadline=None, suppress_health_check=SLOW)
@given(model=nft_models(), seed=st.integers(0, 2**32 - 1))
def test_random_nftables(lab, model, seed):
    comparison, text = run_nft(lab, model, seed)
    assert not comparison.lost, failure_report(text, comparison)
    assert not comparison.disagreements, failure_report(text, comparison)


@settings(max_examples=examples(30), deadline=None, suppress_health_check=SLOW)
@given(model=nft_models(hook="output"), seed=st.integers(0, 2**32 - 1))
def test_random_nftables_output(lab, model, seed):
    comparison, text = run_nft(lab, model, seed)
    assert not comparison.lost, failure_report(text, comparison)
    assert not comparison.disagreements, failure_report(text, comparison)
