"""Did a rule change what visitors did? Its treatment group against its control group, in numbers.

Pure arithmetic on counts, no I/O; docs/insights.md ("The numbers and how to read them")
explains each result to a marketer. Groups are compared by assignment: the treatment group is
every decision that was not held out (whether or not the visitor saw the popup), the control
group every held-out one. All intervals are 95 % two-sided.

- :func:`absolute_uplift`: treatment rate − control rate, with the normal-approximation
  (Wald) interval of a difference of two proportions.
- :func:`relative_uplift`: treatment rate / control rate − 1, with the interval of the log
  risk ratio (Katz et al. 1978), so it is never symmetric around the estimate.
- :func:`value_difference`: mean goal value per decision, treatment − control, with Welch's
  interval (unequal variances; Welch–Satterthwaite degrees of freedom).
- :func:`sample_ratio`: does the control group's share match the configured holdout? A
  chi-square test with 1 degree of freedom; a mismatch when p < 0.001.
- :func:`enough_data`: the minimum below which every answer is "not enough data" (None).

Why the minimum is 100 decisions and 5 conversions and 5 non-conversions per group: the
intervals above rest on the normal approximation, whose textbook condition is at least 5
successes and 5 failures in each group (n·p ≥ 5 and n·(1 − p) ≥ 5); the relative uplift takes
the logarithm of each rate, so neither may be 0. 100 decisions per group keeps a single
conversion from moving a rate by more than one point, and makes Welch's degrees of freedom at
least 99 (they are never fewer than the smaller group's size − 1), where the t quantile below
is exact to 1e-10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95
MIN_DECISIONS = 100  # per group
MIN_CONVERSIONS = 5  # per group, and as many decisions that did not convert
SAMPLE_RATIO_ALPHA = 0.001  # a sample-ratio mismatch below this p
MIN_EXPECTED = 5  # the chi-square test needs at least this many expected in each group
MIN_T_DEGREES = 10  # below this, t_quantile's expansion is off by more than 1e-5

Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959963984540054


@dataclass(frozen=True)
class Group:
    """One side of the comparison, as the counters have it: decisions, how many converted, and
    the goal value summed over decisions (and its square, summed per decision)."""

    decisions: int
    converted: int
    value: float = 0.0
    value_sq: float = 0.0

    @property
    def rate(self) -> float | None:
        return self.converted / self.decisions if self.decisions else None

    @property
    def value_mean(self) -> float | None:
        return self.value / self.decisions if self.decisions else None


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class SampleRatio:
    expected: float  # the configured control share
    observed: float  # the control group's share of all decisions
    p: float
    mismatch: bool

    def as_dict(self) -> dict[str, float | bool]:
        return {"expected": self.expected, "observed": self.observed, "p": self.p, "mismatch": self.mismatch}


def enough_data(treatment: Group, control: Group) -> bool:
    """Both groups have MIN_DECISIONS decisions, MIN_CONVERSIONS conversions and as many without."""
    return all(
        group.decisions >= MIN_DECISIONS
        and group.converted >= MIN_CONVERSIONS
        and group.decisions - group.converted >= MIN_CONVERSIONS
        for group in (treatment, control)
    )


def absolute_uplift(treatment: Group, control: Group) -> Interval | None:
    """p_t − p_c ± z·√(p_t(1 − p_t)/n_t + p_c(1 − p_c)/n_c); None without enough data."""
    if not enough_data(treatment, control):
        return None
    p_t, p_c = treatment.converted / treatment.decisions, control.converted / control.decisions
    error = math.sqrt(p_t * (1 - p_t) / treatment.decisions + p_c * (1 - p_c) / control.decisions)
    estimate = p_t - p_c
    return Interval(estimate, estimate - Z * error, estimate + Z * error)


def relative_uplift(treatment: Group, control: Group) -> Interval | None:
    """RR − 1 where RR = p_t / p_c; bounds exp(ln RR ± z·√(1/x_t − 1/n_t + 1/x_c − 1/n_c)) − 1."""
    if not enough_data(treatment, control):
        return None
    x_t, n_t, x_c, n_c = treatment.converted, treatment.decisions, control.converted, control.decisions
    log_ratio = math.log((x_t / n_t) / (x_c / n_c))
    error = math.sqrt(1 / x_t - 1 / n_t + 1 / x_c - 1 / n_c)
    return Interval(math.exp(log_ratio) - 1, math.exp(log_ratio - Z * error) - 1, math.exp(log_ratio + Z * error) - 1)


def value_difference(treatment: Group, control: Group) -> Interval | None:
    """Mean value per decision, treatment − control, ± t(df)·√(s_t²/n_t + s_c²/n_c) (Welch).

    Each group's sample variance comes from its sums: s² = (Σv² − (Σv)²/n) / (n − 1). When
    neither group varies at all (e.g. every value is 0) the interval is the estimate itself.
    """
    if not enough_data(treatment, control):
        return None
    share_t = _variance(treatment) / treatment.decisions  # s²/n, the squared standard error of the mean
    share_c = _variance(control) / control.decisions
    estimate = treatment.value / treatment.decisions - control.value / control.decisions
    if share_t + share_c == 0:
        return Interval(estimate, estimate, estimate)
    degrees = welch_degrees(share_t, treatment.decisions, share_c, control.decisions)
    margin = t_quantile(0.5 + CONFIDENCE / 2, degrees) * math.sqrt(share_t + share_c)
    return Interval(estimate, estimate - margin, estimate + margin)


def welch_degrees(share_t: float, n_t: int, share_c: float, n_c: int) -> float:
    """Welch–Satterthwaite: (a + b)² / (a²/(n_t − 1) + b²/(n_c − 1)) with a = s_t²/n_t, b = s_c²/n_c."""
    return (share_t + share_c) ** 2 / (share_t**2 / (n_t - 1) + share_c**2 / (n_c - 1))


def _variance(group: Group) -> float:
    n = group.decisions
    # Rounding can make a zero variance slightly negative.
    return max(0.0, (group.value_sq - group.value * group.value / n) / (n - 1))


def t_quantile(p: float, degrees: float) -> float:
    """The p-quantile of Student's t with `degrees` degrees of freedom (not necessarily whole).

    The Cornish–Fisher expansion around the normal quantile z, to the fourth order in 1/ν
    (Abramowitz & Stegun 26.7.5): off by less than 1e-5 from 10 degrees of freedom, 1e-7 from
    30, 1e-10 from 100 (tests/insights/test_uplift.py checks it against printed tables). Fewer
    than 10 degrees are refused rather than answered badly; reports never need them.
    """
    if not 0 < p < 1:
        raise ValueError(f"t_quantile: p has value {p}; expected a probability between 0 and 1")
    if not degrees >= MIN_T_DEGREES:
        raise ValueError(f"t_quantile: {degrees} degrees of freedom; expected at least {MIN_T_DEGREES}")
    z = NormalDist().inv_cdf(p)
    terms = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum(term / degrees ** (power + 1) for power, term in enumerate(terms))


def sample_ratio(control: int, decisions: int, share: float) -> SampleRatio | None:
    """Is `control` of `decisions` held out what a holdout of `share` makes likely?

    Pearson's chi-square with 1 degree of freedom on (control, treatment) against
    (share·n, (1 − share)·n); its p-value is erfc(√(χ²/2)). None when either expected count is
    below MIN_EXPECTED (the test is not valid there). With no holdout configured, any held-out
    decision is a mismatch (p = 0): the counts come from another setting than today's.
    """
    if decisions <= 0:
        return None
    observed = control / decisions
    if share <= 0 or share >= 1:
        return SampleRatio(share, observed, 0.0, True) if observed != share else None
    expected_control, expected_treatment = share * decisions, (1 - share) * decisions
    if min(expected_control, expected_treatment) < MIN_EXPECTED:
        return None
    chi_square = (control - expected_control) ** 2 / expected_control + (
        decisions - control - expected_treatment
    ) ** 2 / expected_treatment
    p = math.erfc(math.sqrt(chi_square / 2))
    return SampleRatio(share, observed, p, p < SAMPLE_RATIO_ALPHA)
