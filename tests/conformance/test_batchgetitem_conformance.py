"""BatchGetItem answers as DynamoDB's (dynalite's test/batchGetItem.js), over raw signed HTTP."""

from __future__ import annotations

import pytest
from cases import case_id, check_error, run_scenario
from cases.batchgetitem import ERRORS, FUNCTIONAL


@pytest.mark.parametrize("case", ERRORS, ids=case_id)
def test_error(dynamo, case) -> None:  # type: ignore[no-untyped-def]
    check_error(dynamo, "BatchGetItem", case)


@pytest.mark.parametrize("scenario", FUNCTIONAL, ids=case_id)
def test_functional(dynamo, scenario) -> None:  # type: ignore[no-untyped-def]
    run_scenario(dynamo, scenario)
