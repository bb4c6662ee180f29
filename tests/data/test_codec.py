"""The cache's binary form of a price frame: exact, compact, and strict about its input."""

from __future__ import annotations

import pandas as pd
import pytest

from data.bundled import load_bundled
from data.codec import CodecError, decode_frame, encode_frame
from data.frames import empty_frame, normalize_frame


def test_a_frame_survives_the_round_trip_exactly_with_its_source():
    frame = normalize_frame(load_bundled("SPY"))
    decoded, source = decode_frame(encode_frame(frame, "yfinance"))
    pd.testing.assert_frame_equal(decoded, frame)
    assert source == "yfinance"


def test_the_encoding_is_eight_bytes_per_value_plus_a_small_header():
    frame = normalize_frame(load_bundled("SPY"))
    payload = encode_frame(frame, "bundled")
    values = len(frame) * (len(frame.columns) + 1)  # the dates count as one column
    assert 8 * values < len(payload) < 8 * values + 100


def test_an_empty_frame_round_trips():
    decoded, _ = decode_frame(encode_frame(empty_frame(), ""))
    assert decoded.empty and list(decoded.columns) == list(empty_frame().columns)


def test_decoded_frames_are_writable():
    decoded, _ = decode_frame(encode_frame(normalize_frame(load_bundled("QQQ")), "x"))
    decoded.iloc[0, 0] = 1.0
    assert decoded.iloc[0, 0] == 1.0


@pytest.mark.parametrize("payload", [b"", b"JSON{}", b"SAPF" + bytes(20)])
def test_foreign_or_truncated_bytes_are_rejected(payload):
    with pytest.raises(CodecError):
        decode_frame(payload)
