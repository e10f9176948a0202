"""The start-up speed-up of serpyco-rs's attribute docstrings returns what the original function returns."""

import dataclasses
import inspect

import attributes_doc
import pytest
import serpyco_rs
import serpyco_rs._describe
import serpyco_rs._json_schema._convert
import serpyco_rs._utils
from airbyte_cdk.models import AirbyteMessage, ConfiguredAirbyteCatalog, ConnectorSpecification
from airbyte_protocol_dataclasses.models import airbyte_protocol

from source_100ms import attribute_docs


@dataclasses.dataclass
class Base:
    name: str
    """The base's name."""
    size: int = 0
    "A size, in a plain string."


@dataclasses.dataclass
class Child(Base):
    name: str = "child"
    """The child's own name, replacing the base's docstring."""
    colour: str = "blue"
    """A colour."""

    @dataclasses.dataclass
    class Inner:
        depth: int
        """How deep."""


def _decorate(cls):
    return cls


@_decorate
class Decorated:
    flag = True
    """A flag set by assignment."""
    a = b = 1
    """Two names, one docstring."""
    no_doc = 2
    count = 3
    42  # noqa: B018 - an expression that is not a docstring


def make_local():
    class Local:
        value: int
        """A class inside a function."""

    return Local


class WithFString:
    value = 1
    f"""{value} is not a constant."""


class Base2:
    x: int
    """From Base2."""


class Diamond(Child, Base2):
    pass


def _protocol_classes():
    return [
        value
        for value in vars(airbyte_protocol).values()
        if inspect.isclass(value) and value.__module__ == airbyte_protocol.__name__
    ]


@pytest.mark.parametrize(
    "cls",
    [Base, Child, Child.Inner, Decorated, make_local(), Diamond, object, int, dict, Exception, *_protocol_classes()],
    ids=lambda cls: cls.__qualname__,
)
def test_given_class_when_attribute_docs_then_same_as_attributes_doc(cls):
    assert attribute_docs.get_attributes_doc(cls) == attributes_doc.get_attributes_doc(cls)


def test_given_protocol_and_local_classes_then_docstrings_are_really_read():
    assert attribute_docs.get_attributes_doc(Child) == {
        "name": "The child's own name, replacing the base's docstring.",
        "size": "A size, in a plain string.",
        "colour": "A colour.",
    }
    assert attribute_docs.get_attributes_doc(Decorated) == {
        "flag": "A flag set by assignment.",
        "a": "Two names, one docstring.",
        "b": "Two names, one docstring.",
    }


def test_given_fstring_docstring_then_the_original_error():
    with pytest.raises(attributes_doc.FStringFound):
        attribute_docs.get_attributes_doc(WithFString)


def test_given_class_built_at_run_time_then_the_original_reads_it():
    built = type("Built", (Base,), {"__annotations__": {"extra": int}})
    assert attribute_docs.get_attributes_doc(built) == attributes_doc.get_attributes_doc(built) != {}


def test_given_serpyco_without_one_of_the_modules_when_apply_then_the_others_replaced(monkeypatch):
    monkeypatch.setattr(attribute_docs, "_USERS", ("serpyco_rs._no_such_module", "json", "serpyco_rs._utils"))
    monkeypatch.setattr(serpyco_rs._utils, "get_attributes_doc", attributes_doc.get_attributes_doc)
    attribute_docs.apply()
    assert not hasattr(__import__("json"), "get_attributes_doc")
    assert serpyco_rs._utils.get_attributes_doc.__wrapped__ is attribute_docs.get_attributes_doc


def test_given_connector_imported_then_serpyco_uses_the_fast_function():
    for module in (serpyco_rs._utils, serpyco_rs._describe, serpyco_rs._json_schema._convert):
        assert module.get_attributes_doc.__wrapped__ is attribute_docs.get_attributes_doc


@pytest.mark.parametrize("model", [Child, AirbyteMessage, ConfiguredAirbyteCatalog, ConnectorSpecification])
def test_given_model_then_serializer_schema_same_as_with_original(model, monkeypatch):
    fast = serpyco_rs.Serializer(model, omit_none=True).get_json_schema()
    if model is Child:
        schema = fast["components"]["schemas"][f"{__name__}.Child"]
        assert schema["properties"]["colour"]["description"] == "A colour."
    for module in (serpyco_rs._utils, serpyco_rs._describe, serpyco_rs._json_schema._convert):
        monkeypatch.setattr(module, "get_attributes_doc", attributes_doc.get_attributes_doc)
    assert serpyco_rs.Serializer(model, omit_none=True).get_json_schema() == fast
