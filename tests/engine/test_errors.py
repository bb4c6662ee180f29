"""Every engine exception has one common base, and stays the ValueError it always was."""

from __future__ import annotations

import pytest

from engine.errors import EngineError
from engine.prices import PriceDataError
from engine.scenarios import StressInputError
from engine.spec import SpecError, parse_spec
from engine.sweep import GridError


@pytest.mark.parametrize("error", [SpecError, PriceDataError, StressInputError, GridError])
def test_engine_errors_share_one_base_and_remain_value_errors(error):
    assert issubclass(error, EngineError)
    assert issubclass(error, ValueError)


def test_an_invalid_spec_is_caught_as_an_engine_error():
    with pytest.raises(EngineError, match=r"\$: must be a JSON object"):
        parse_spec("[]")
