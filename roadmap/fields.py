"""A model field holding several values from a fixed set of choices.

Stored as comma-separated codes in one text column, so it works the same on SQLite and
PostgreSQL and can be filtered with ``__contains`` (no code is a substring of another, which
``ChoiceListField.check`` verifies).
"""

from django import forms
from django.core import checks, exceptions
from django.db import models


class ChoiceListField(models.CharField):
    def __init__(self, *args, choice_list=(), **kwargs):
        self.choice_list = tuple(choice_list)
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["choice_list"] = self.choice_list
        if kwargs.get("max_length") == 200:
            del kwargs["max_length"]
        if kwargs.get("blank") is True:
            del kwargs["blank"]
        if kwargs.get("default") is list:
            del kwargs["default"]
        return name, path, args, kwargs

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        codes = [code for code, _ in self.choice_list]
        for code in codes:
            if any(code != other and code in other for other in codes):
                errors.append(checks.Error(f"choice {code!r} is part of another choice", obj=self))
        return errors

    @property
    def codes(self):
        return [code for code, _ in self.choice_list]

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if value is None:
            return []
        if isinstance(value, (list, tuple)):
            return list(value)
        return [item.strip() for item in str(value).split(",") if item.strip()]

    def get_prep_value(self, value):
        if value is None:
            return None
        # Keep the choices' own order so equal sets are stored identically.
        order = {code: i for i, code in enumerate(self.codes)}
        items = dict.fromkeys(self.to_python(value))
        return ",".join(sorted(items, key=lambda c: order.get(c, len(order))))

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))

    def validate(self, value, model_instance):
        if not value and not self.blank:
            raise exceptions.ValidationError(self.error_messages["blank"], code="blank")
        unknown = [item for item in value if item not in self.codes]
        if unknown:
            raise exceptions.ValidationError(
                "Unknown value %(unknown)s; choose from %(allowed)s.",
                code="invalid_choice",
                params={"unknown": ", ".join(repr(u) for u in unknown), "allowed": ", ".join(self.codes)},
            )

    def run_validators(self, value):
        # The max_length validator would measure the list, not the stored text.
        super().run_validators(self.get_prep_value(value))

    def formfield(self, **kwargs):
        # Skip CharField.formfield: it would add max_length/empty_value, which a multiple
        # choice field does not take. A single-value widget (the admin passes its text input
        # for every CharField) cannot hold a list, so it gives way to checkboxes.
        widget = kwargs.pop("widget", None)
        if widget is None or not getattr(widget, "allow_multiple_selected", False):
            widget = forms.CheckboxSelectMultiple
        return models.Field.formfield(
            self,
            form_class=forms.TypedMultipleChoiceField,
            choices=self.choice_list,
            widget=widget,
            **kwargs,
        )
