"""ParsedBodyDecoder: one parse per response, shared by the error handler, the records and the paginator."""

import orjson
import pytest
import requests

from source_100ms.components import decoder as decoder_module
from source_100ms.components.decoder import ParsedBodyDecoder, parsed_body


def _response(body: bytes, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"data": [{"id": "a"}], "last": "a"}', [{"data": [{"id": "a"}], "last": "a"}]),
        (b'[{"id": "a"}, {"id": "b"}]', [{"id": "a"}, {"id": "b"}]),
        (b"[]", [{}]),
    ],
)
def test_given_json_body_when_decoded_then_as_cdk_json_decoder(body, expected):
    from airbyte_cdk.sources.declarative.decoders import JsonDecoder

    assert list(ParsedBodyDecoder(parameters={}).decode(_response(body))) == expected
    assert list(JsonDecoder(parameters={}).decode(_response(body))) == expected


@pytest.mark.parametrize("body", [b"<html>bad gateway</html>", b'{"data": [{"id": "a"}', b""])
def test_given_body_not_json_when_decoded_then_one_empty_mapping(body):
    # The CDK's JsonDecoder yields two empty mappings here; either way an extractor finds no records.
    assert list(ParsedBodyDecoder(parameters={}).decode(_response(body))) == [{}]


def test_given_response_when_decoded_three_times_then_parsed_once(monkeypatch):
    calls, loads = [], orjson.loads
    monkeypatch.setattr(decoder_module.orjson, "loads", lambda raw: calls.append(raw) or loads(raw))
    response = _response(b'{"events": [{"id": "e1"}], "next": "n"}')
    parsed_body(response)  # what the error handler does for a 2xx
    decoder = ParsedBodyDecoder(parameters={})
    assert next(decoder.decode(response))["events"] == [{"id": "e1"}]
    assert next(decoder.decode(response))["next"] == "n"
    assert len(calls) == 1
    assert next(decoder.decode(_response(b'{"events": []}'))) == {"events": []} and len(calls) == 2


def test_given_json_decoder_check_when_paginating_then_accepted():
    """The CDK refuses decoders other than its JSON, XML and raw ones for pagination."""
    from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory

    assert ModelToComponentFactory()._is_supported_decoder_for_pagination(ParsedBodyDecoder(parameters={}))
