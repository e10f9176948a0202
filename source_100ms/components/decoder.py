"""A JSON decoder that parses each response body once."""

from __future__ import annotations

import copy
from collections.abc import Generator, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any

import orjson
import requests
from airbyte_cdk.sources.declarative.decoders.json_decoder import JsonDecoder

_UNPARSED = object()
_KEPT_AS = "_source_100ms_json"


def parsed_body(response: requests.Response) -> Any:
    """The response's JSON body, parsed on the first call and kept on the response; raises `orjson.JSONDecodeError`."""
    body = response.__dict__.get(_KEPT_AS, _UNPARSED)
    if body is _UNPARSED:
        body = response.__dict__[_KEPT_AS] = orjson.loads(response.content)
    return body


def is_complete_json(response: requests.Response) -> bool:
    """Whether the body parses as JSON (the parse is kept for the decoder)."""
    try:
        parsed_body(response)
    except orjson.JSONDecodeError:
        return False
    return True


def unparsed_copy(response: requests.Response) -> requests.Response:
    """A copy of the response with the same bytes and no kept parse, for a reader that will change what it
    parses (records are transformed in place), so that no two readers share parsed objects."""
    mine = copy.copy(response)
    mine.__dict__.pop(_KEPT_AS, None)
    return mine


@dataclass
class ParsedBodyDecoder(JsonDecoder):
    """The CDK's `JsonDecoder`, reusing the parse the error handler already made.

    Why: the error handler parses every 2xx body to tell complete JSON from a truncated or HTML one, then the
    CDK's `JsonDecoder` parsed it again for the records and a third time for the paginator's next-page token
    (together 9% of the CPU of an analytics read). This decoder hands out the body `parsed_body` keeps on the
    response, and behaves as `JsonDecoder` otherwise: a list body gives its items, an empty list or a body that
    is not JSON gives one empty mapping. The body is shared, so the paginator sees the records as the
    transformations left them; none of them changes a field a paginator reads (`data`, `last`, `limit`,
    `next`, `events`, or the cursor fields, which are only cut to microseconds). It is a `JsonDecoder`, so the
    CDK accepts it for pagination.
    """

    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__init__(parameters)

    def is_stream_response(self) -> bool:
        return False

    def decode(self, response: requests.Response) -> Generator[MutableMapping[str, Any], None, None]:
        try:
            body = parsed_body(response)
        except orjson.JSONDecodeError:
            yield {}
            return
        if isinstance(body, list):
            yield from body or [{}]
        else:
            yield body
