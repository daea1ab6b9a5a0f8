"""The uplift arithmetic (server/insights/uplift.py) against numbers worked out by hand.

Each expected number below is derived in its comment from the counts alone, with
z = 1.959964 (the normal 97.5 % quantile) and published t tables, so a test fails if the code
computes a different formula, not merely a different rounding. Below the documented minimum
(100 decisions, 5 conversions and 5 non-conversions per group) every answer is None: "not
enough data". The sample-ratio check fires on a skewed split and not on a fair one.
"""

from __future__ import annotations

import pytest

from server.insights.uplift import (
    Group,
    absolute_uplift,
    enough_data,
    relative_uplift,
    sample_ratio,
    t_quantile,
    value_difference,
    welch_degrees,
)

# Treatment: 1000 decisions, 120 converted (12 %), value 6000 in all (6 per decision), Σv² = 600,000.
# Control:    200 decisions,  16 converted  (8 %), value  800 in all (4 per decision), Σv² =  80,000.
TREATMENT = Group(decisions=1000, converted=120, value=6000, value_sq=600_000)
CONTROL = Group(decisions=200, converted=16, value=800, value_sq=80_000)


def test_absolute_uplift_is_the_difference_of_rates_with_a_wald_interval():
    # 0.12 − 0.08 = 0.04
    # SE = √(0.12·0.88/1000 + 0.08·0.92/200) = √(0.0001056 + 0.000368) = √0.0004736 = 0.0217624
    # 1.959964 · 0.0217624 = 0.0426534  ->  0.04 ± 0.0426534 = [−0.0026534, 0.0826534]
    result = absolute_uplift(TREATMENT, CONTROL)
    assert result.estimate == pytest.approx(0.04, abs=1e-9)
    assert result.low == pytest.approx(-0.0026534, abs=1e-6)
    assert result.high == pytest.approx(0.0826534, abs=1e-6)


def test_relative_uplift_uses_the_log_risk_ratio_so_its_interval_leans_upwards():
    # RR = 0.12 / 0.08 = 1.5, so the estimate is +50 %.
    # SE(ln RR) = √(1/120 − 1/1000 + 1/16 − 1/200) = √(0.0083333 − 0.001 + 0.0625 − 0.005) = √0.0648333 = 0.2546239
    # 1.959964 · 0.2546239 = 0.4990534; 1.5·e^−0.4990534 = 1.5·0.6071049 = 0.9106574 -> −8.93 %
    #                                   1.5·e^+0.4990534 = 1.5·1.6471618 = 2.4707427 -> +147.07 %
    result = relative_uplift(TREATMENT, CONTROL)
    assert result.estimate == pytest.approx(0.5, abs=1e-9)
    assert result.low == pytest.approx(-0.0893426, abs=1e-6)
    assert result.high == pytest.approx(1.4707427, abs=1e-6)


def test_the_value_difference_has_a_welch_interval():
    # Means 6 and 4: the estimate is 2 per decision.
    # s_t² = (600000 − 6000²/1000)/999 = 564000/999 = 564.5646; s_t²/n_t = 0.5645646
    # s_c² = (80000 − 800²/200)/199   =  76800/199 = 385.9296; s_c²/n_c = 1.9296482
    # SE = √(0.5645646 + 1.9296482) = √2.4942128 = 1.5793077
    # df = 2.4942128² / (0.5645646²/999 + 1.9296482²/199) = 6.2210974 / (0.000319055 + 0.018711) = 326.905
    # t(0.975, 326.9): between the tables' t(300) = 1.967903 and t(400) = 1.965912, linear in 1/df:
    #   1.967903 − (1/300 − 1/326.9)/(1/300 − 1/400) · 0.001991 = 1.967903 − 0.3291 · 0.001991 = 1.967248
    # margin = 1.967248 · 1.5793077 = 3.106892 -> [−1.106892, 5.106892]
    assert welch_degrees(564000 / 999 / 1000, 1000, 76800 / 199 / 200, 200) == pytest.approx(326.905, abs=1e-3)
    result = value_difference(TREATMENT, CONTROL)
    assert result.estimate == pytest.approx(2.0, abs=1e-9)
    assert result.low == pytest.approx(-1.106892, abs=2e-5)
    assert result.high == pytest.approx(5.106892, abs=2e-5)


