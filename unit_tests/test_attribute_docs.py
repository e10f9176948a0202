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

from source_100ms import speedups
from source_100ms.speedups import attribute_docs

SERPYCO_USERS = (serpyco_rs._utils, serpyco_rs._describe, serpyco_rs._json_schema._convert)
# serpyco-rs's own functions (lru_cache wrappers of attributes_doc's), as imported: nothing has replaced them.
SERPYCO_OWN = [module.get_attributes_doc for module in SERPYCO_USERS]


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


def test_given_nothing_installed_then_serpyco_uses_its_own_function():
    assert not speedups.installed()
    for module, own in zip(SERPYCO_USERS, SERPYCO_OWN, strict=True):
        assert module.get_attributes_doc is own and own.__wrapped__ is attributes_doc.get_attributes_doc


def test_given_speedups_installed_then_serpyco_uses_the_fast_function_until_uninstalled():
    try:
        assert "attribute_docs" in speedups.install({})
        for module in SERPYCO_USERS:
            assert module.get_attributes_doc.__wrapped__ is attribute_docs.get_attributes_doc
    finally:
        speedups.uninstall()
    assert [module.get_attributes_doc for module in SERPYCO_USERS] == SERPYCO_OWN


@pytest.mark.parametrize("model", [Child, AirbyteMessage, ConfiguredAirbyteCatalog, ConnectorSpecification])
def test_given_model_then_serializer_schema_same_as_with_original(model, monkeypatch):
    for module in SERPYCO_USERS:
        monkeypatch.setattr(module, "get_attributes_doc", attribute_docs.cached_get_attributes_doc())
    fast = serpyco_rs.Serializer(model, omit_none=True).get_json_schema()
    if model is Child:
        schema = fast["components"]["schemas"][f"{__name__}.Child"]
        assert schema["properties"]["colour"]["description"] == "A colour."
    for module in SERPYCO_USERS:
        monkeypatch.setattr(module, "get_attributes_doc", attributes_doc.get_attributes_doc)
    assert serpyco_rs.Serializer(model, omit_none=True).get_json_schema() == fast
