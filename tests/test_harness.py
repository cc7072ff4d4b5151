"""graders.harness: plain-value checks that rigged submissions cannot fool, with helpful messages."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from graders import harness
from graders.harness import (
    assert_array_close,
    assert_close,
    assert_equal,
    assert_fitted,
    assert_frame_equal,
    partial_credit,
    seeded,
    time_budget,
)


class AlwaysEqual:
    """What a trainee might return to make `actual == expected` pass without an answer."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__

    def __float__(self) -> float:
        return 42.0


class RiggedFloat(float):
    """A float whose comparisons and conversions all lie."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __lt__(self, other: object) -> bool:
        return True

    def __le__(self, other: object) -> bool:
        return True

    def __gt__(self, other: object) -> bool:
        return True

    def __ge__(self, other: object) -> bool:
        return True

    def __sub__(self, other: object) -> float:
        return 0.0

    def __rsub__(self, other: object) -> float:
        return 0.0

    def __abs__(self) -> float:
        return 0.0

    def __float__(self) -> float:
        return 3.0

    __hash__ = float.__hash__


class RiggedInt(int):
    def __eq__(self, other: object) -> bool:
        return True

    def __index__(self) -> int:
        return 7

    __hash__ = int.__hash__


class RiggedStr(str):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


class RiggedArray(np.ndarray):
    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return True

    def __sub__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return np.zeros(self.shape)


# --- rigged objects ---------------------------------------------------------------------------------


def test_object_that_equals_everything_fails_assert_close() -> None:
    with pytest.raises(AssertionError, match="is a AlwaysEqual, expected a number"):
        assert_close(AlwaysEqual(), 3.0)


def test_object_that_equals_everything_fails_assert_equal() -> None:
    with pytest.raises(AssertionError, match="AlwaysEqual"):
        assert_equal(AlwaysEqual(), [1, 2, 3])


def test_float_subclass_with_rigged_comparisons_is_judged_by_its_stored_value() -> None:
    with pytest.raises(AssertionError, match="is 1.0, expected 3.0"):
        assert_close(RiggedFloat(1.0), 3.0)
    with pytest.raises(AssertionError):
        assert_equal(RiggedFloat(1.0), 3.0)
    assert_close(RiggedFloat(3.0), 3.0)  # the right number is still right


def test_int_and_str_subclasses_with_rigged_equality_fail() -> None:
    with pytest.raises(AssertionError, match="is 1, expected 7"):
        assert_equal(RiggedInt(1), 7)
    with pytest.raises(AssertionError, match="'wrong', expected 'right'"):
        assert_equal(RiggedStr("wrong"), "right")


def test_rigged_elements_inside_a_list_fail() -> None:
    with pytest.raises(AssertionError, match="an element of value 'scores' is a AlwaysEqual"):
        assert_array_close([1.0, AlwaysEqual()], [1.0, 2.0], name="scores")
    with pytest.raises(AssertionError, match=r"value 'scores'\[1\] is a AlwaysEqual"):
        assert_equal([1, AlwaysEqual()], [1, 2], name="scores")
    with pytest.raises(AssertionError, match=r"differs at 1 of 2"):
        assert_array_close([1.0, RiggedFloat(5.0)], [1.0, 2.0])


def test_ndarray_subclass_cannot_bring_its_own_operators() -> None:
    rigged = np.array([1.0, 2.0]).view(RiggedArray)
    with pytest.raises(AssertionError, match="differs at 2 of 2"):
        assert_array_close(rigged, [5.0, 6.0])


def test_text_is_not_a_number() -> None:
    with pytest.raises(AssertionError, match="is the text '0.5', expected a number"):
        assert_close("0.5", 0.5)
    with pytest.raises(AssertionError, match="contains text"):
        assert_array_close(["0.5", "1"], [0.5, 1.0])


# --- assert_close / assert_array_close --------------------------------------------------------------


def test_assert_close_accepts_numbers_within_tolerance() -> None:
    assert_close(0.1 + 0.2, 0.3)
    assert_close(np.float32(0.5), 0.5)
    assert_close(np.int64(3), 3)
    assert_close(float("nan"), float("nan"))
    assert_close(100.0, 101.0, rtol=0.02)


def test_assert_close_message_names_the_value_and_both_numbers() -> None:
    with pytest.raises(AssertionError, match=r"value 'mean' is 2.5, expected 3.0 \(rtol=1e-06, atol=1e-09\)"):
        assert_close(2.5, 3.0, name="mean")


def test_hidden_assert_close_never_shows_the_expected_value() -> None:
    with pytest.raises(AssertionError) as raised:
        assert_close(2.5, 3.14159, name="mean", hidden=True)
    assert "3.14159" not in str(raised.value)
    assert "2.5" in str(raised.value)


def test_shape_mismatch_message() -> None:
    with pytest.raises(
        AssertionError, match=r"value 'predictions' has shape \(10,\), expected shape \(20,\)"
    ):
        assert_array_close(np.zeros(10), np.zeros(20), name="predictions")


def test_array_mismatch_reports_count_and_first_position() -> None:
    with pytest.raises(
        AssertionError, match=r"differs at 1 of 3 positions .*index \(2,\): got 9.0, expected 3.0"
    ):
        assert_array_close([1, 2, 9], np.array([1.0, 2.0, 3.0]))
    with pytest.raises(AssertionError) as raised:
        assert_array_close([1, 2, 9], [1.0, 2.0, 3.5], hidden=True)
    assert "3.5" not in str(raised.value)


def test_arrays_from_pandas_and_torch_are_read_as_numbers() -> None:
    assert_array_close(pd.Series([1.0, 2.0]), [1, 2])
    assert_array_close(torch.tensor([[1.0, 2.0]], requires_grad=True), np.array([[1.0, 2.0]]))
    assert_close(np.array([1.0, 2.0]), [1.0, 2.0])


def test_complex_numbers_are_rejected() -> None:
    with pytest.raises(AssertionError, match="expected real numbers"):
        assert_array_close(np.array([1 + 2j]), [1.0])


# --- assert_equal -----------------------------------------------------------------------------------


def test_assert_equal_on_plain_structures() -> None:
    assert_equal({"a": [1, 2], "b": ("x", None)}, {"a": [1, 2], "b": ("x", None)})
    assert_equal((1, 2), [1, 2])  # a tuple is as good as a list
    assert_equal(np.array([1, 2]), [1, 2])
    assert_equal(np.int64(4), 4)
    assert_equal({1, 2}, {2, 1})


def test_assert_equal_points_at_the_first_difference() -> None:
    with pytest.raises(AssertionError, match=r"value 'counts'\['b'\] is 3, expected 4"):
        assert_equal({"a": 1, "b": 3}, {"a": 1, "b": 4}, name="counts")
    with pytest.raises(AssertionError, match="has 2 items, expected 3"):
        assert_equal([1, 2], [1, 2, 3])
    with pytest.raises(AssertionError, match=r"is missing 1 key\(s\) \['c'\]"):
        assert_equal({"a": 1}, {"a": 1, "c": 2})


def test_assert_equal_keeps_booleans_apart_from_numbers() -> None:
    with pytest.raises(AssertionError, match="is a bool"):
        assert_equal(True, 1)


def test_hidden_assert_equal_hides_expected_keys_and_values() -> None:
    with pytest.raises(AssertionError) as raised:
        assert_equal({"a": 1}, {"a": 1, "secret-key": 2}, hidden=True)
    assert "secret-key" not in str(raised.value)
    with pytest.raises(AssertionError) as raised:
        assert_equal("guess", "secret-answer", hidden=True)
    assert "secret-answer" not in str(raised.value)


# --- assert_frame_equal -----------------------------------------------------------------------------


def test_assert_frame_equal_passes_for_equal_frames_ignoring_dtype() -> None:
    expected = pd.DataFrame({"city": ["Espoo", "Oulu"], "n": [1.0, 2.0]})
    assert_frame_equal(pd.DataFrame({"city": ["Espoo", "Oulu"], "n": [1, 2]}), expected)


def test_assert_frame_equal_messages() -> None:
    expected = pd.DataFrame({"city": ["Espoo", "Oulu"], "n": [1.0, 2.0]})
    with pytest.raises(AssertionError, match="is a list, expected a pandas DataFrame"):
        assert_frame_equal([1, 2], expected)
    with pytest.raises(
        AssertionError, match=r"has shape \(1, 2\) \(rows, columns\), expected shape \(2, 2\)"
    ):
        assert_frame_equal(expected.head(1), expected)
    with pytest.raises(AssertionError, match=r"missing \['n'\]"):
        assert_frame_equal(expected.rename(columns={"n": "count"}), expected)
    with pytest.raises(AssertionError, match="differs in column 'n'"):
        assert_frame_equal(expected.assign(n=[1.0, 5.0]), expected)


def test_assert_frame_equal_hidden_and_index_options() -> None:
    expected = pd.DataFrame({"secret_column": [1.0, 2.0]})
    with pytest.raises(AssertionError) as raised:
        assert_frame_equal(pd.DataFrame({"x": [1.0, 2.0]}), expected, hidden=True)
    assert "secret_column" not in str(raised.value)
    shuffled = pd.DataFrame({"secret_column": [1.0, 2.0]}, index=[5, 6])
    with pytest.raises(AssertionError, match="different index"):
        assert_frame_equal(shuffled, expected)
    assert_frame_equal(shuffled, expected, check_index=False)


# --- assert_fitted ----------------------------------------------------------------------------------


def test_assert_fitted() -> None:
    model = LinearRegression()
    with pytest.raises(AssertionError, match=r"has not been fitted yet: call .fit\(X, y\)"):
        assert_fitted(model)
    model.fit([[0.0], [1.0]], [0.0, 1.0])
    assert_fitted(model)
    pipeline = make_pipeline(StandardScaler(), LinearRegression()).fit([[0.0], [1.0]], [0.0, 1.0])
    assert_fitted(pipeline)
    with pytest.raises(AssertionError, match="expected a scikit-learn estimator"):
        assert_fitted(AlwaysEqual())


# --- partial_credit ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "low", "high", "points", "expected"),
    [
        (0.5, 0.5, 0.9, 4, 0.0),
        (0.9, 0.5, 0.9, 4, 4.0),
        (0.7, 0.5, 0.9, 4, 2.0),
        (0.95, 0.5, 0.9, 4, 4.0),  # clamped above
        (0.1, 0.5, 0.9, 4, 0.0),  # clamped below
        (15.0, 20.0, 10.0, 3, 1.5),  # smaller is better (an error)
        (0.6, 0.5, 0.8, 1, 0.33),  # rounded to 2 decimals
        (float("nan"), 0.0, 1.0, 5, 0.0),
    ],
)
def test_partial_credit(value: float, low: float, high: float, points: float, expected: float) -> None:
    result = partial_credit(value, low, high, points)
    assert type(result) is float
    assert result == expected


def test_partial_credit_rejects_rigged_scores_and_equal_bounds() -> None:
    with pytest.raises(AssertionError):
        partial_credit(AlwaysEqual(), 0, 1, 5)
    assert partial_credit(RiggedFloat(0.0), 0, 1, 5) == 0.0
    with pytest.raises(ValueError, match="low != high"):
        partial_credit(0.5, 1, 1, 5)


# --- seeded and time_budget -------------------------------------------------------------------------


def test_seeded_gives_repeatable_draws_and_restores_state() -> None:
    random.seed(123)
    before = random.random()
    random.seed(123)
    with seeded(7):
        first = (random.random(), np.random.rand(), torch.rand(1).item())
    assert random.random() == before  # the notebook's own random stream is untouched
    with seeded(7):
        second = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == second


def test_time_budget_passes_fast_code_and_interrupts_slow_code() -> None:
    with time_budget(1.0):
        sum(range(1000))
    start = time.perf_counter()
    with pytest.raises(harness.TimeBudgetExceeded, match="longer than its time budget of 0.2 s"):
        with time_budget(0.2, name="training"):
            while True:
                pass
    assert time.perf_counter() - start < 2


def test_time_budget_still_fails_when_the_interruption_is_swallowed() -> None:
    with pytest.raises(harness.TimeBudgetExceeded, match="training took"):
        with time_budget(0.1, name="training"):
            try:
                time.sleep(0.5)
            except Exception:
                time.sleep(0.2)


def test_harness_imports_only_the_standard_library() -> None:
    """Grading images import the harness in every test cell; heavy libraries load only on use."""
    code = (
        "import sys, graders.harness; heavy = {'numpy', 'pandas', 'torch', 'sklearn'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
