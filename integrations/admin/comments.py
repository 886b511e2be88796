"""Comments on steps: found by step, author, text or internal flag, read, and removed when they must go.

Comments are written on the integration and stage pages (and the API), where the rules and the
mentions live (``integrations.comments``); here they are only read and, if need be, deleted.
"""

from django.contrib import admin
from django.utils.text import Truncator

from integrations.models import Comment


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["created_at", "step", "who", "internal", "excerpt"]
    list_filter = ["internal", "step__integration__partner"]
    search_fields = ["body", "author__username", "step__integration__name", "step__integration__partner__name"]
    list_select_related = ["step__integration__partner", "author"]
    date_hierarchy = "created_at"
    readonly_fields = ["step", "author", "body", "internal", "created_at"]
    fields = readonly_fields

    @admin.display(description="Comment")
    def excerpt(self, comment):
        return Truncator(comment.body).chars(80)

    @admin.display(description="By")
    def who(self, comment):
        return comment.who

    def has_add_permission(self, request):
        return False  # written on the pages, where mentions are heard

    def has_change_permission(self, request, obj=None):
        return False
