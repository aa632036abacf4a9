"""The statistics shared by the report and the gate, from libraries.

- The two-sided Mann-Whitney U test is SciPy's (scipy.stats.mannwhitneyu):
  exact when the samples have no ties, the normal approximation otherwise.
- Holm-Bonferroni is statsmodels' (multipletests(method="holm")).
- The change of current over base is the Hodges-Lehmann estimate on log
  times (the median of every pairwise log ratio), reported as a ratio minus
  one, with the distribution-free confidence interval that inverts the same
  U test (Hollander & Wolfe, ch. 4): the k-th smallest and k-th largest
  pairwise log ratios, where k comes from the U statistic's critical value
  (normal approximation, rounded down: never narrower than asked).

Log times make the change a ratio (a 20% slowdown is +0.2 whatever the
benchmark's scale) and the shift model holds for multiplicative noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
# Neither ships type information (no stubs in Debian).
from scipy import stats as sps  # type: ignore[import]
from statsmodels.stats.multitest import multipletests  # type: ignore[import]


@dataclass(frozen=True)
class Change:
    """current/base - 1 with its confidence interval [low, high]."""

    estimate: float
    low: float
    high: float


def _has_ties(x: Sequence[float], y: Sequence[float]) -> bool:
    both = list(x) + list(y)
    return len(set(both)) < len(both)


def mann_whitney_p(base: Sequence[float], current: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value (SciPy). Samples need 1+ values each."""
    if not base or not current:
        raise ValueError("mann_whitney_p needs at least one value on each side")
    method = "asymptotic" if _has_ties(base, current) else "exact"
    res = sps.mannwhitneyu(current, base, alternative="two-sided", method=method)
    return float(res.pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given (statsmodels)."""
    if not pvalues:
        return []
    _, adjusted, _, _ = multipletests(list(pvalues), method="holm")
    return [float(p) for p in adjusted]


def hl_rank(n: int, m: int, confidence: float) -> int:
    """1-based rank k of the interval's ends among the n*m pairwise
    differences: [D(k), D(n*m + 1 - k)]. k - 1 is the largest U that the
    two-sided test at 1 - confidence rejects (normal approximation)."""
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    k = math.floor(n * m / 2 - z * math.sqrt(n * m * (n + m + 1) / 12))
    return max(k, 1)


def hodges_lehmann_change(base: Sequence[float], current: Sequence[float],
                          confidence: float = 0.95) -> Change:
    """Relative change of current over base with its confidence interval.

    All values must be positive (times). With so few values that no interval
    of that confidence exists, the interval is the whole range of ratios.
    """
    b = np.log(np.asarray(base, dtype=float))
    c = np.log(np.asarray(current, dtype=float))
    if b.size == 0 or c.size == 0:
        raise ValueError("hodges_lehmann_change needs at least one value on each side")
    diffs = np.sort(np.subtract.outer(c, b).ravel())
    k = hl_rank(b.size, c.size, confidence)
    low, high = diffs[k - 1], diffs[diffs.size - k]
    return Change(math.expm1(float(np.median(diffs))), math.expm1(float(low)), math.expm1(float(high)))
