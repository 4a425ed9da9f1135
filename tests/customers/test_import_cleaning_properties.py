"""Property-based tests of the CSV import's row cleaning: whatever text a file holds in whatever
column, cleaning a row never crashes. It answers a row whose values are of the model's types,
or row errors that name the column and say what is wrong."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.importing.mapping import TARGETS
from customers.importing.rows import DAY_FIRST, MONTH_FIRST, RowCleaner
from customers.models import Customer

HEADERS = [f"column {target}" for target in TARGETS] + ["extra"]
MAPPING = {f"column {target}": target for target in TARGETS}

# Text an export or a person may put in a cell: any Unicode, and the shapes the cleaners parse
# (dates, amounts, phone numbers, emails, yes/no words, formulas, HTML).
cell = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A[0-9 ./+\-()]{0,20}\Z"),
    st.from_regex(r"\A[=+\-@][A-Za-z0-9(),;:\"' ]{0,20}\Z"),
    st.from_regex(r"\A<[a-z]{1,6}[^>]{0,15}>[^<]{0,10}\Z"),
    st.from_regex(r"\A[A-Za-z0-9._%+\-]{0,12}@[A-Za-z0-9.\-]{0,12}\Z"),
    st.sampled_from(["yes", "no", "是", "否", "VIP", "1e309", "-0", "NaN", "9" * 40, "31/02/2024"]),
)
row = st.lists(cell, min_size=0, max_size=len(HEADERS) + 3)

PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def cleaner(date_order: str) -> RowCleaner:
    return RowCleaner(
        headers=HEADERS, mapping=MAPPING, keep_extra_columns=True, date_order=date_order
    )


def assert_typed(values: dict) -> None:
    fields = {field.name: field for field in Customer._meta.concrete_fields}
    for name, value in values.items():
        field = fields.get(name) or fields.get(f"{name}_id")
        assert field is not None, f"cleaning produced an unknown field {name!r}"
        if value is None:
            continue
        if name == "birthday":
            assert isinstance(value, date)
        elif name == "annual_income":
            assert isinstance(value, Decimal) and value.is_finite()
        elif name == "marketing_consent":
            assert isinstance(value, bool)
        elif isinstance(value, str):
            assert len(value) <= (field.max_length or len(value)), name


@pytest.mark.parametrize("date_order", [DAY_FIRST, MONTH_FIRST])
@PROPERTY_SETTINGS
@given(cells=row)
def test_cleaning_any_row_answers_values_or_errors_never_a_crash(date_order, cells):
    # When any row of text is cleaned
    cleaned = cleaner(date_order).clean(2, cells)

    # Then each problem names a column (or the row) and says what is wrong
    for column, message in cleaned.errors:
        assert column == "" or column in HEADERS or "+" in column
        assert str(message).strip()
    # And a row that passed has values of the customer's own types
    if not cleaned.errors:
        assert_typed(cleaned.values)
        assert all(isinstance(tag, str) and tag for tag in cleaned.tags)
