"""The admin's operations: changes made by calling a service function rather than by editing fields.

An operation is offered both as an admin action on the list and as a button on the change page,
shows an intermediate form when it needs input, and reports the service's refusal
(a ValidationError) as an error message instead of failing the request.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse


def _always(obj, user) -> bool:
    return True


@dataclass(frozen=True)
class Operation:
    name: str  # the action's name and the URL slug of its page
    label: str  # the button, the action's description and the page title
    done: str  # the success message's opening, e.g. "Kicked off"
    run: Callable  # run(obj, cleaned_data, user); raises ValidationError to refuse
    form_class: type[forms.Form] | None = None
    available: Callable[[object, object], bool] = _always  # available(obj, user): offered on obj's page
    permission: str = "change"
    message: Callable | None = None  # message(obj, result) replacing the default success message


class OperationsAdmin(admin.ModelAdmin):
    """A ModelAdmin offering ``operations`` as actions and as change-page buttons."""

    operations: tuple[Operation, ...] = ()
    change_form_template = "admin/change_form_operations.html"

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_operation"
        # Ahead of the default URLs, whose "<path:object_id>/" would swallow this one.
        return [
            path("<path:object_id>/do/<slug:operation>/", self.admin_site.admin_view(self.operation_view), name=name),
            *super().get_urls(),
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        for op in self.operations:
            if self._may(request, op):
                actions[op.name] = (self._as_action(op), op.name, op.label)
        return actions

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context["operation_links"] = [
                (op.label, self.operation_url(obj, op))
                for op in self.operations
                if self._may(request, op) and op.available(obj, request.user)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def operation_url(self, obj, op: Operation) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_operation", args=[quote(obj.pk), op.name])

    def operation_view(self, request, object_id, operation):
        op = next((op for op in self.operations if op.name == operation), None)
        if op is None:
            raise Http404(f"No operation {operation!r}.")
        if not self._may(request, op):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return self.operate(request, op, [obj], obj=obj)

    def operate(self, request, op: Operation, objects: list, obj=None):
        """Show the operation's page for ``objects``, or run it once its form is submitted.

        From the list (``obj`` is None) returning None sends the user back to the list, as admin
        actions do; from one object's page the user goes back to that object.
        """
        from_list = obj is None
        if from_list and op.form_class is None:
            self.run_operation(request, op, objects, {})
            return None
        # From the list, the first POST is the changelist's own; "apply" marks our form's.
        submitted = request.method == "POST" and (not from_list or "apply" in request.POST)
        form = (op.form_class or forms.Form)(request.POST if submitted else None)
        if submitted and form.is_valid():
            self.run_operation(request, op, objects, form.cleaned_data)
            if from_list:
                return None
            return HttpResponseRedirect(self._change_url(obj))
        context = {
            **self.admin_site.each_context(request),
            "title": op.label,
            "opts": self.opts,
            "operation": op,
            "objects": objects,
            "object_names": [self.operation_object_name(o) for o in objects],
            "original": obj,
            "form": form,
            "from_list": from_list,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": request.get_full_path() if from_list else self._change_url(obj),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/operation_form.html", context)

    def run_operation(self, request, op: Operation, objects: list, data: dict):
        """Run ``op`` on each object on its own, so one refusal does not stop the others."""
        done = []
        for obj in objects:
            try:
                result = op.run(obj, data, request.user)
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, self.operation_error(obj, message), messages.ERROR)
                continue
            if op.message:
                self.message_user(request, op.message(obj, result), messages.SUCCESS)
            else:
                done.append(f"{self.operation_subject_prefix(obj)}{obj}")
        if done:
            self.message_user(request, f"{op.done}: {'; '.join(done)}.", messages.SUCCESS)

    def operation_object_name(self, obj) -> str:
        """How ``obj`` is named on the operation's page."""
        return f"{self.operation_subject_prefix(obj)}{obj}"

    def operation_subject_prefix(self, obj) -> str:
        """What to put before an object's name in messages when the name alone is ambiguous."""
        return ""

    def operation_error(self, obj, message: str) -> str:
        """The error message to show when the service refused ``obj`` with ``message``."""
        return message

    def _may(self, request, op: Operation) -> bool:
        return getattr(self, f"has_{op.permission}_permission")(request)

    def _as_action(self, op: Operation):
        def action(modeladmin, request, queryset):
            return modeladmin.operate(request, op, list(queryset))

        action.__name__ = op.name
        return action

    def _change_url(self, obj) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(obj.pk)])


class OperationsOnlyAdmin(OperationsAdmin):
    """Rows the product writes (steps, Jira deliveries, outbox messages): a person changes them only
    through the operations, never by editing fields, adding or deleting a row."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The model-level permission (obj None) grants the operations; a row's own page is read-only.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False
