"""vru.web.core.records: serializers built from a TypedDict of an answer's keys."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, TypedDict

import pytest
from rest_framework import serializers

from vru.web.core.records import serializer_for


class Point(TypedDict):
    x: float
    label: Annotated[str, "what the point is"]


class Answer(TypedDict):
    when: dt.date
    n: int | None
    points: list[Point]
    extra: dict[str, int]
    link: Annotated[str | None, serializers.URLField]
    money: Annotated[str, serializers.DecimalField(max_digits=9, decimal_places=2)]


def test_each_key_becomes_the_field_of_its_type():
    fields = serializer_for(Answer)().fields
    assert isinstance(fields["when"], serializers.DateField)
    assert isinstance(fields["n"], serializers.IntegerField) and fields["n"].allow_null
    assert isinstance(fields["points"], serializers.ListSerializer)
    assert fields["points"].child.fields["label"].help_text == "what the point is"
    assert isinstance(fields["extra"], serializers.DictField)
    assert isinstance(fields["link"], serializers.URLField) and fields["link"].allow_null
    assert isinstance(fields["money"], serializers.DecimalField)
    assert serializer_for(Answer) is serializer_for(Answer)  # one class per record


def test_a_help_text_or_none_beside_a_field_instance_is_refused_not_dropped():
    class Bad(TypedDict):
        money: Annotated[str | None, serializers.DecimalField(max_digits=9, decimal_places=2)]

    with pytest.raises(TypeError, match="allow_null to the field itself"):
        serializer_for(Bad)

    class AlsoBad(TypedDict):
        money: Annotated[str, "help", serializers.DecimalField(max_digits=9, decimal_places=2)]

    with pytest.raises(TypeError, match="help text"):
        serializer_for(AlsoBad)


def test_a_union_of_several_types_and_an_unknown_type_are_refused_by_name():
    class Union(TypedDict):
        v: int | str | None

    with pytest.raises(TypeError, match="one type or None"):
        serializer_for(Union)

    class Unknown(TypedDict):
        v: complex

    with pytest.raises(TypeError, match="no serializer field for the type"):
        serializer_for(Unknown)
