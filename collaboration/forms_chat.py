"""Chat forms: the composer's no-JavaScript path, direct messages and private groups.

They only parse input; the chat services decide what is allowed (message length, the send rate,
who may join a room), so the pages refuse exactly what the socket and the API refuse.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.accounts.selectors import user_list_active


class TeammateChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.label


def _other_active_users(user: User):
    return user_list_active().exclude(pk=user.pk)


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    file = forms.FileField(label=_("Attach a file"), required=False)
    client_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not data.get("body") and not data.get("file"):
            raise forms.ValidationError(_("Write a message or attach a file."), code="invalid")
        return data

    def message_body(self) -> str:
        """What is posted: the text, or the file's name when only a file is sent (a message is
        never empty, and the name says what the attachment is)."""
        upload = self.cleaned_data.get("file")
        return self.cleaned_data.get("body") or (upload.name if upload else "")


class DirectMessageForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Teammate"), queryset=User.objects.none())

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _other_active_users(user)


class GroupCreateForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=120)
    members = TeammateChoiceField(
        label=_("Members"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("You are a member of the groups you create."),
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = _other_active_users(user)


class GroupMembersAddForm(forms.Form):
    members = TeammateChoiceField(
        label=_("Add members"),
        queryset=User.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args, current_member_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = user_list_active().exclude(pk__in=current_member_ids)