def test_groups_whose_values_never_vary_get_the_difference_as_its_own_interval():
    no_value = value_difference(Group(1000, 120), Group(200, 16))
    assert (no_value.estimate, no_value.low, no_value.high) == (0.0, 0.0, 0.0)


# Student's t, 97.5 % quantile, as printed in tables (R's qt(0.975, df) to 12 digits).
T_TABLE = {10: 2.22813885198627, 30: 2.04227245630124, 100: 1.98397151852355, 1000: 1.96233908082641}


@pytest.mark.parametrize("degrees", sorted(T_TABLE))
def test_the_t_quantile_matches_the_tables(degrees):
    tolerance = 1e-5 if degrees < 30 else 1e-7 if degrees < 100 else 1e-9
    assert t_quantile(0.975, degrees) == pytest.approx(T_TABLE[degrees], abs=tolerance)
    assert t_quantile(0.025, degrees) == pytest.approx(-T_TABLE[degrees], abs=tolerance)  # symmetric


def test_the_t_quantile_refuses_what_it_cannot_answer_well():
    with pytest.raises(ValueError, match="at least 10"):
        t_quantile(0.975, 5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        t_quantile(1.0, 100)


@pytest.mark.parametrize(
    "treatment, control",
    [
        (Group(1000, 120), Group(99, 16)),  # control: 99 decisions, one short
        (Group(99, 20), Group(200, 16)),  # treatment: one short
        (Group(1000, 120), Group(200, 4)),  # control: 4 conversions, one short
        (Group(1000, 4), Group(200, 16)),  # treatment: 4 conversions
        (Group(1000, 996), Group(200, 16)),  # treatment: only 4 did not convert
        (Group(1000, 120), Group(0, 0)),  # no control group at all (holdout 0 %)
    ],
)
def test_below_the_minimum_every_answer_is_not_enough_data(treatment, control):
    assert not enough_data(treatment, control)
    assert absolute_uplift(treatment, control) is None
    assert relative_uplift(treatment, control) is None
    assert value_difference(treatment, control) is None


def test_the_minimum_itself_is_enough():
    treatment, control = Group(100, 5, 50, 500), Group(100, 95, 40, 400)
    assert enough_data(treatment, control)
    assert absolute_uplift(treatment, control).estimate == pytest.approx(-0.9)
    assert value_difference(treatment, control) is not None


def test_the_sample_ratio_check_passes_a_fair_split():
    # 10,000 decisions with a 20 % holdout: 2,050 held out instead of 2,000.
    # χ² = 50²/2000 + 50²/8000 = 1.25 + 0.3125 = 1.5625 = 1.25²; p = P(|Z| > 1.25) = 2·(1 − 0.894350) = 0.211300
    result = sample_ratio(2050, 10_000, 0.2)
    assert result.p == pytest.approx(0.211300, abs=1e-6)
    assert (result.expected, result.observed, result.mismatch) == (0.2, 0.205, False)
    assert sample_ratio(2000, 10_000, 0.2).p == pytest.approx(1.0) and not sample_ratio(2000, 10_000, 0.2).mismatch


def test_the_sample_ratio_check_fires_on_a_skewed_split():
    # 2,200 held out instead of 2,000: χ² = 200²/2000 + 200²/8000 = 20 + 5 = 25 = 5²;
    # p = P(|Z| > 5) = 5.7330e−7 < 0.001
    result = sample_ratio(2200, 10_000, 0.2)
    assert result.p == pytest.approx(5.7330e-7, rel=1e-4)
    assert result.mismatch and result.observed == 0.22


def test_the_sample_ratio_check_needs_five_expected_in_each_group():
    assert sample_ratio(3, 20, 0.2) is None  # 4 expected held out
    assert sample_ratio(0, 0, 0.2) is None
    assert sample_ratio(3, 25, 0.2) is not None  # 5 expected


def test_held_out_decisions_without_a_holdout_are_a_mismatch():
    """The holdout was removed (or lowered to 0 %) within the range: the split is not today's."""
    assert sample_ratio(0, 500, 0.0) is None  # no holdout, none held out: nothing to check
    result = sample_ratio(50, 500, 0.0)
    assert result.mismatch and result.p == 0.0 and result.observed == 0.1
