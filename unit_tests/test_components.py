"""The small Python components, on their own."""

import pytest
from airbyte_cdk.sources.types import StreamSlice

from source_100ms.components import PartitionFieldsTransformation, TimestampPrecisionTransformation


def test_given_nanoseconds_when_precision_transformation_then_cut_to_microseconds_only_there():
    record = {"timestamp": "2023-02-23T10:12:00.78311898Z", "joined_at": "2023-02-23T10:12:00.78311898Z"}
    TimestampPrecisionTransformation(fields=["timestamp"], parameters={}).transform(record)
    assert record == {"timestamp": "2023-02-23T10:12:00.783118Z", "joined_at": "2023-02-23T10:12:00.78311898Z"}


def test_given_zero_time_when_precision_transformation_then_null():
    record = {"updated_at": "0001-01-01T00:00:00Z"}
    TimestampPrecisionTransformation(fields=["updated_at"], parameters={}).transform(record)
    assert record == {"updated_at": None}


@pytest.mark.parametrize("value", ["2023-02-23T10:12:00.783Z", None, 5])
def test_given_short_or_odd_values_when_precision_transformation_then_untouched(value):
    record = {"timestamp": value}
    TimestampPrecisionTransformation(fields=["timestamp"], parameters={}).transform(record)
    assert record == {"timestamp": value}


def test_given_all_digit_id_when_partition_fields_added_then_kept_as_text():
    record = {"id": "e1"}
    partition = StreamSlice(partition={"room_id": "650000010000000000000001"}, cursor_slice={})
    PartitionFieldsTransformation(fields=["room_id"], parameters={}).transform(record, stream_slice=partition)
    assert record == {"id": "e1", "room_id": "650000010000000000000001"}
