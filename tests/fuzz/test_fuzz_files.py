"""Mutants of the corpus, the examples and per-format seeds: never a traceback.

Every mutant is checked beside an untouched valid file. A run must not
raise, every diagnostic must be a SEG901 or SEG903 with a line and column
of at least 1, the exit code must be 2 when there is one, and the valid
file's finding must still be reported. See fuzz_support for the mutations.
"""

from __future__ import annotations

import pytest
from fuzz_seeds import SEEDS
from fuzz_support import (
    MUTATIONS,
    Seed,
    corpus_seeds,
    example_seeds,
    fuzz_settings,
    mutate,
    place,
    run_mutant,
    workspace,
)
from hypothesis import given

CORPUS_SEEDS = corpus_seeds()
EXAMPLE_SEEDS = example_seeds()
SEED_NAMES = sorted(SEEDS)


def _check_seed(group: str, seed: Seed, mutations: list) -> None:  # type: ignore[type-arg]
    original = seed.path.read_bytes()
    with workspace() as root:
        location = place(root, seed, seed.path.name)
        run_mutant(group, root, location, mutate(original, mutations))


@pytest.mark.skipif(not CORPUS_SEEDS,
                    reason="../shared is not present (only in the development workspace)")
@pytest.mark.parametrize("seed", CORPUS_SEEDS, ids=[s.name for s in CORPUS_SEEDS])
@fuzz_settings(examples=10)
@given(mutations=MUTATIONS)
def test_corpus(seed: Seed, mutations: list) -> None:  # type: ignore[type-arg]
    _check_seed("corpus", seed, mutations)


@pytest.mark.parametrize("seed", EXAMPLE_SEEDS, ids=[s.name for s in EXAMPLE_SEEDS])
@fuzz_settings(examples=10)
@given(mutations=MUTATIONS)
def test_examples(seed: Seed, mutations: list) -> None:  # type: ignore[type-arg]
    _check_seed("examples", seed, mutations)


@pytest.mark.parametrize("name", SEED_NAMES)
@fuzz_settings(examples=40)
@given(mutations=MUTATIONS)
def test_seeds(name: str, mutations: list) -> None:  # type: ignore[type-arg]
    original = SEEDS[name].encode()
    with workspace() as root:
        location = root / "mutant" / name
        location.parent.mkdir()
        run_mutant("seeds", root, location, mutate(original, mutations))
