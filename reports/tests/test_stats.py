"""gortreport.stats on sample sets whose answers are known."""

import math

import pytest

from gortreport import stats


def test_mann_whitney_complete_separation_exact():
    # Exact two-sided p of 5 vs 5 with no overlap: 2 / C(10, 5) = 2/252.
    assert stats.mann_whitney_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)


def test_mann_whitney_scipy_documented_example():
    # SciPy's own example (mannwhitneyu docs): U1 = 17, exact p = 0.1111.
    males = [19, 22, 16, 29, 24]
    females = [20, 11, 17, 12]
    assert stats.mann_whitney_p(females, males) == pytest.approx(0.1111111111111111)


def test_mann_whitney_identical_samples_with_ties():
    # Every value tied across the sides: nothing to see (normal approximation).
    assert stats.mann_whitney_p([5.0] * 9, [5.0] * 9) == pytest.approx(1.0)


def test_mann_whitney_needs_values():
    with pytest.raises(ValueError):
        stats.mann_whitney_p([], [1.0])


def test_holm_known_vector():
    # sorted: 0.01*4 = 0.04, 0.03*3 = 0.09, 0.04*2 = 0.08 -> monotone 0.09, 0.2*1.
    assert stats.holm([0.01, 0.04, 0.03, 0.2]) == pytest.approx([0.04, 0.09, 0.09, 0.2])


def test_holm_caps_at_one_and_handles_empty():
    assert stats.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert stats.holm([]) == []


@pytest.mark.parametrize("n, m, k", [(9, 9, 18), (5, 5, 3), (10, 10, 24)])
def test_hl_rank_matches_exact_tables(n, m, k):
    # Hollander & Wolfe's table (two-sided 95%): C = U_crit + 1.
    assert stats.hl_rank(n, m, 0.95) == k


def test_hodges_lehmann_known_shift():
    base = [100.0 + i for i in range(9)]
    cur = [x * 1.2 for x in base]
    ch = stats.hodges_lehmann_change(base, cur)
    assert ch.estimate == pytest.approx(0.2)
    assert ch.low < 0.2 < ch.high
    # The 18th smallest of the 81 pairwise ratios (exact for this set).
    ratios = sorted(c / b for c in cur for b in base)
    assert ch.low == pytest.approx(ratios[17] - 1)
    assert ch.high == pytest.approx(ratios[81 - 18] - 1)


def test_hodges_lehmann_no_change_interval_contains_zero():
    base = [10.0, 11.0, 9.5, 10.2, 10.8, 9.9, 10.1, 10.4, 9.7]
    ch = stats.hodges_lehmann_change(base, list(reversed(base)))
    assert ch.estimate == pytest.approx(0.0, abs=1e-12)
    assert ch.low < 0 < ch.high


def test_hodges_lehmann_tiny_samples_give_the_whole_range():
    ch = stats.hodges_lehmann_change([1.0, 2.0], [2.0, 4.0])
    assert (ch.low, ch.high) == pytest.approx((0.0, 3.0))
    assert not math.isnan(ch.estimate)
