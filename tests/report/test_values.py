"""How the report prints an effect beside its interval's bounds."""

import math

from embtrans.report.sections import cut_jobs
from embtrans.report.values import formatted, formatted_together


def test_an_effect_and_its_bounds_share_one_precision_fine_enough_to_tell_them_apart():
    # a bound of -0.00046 would print as -0.000 at the usual three places: one place more for the whole group
    assert formatted_together([0.0099, -0.00046, 0.0195], "signed") == ["+0.0099", "-0.0005", "+0.0195"]
    # -0.12 % and -0.09 % would both print as -0.1 %
    assert formatted_together([-0.0012, -0.0009], "percent") == ["-0.12%", "-0.09%"]
    # numbers that read well already keep the style's own precision
    numbers = [0.0228, 0.0123, 0.0327]
    assert formatted_together(numbers, "signed") == [formatted(n, "signed") for n in numbers]
    # an exact zero may read as zero; a missing bound reads n/a; two places more at most
    assert formatted_together([0.0, 0.01, math.nan], "signed") == ["+0.000", "+0.010", "n/a"]
    assert formatted_together([1e-9, 2e-9], "signed") == ["+0.00000", "+0.00000"]


def test_the_jobs_the_sweeps_cut_left_out_are_listed_by_reason_and_same_model_skips_are_not():
    skipped = ["rt/a-to-a/linear-x1_seed=0_1: model_a and model_b are both 'a'",
               "rt/a-to-b/mlp1-x32_seed=1_2: cut: width 32 runs only at seed(s) none (cut.seeds; this job's seed is 1)",
               "rt/a-to-b/mlp1-x32_seed=2_3: cut: width 32 runs only at seed(s) none (cut.seeds; this job's seed is 2)",
               "wn/a-to-b/mlp2-x8_seed=0_4: cut: width-using translators fit on at most 3,000 paired texts "
               "(cut.train_pairs_above; this job's is 10,000)"]
    assert cut_jobs(skipped) == ["cut: width 32 runs only at seed(s) none (2): rt/a-to-b/mlp1-x32_seed=1_2, "
                                 "rt/a-to-b/mlp1-x32_seed=2_3",
                                 "cut: width-using translators fit on at most 3,000 paired texts (1): "
                                 "wn/a-to-b/mlp2-x8_seed=0_4"]


def test_a_table_of_many_pairs_is_printed_pairs_down_translators_across():
    from embtrans.report.content import Table
    from embtrans.report.sections import transposed

    table = Table(["translator", "a → b", "b → a", "mean over pairs"], [["linear", "0.1", "0.2", "0.15"],
                                                                       ["native B (reference)", "0.5", "0.6", ""]], "c")
    flipped = transposed(table, "pair")
    assert flipped.header == ["pair", "linear", "native B (reference)"]
    assert flipped.rows == [["a → b", "0.1", "0.5"], ["b → a", "0.2", "0.6"], ["mean over pairs", "0.15", ""]]
    assert flipped.caption == "c"
