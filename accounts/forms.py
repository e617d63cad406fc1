import math

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.middleware import client_ip

from .models import Section, User
from .roles import Role
from .services import (
    LoginRefusal,
    login_failure_register,
    login_refusal,
    login_success_register,
    normalise_username,
)

# One message for a wrong name, a wrong password and an inactive account: the login page never
# tells whether a username exists.
INVALID_LOGIN = "用户名或密码错误。连续失败 5 次将锁定 30 分钟。"
LOCKED = "该账户因多次登录失败已被临时锁定，请 30 分钟后再试，或联系安全管理员。"


def _refusal_message(refusal: LoginRefusal) -> str:
    if refusal.code == "locked":
        return LOCKED
    seconds = max(1, math.ceil((refusal.until - timezone.now()).total_seconds()))
    if refusal.code == "address_blocked":
        return _(
            "本机所在地址登录失败次数过多，已暂停登录，请 %(minutes)d 分钟后再试或联系安全管理员。"
        ) % {"minutes": math.ceil(seconds / 60)}
    return _("登录尝试过于频繁，请 %(seconds)d 秒后再试。") % {"seconds": seconds}


class LoginForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    password = forms.CharField(label="密码", strip=False, widget=forms.PasswordInput)

    def __init__(self, request=None, *args, **kwargs):
        self.request = request
        self.user_cache = None
        super().__init__(*args, **kwargs)

    def clean(self):
        username = normalise_username(self.cleaned_data.get("username", ""))
        password = self.cleaned_data.get("password", "")
        if not username or not password:
            return self.cleaned_data
        address = client_ip(self.request) if self.request is not None else ""
        refusal = login_refusal(username=username, address=address)
        if refusal is not None:
            raise forms.ValidationError(_refusal_message(refusal), code=refusal.code)
        user = authenticate(self.request, username=username, password=password)
        if user is None:
            if login_failure_register(username=username, address=address):
                raise forms.ValidationError(LOCKED, code="locked")
            raise forms.ValidationError(INVALID_LOGIN, code="invalid_login")
        login_success_register(username=username, address=address)
        self.user_cache = user
        return self.cleaned_data

    def get_user(self):
        return self.user_cache


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label="当前密码", strip=False, widget=forms.PasswordInput)
    new_password1 = forms.CharField(
        label="新密码",
        strip=False,
        widget=forms.PasswordInput,
        help_text="；".join(password_validators_help_texts()),
    )
    new_password2 = forms.CharField(label="确认新密码", strip=False, widget=forms.PasswordInput)

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        old = self.cleaned_data["old_password"]
        if not self.user.check_password(old):
            raise forms.ValidationError("当前密码不正确。")
        return old

    def clean(self):
        new1 = self.cleaned_data.get("new_password1")
        new2 = self.cleaned_data.get("new_password2")
        if new1 and new2 and new1 != new2:
            self.add_error("new_password2", "两次输入的新密码不一致。")
        if new1 and new1 == self.cleaned_data.get("old_password"):
            self.add_error("new_password1", "新密码不能与当前密码相同。")
        if new1:
            try:
                validate_password(new1, self.user)
            except forms.ValidationError as exc:
                self.add_error("new_password1", exc)
        return self.cleaned_data


class UserForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["username", "full_name", "section", "mobile", "email", "is_active"]
        labels = {"username": "用户名", "email": "电子邮箱", "is_active": "启用"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section"].queryset = Section.objects.filter(is_active=True)
        if self.instance.pk:
            self.fields["username"].disabled = True


class RoleForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="角色", choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(label="授权依据", max_length=200)


class SectionForm(forms.ModelForm):
    class Meta:
        model = Section
        fields = ["code", "name", "is_lead", "phone", "is_active"]
