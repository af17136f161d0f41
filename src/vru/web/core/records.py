"""DRF serializers of the API's answers that are plain dicts, built from a ``TypedDict`` of their keys.

The answer's shape is written once, as a ``TypedDict`` (its keys and their Python types);
:func:`serializer_for` makes the serializer that describes it in the OpenAPI schema (drf-spectacular
names the component after the ``TypedDict``). Types map to fields: ``str``, ``int``, ``float``, ``bool``,
``datetime``, ``date``; ``X | None`` allows null; ``list[X]`` and ``dict[str, X]`` (``dict`` alone: any
values); a nested ``TypedDict`` is its own serializer. ``Annotated[X, ...]`` adds a help text (a string),
another field class (a ``serializers.Field`` subclass, ``URLField`` say) or the field itself (an instance,
for a field that needs arguments, ``DecimalField`` say).
"""

from __future__ import annotations

import datetime as dt
import types
import typing

from rest_framework import serializers

FIELDS: dict[type, type[serializers.Field]] = {
    str: serializers.CharField, int: serializers.IntegerField, float: serializers.FloatField,
    bool: serializers.BooleanField, dt.datetime: serializers.DateTimeField, dt.date: serializers.DateField,
}
_made: dict[type, type[serializers.Serializer]] = {}


def serializer_for(record: type) -> type[serializers.Serializer]:
    """The serializer of the ``TypedDict`` ``record`` (one class per record), named
    ``<record>Serializer``."""
    if record not in _made:
        hints = typing.get_type_hints(record, include_extras=True)
        attrs = {name: _field(hint) for name, hint in hints.items()}
        name = f"{record.__name__}Serializer"
        _made[record] = type(name, (serializers.Serializer,), {
            **attrs, "__module__": record.__module__, "__qualname__": name, "__doc__": record.__doc__})
    return _made[record]


def _field(hint, **kw) -> serializers.Field:
    """The field of one key's type ``hint``; ``kw`` are the field's arguments (``allow_null``, ...)."""
    if typing.get_origin(hint) is typing.Annotated:
        base, *extras = typing.get_args(hint)
        field_class = None
        instances = [e for e in extras if isinstance(e, serializers.Field)]
        if instances:
            if len(extras) > 1 or kw or _nullable(base, {})[1]:
                raise TypeError(f"Annotated[{base}, ...] with a field instance: give its help text and "
                                "allow_null to the field itself, not beside it")
            return instances[0]
        for extra in extras:
            if isinstance(extra, str):
                kw["help_text"] = extra
            else:
                field_class = extra
        if field_class is not None:
            return field_class(**_nullable(base, kw)[1])
        return _field(base, **kw)
    hint, kw = _nullable(hint, kw)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if typing.is_typeddict(hint):
        return serializer_for(hint)(**kw)
    if origin is list:
        (item,) = args
        if typing.is_typeddict(item):
            return serializer_for(item)(many=True, **kw)
        return serializers.ListField(child=_field(item), **kw)
    if hint is dict or origin is dict:
        return serializers.DictField(child=_field(args[1]), **kw) if args else serializers.DictField(**kw)
    if hint not in FIELDS:
        known = ", ".join(t.__name__ for t in FIELDS)
        raise TypeError(f"no serializer field for the type {hint!r} (known: {known}, X | None, list[X], "
                        "dict[str, X], a TypedDict, or Annotated with a field)")
    return FIELDS[hint](**kw)


def _nullable(hint, kw: dict) -> tuple[object, dict]:
    """``X | None`` as ``X`` and ``allow_null=True``; any other type as it is."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"{hint}: one type or None, not a union of several")
        (hint,) = rest
        kw = {**kw, "allow_null": True}
    return hint, kw
