"""The partner's team line-up as the partner edits it: names, e-mails and roles of its people."""

from django import forms

from integrations.models import TeamMember
from roadmap.lineup import ROLE_NAMES

ROLE_HINT = "Choose a role: " + ", ".join(ROLE_NAMES[r] for r in ("pm", "developer")) + f" or {ROLE_NAMES['qa']}."


class TeamMemberForm(forms.ModelForm):
    class Meta:
        model = TeamMember
        fields = ["name", "email", "role"]
        error_messages = {
            "role": {"invalid_choice": ROLE_HINT, "required": ROLE_HINT},
            "name": {"required": "Give the person's name."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "E-mail"
        self.fields["name"].widget.attrs["placeholder"] = "Name"
        self.fields["email"].widget.attrs["placeholder"] = "E-mail"
        self.fields["role"].choices = [("", "Role…"), *TeamMember.Role.choices]
        self.fields["email"].error_messages["invalid"] = "Enter an e-mail address such as dev@broker.example.com."

    def clean_name(self):
        return self.cleaned_data["name"].strip()


def member_form(integration, member=None, data=None) -> TeamMemberForm:
    prefix = f"member-{member.pk}" if member is not None else "member-new"
    form = TeamMemberForm(data, instance=member or TeamMember(integration=integration), prefix=prefix)
    return form
