"""Young people's sign-up, confirmed by email (docs/web-opportunities.md, "Sign-up").

The sign-up page answers every valid request the same way ("Check your email"), whether or not the
address already has an account, so it tells nobody which addresses have accounts. What differs is the
email, which only the owner of the address reads:

- **a new address**: an account is created *inactive* with no password (the nickname and year of birth
  given), and the email holds a link to choose a password. Choosing it activates the account and signs
  the person in. The password is chosen only after the address is proven: someone who signs up with
  another person's address cannot know the password of the account it becomes.
- **an address waiting for confirmation** (signed up, link not used): a new link is sent; the details
  are *not* changed (an unauthenticated request never changes an account), but the link's page shows
  the nickname and year of birth to check and correct before the password is chosen, so only the owner
  of the address decides them, whoever signed up first. The time of the last link is recorded
  (``date_joined``) so that :func:`purge_unconfirmed` never deletes an account whose link still works.
- **an address with an account**: an email saying someone tried to sign up with it, with the links to
  sign in and to reset the password. Nothing is changed.
- **an address whose account is deactivated**: an email saying the account is not active and to
  contact the organisation. Nothing is changed.

Every path sends exactly one email (none when the address is over its limit, ``accounts.ratelimits``),
so neither the answer nor its timing tells which addresses have accounts. Two sign-ups for a new address
at the same moment both succeed: the second finds the row the first inserted (unique email) and
continues as an address waiting for confirmation.

The link is Django's password-reset token machinery with its own salt (:class:`SignUpTokenGenerator`):
valid for ``PASSWORD_RESET_TIMEOUT`` (3 days), and once only, because the token covers the password
and ``is_active``, which choosing the password changes.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode

from vru.web.accounts.models import User
from vru.web.core.forms import GovukFormMixin

from .forms import SignUpForm
from .models import YoungPerson
from .roles import YOUNG_PERSON


class SignUpTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset tokens under another salt, so a sign-up link is never a password-reset link."""

    key_salt = "vru.web.opportunities.signup.SignUpTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.password}{user.is_active}{user.last_login}{timestamp}{user.email}"


signup_tokens = SignUpTokenGenerator()
NEXT_SESSION_KEY = "lvn_signup_next"


def is_pending(user: User) -> bool:
    """An account made by sign-up whose link has not been used yet (inactive, no password)."""
    return (not user.is_active and not user.has_usable_password() and user.last_login is None
            and YoungPerson.objects.filter(user=user).exists())


def purge_unconfirmed(now=None) -> int:
    """Delete sign-ups whose link has expired unused (retention: nothing is kept for a person who never
    confirmed). A pending account older than ``PASSWORD_RESET_TIMEOUT`` can no longer be confirmed, so
    its nickname and year of birth serve no purpose. Returns how many accounts were deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    stale = User.objects.filter(is_active=False, last_login__isnull=True, date_joined__lt=cutoff,
                                young_person__isnull=False)
    deleted = 0
    for user in stale:
        if not is_pending(user):
            continue
        with transaction.atomic():
            user.delete()
        deleted += 1
    return deleted


def start(request, email: str, nickname: str, birth_year: int, next_url: str = "") -> None:
    """Send the email of a sign-up for ``email`` (see the module's docstring)."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email).first()
        if user is None:
            user = User(email=email, is_active=False)
            user.set_unusable_password()
            try:
                with transaction.atomic():  # a savepoint: a parallel sign-up may insert the address first
                    user.save()
                    YoungPerson.objects.create(user=user, nickname=nickname, birth_year=birth_year)
                    user.groups.add(Group.objects.get(name=YOUNG_PERSON))
            except IntegrityError:  # it did (unique email): the address is now waiting for confirmation
                user = User.objects.select_for_update().get(email=email)
        elif is_pending(user):
            # a new link: recorded, so that the purge counts from it; the details stay as they are
            User.objects.filter(pk=user.pk).update(date_joined=timezone.now())
        if not is_pending(user):
            if user.is_active:
                which, ctx = "exists", {"login_url": request.build_absolute_uri(reverse("login")),
                                        "reset_url": request.build_absolute_uri(reverse("password_reset"))}
            else:
                which, ctx = "inactive", {}
            _send(request, user, which, ctx)
            return
    path = reverse("opportunities:signup_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": signup_tokens.make_token(user)})
    if next_url:
        path += "?" + urlencode({"next": next_url})
    _send(request, user, "confirm", {"link": request.build_absolute_uri(path)})


def _send(request, user: User, which: str, ctx: dict) -> None:
    ctx = {**ctx, "email": user.email, "site": request.get_host()}
    subject = render_to_string(f"opportunities/email/signup_{which}_subject.txt", ctx).strip()
    body = render_to_string(f"opportunities/email/signup_{which}.txt", ctx)
    send_mail(subject, body, None, [user.email])


class ChoosePasswordForm(GovukFormMixin, SetPasswordForm):
    """The confirmation page's form: the nickname and year of birth (as given at sign-up, to check or
    correct: whoever signed up first, only the owner of the address reaches this page), then Django's
    set-password fields (its validators), in GOV.UK markup."""

    nickname = SignUpForm.base_fields["nickname"]
    birth_year = SignUpForm.base_fields["birth_year"]
    clean_nickname = SignUpForm.clean_nickname
    clean_birth_year = SignUpForm.clean_birth_year
    field_order = ["nickname", "birth_year", "new_password1", "new_password2"]

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        yp = YoungPerson.objects.filter(user=user).first()
        if yp is not None:
            self.fields["nickname"].initial, self.fields["birth_year"].initial = yp.nickname, yp.birth_year
        self.fields["nickname"].help_text = "Providers see only this. Check it, and change it if it is wrong"
        self.fields["birth_year"].help_text = "Check it, and change it if it is wrong"

    def save(self, commit=True):
        user = super().save(commit=commit)
        YoungPerson.objects.filter(user=user).update(nickname=self.cleaned_data["nickname"],
                                                    birth_year=self.cleaned_data["birth_year"])
        return user


class ConfirmView(auth_views.PasswordResetConfirmView):
    """The link of the sign-up email: Django's reset-confirm view (the token leaves the address bar
    before the page is shown), with the sign-up tokens; choosing the password activates the account
    and signs the young person in. Only an account waiting for confirmation can be confirmed."""

    token_generator = signup_tokens
    form_class = ChoosePasswordForm
    template_name = "opportunities/signup_confirm.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("opportunities:search")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and is_pending(user) else None

    def dispatch(self, *args, **kwargs):
        nxt = self.request.GET.get("next", "")
        if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={self.request.get_host()},
                                                   require_https=self.request.is_secure()):
            self.request.session[NEXT_SESSION_KEY] = nxt  # the redirect to the form drops the query
        return super().dispatch(*args, **kwargs)

    def form_valid(self, form):
        form.user.is_active = True  # saved with the password by the form
        response = super().form_valid(form)
        nickname = YoungPerson.objects.get(user=form.user).nickname
        messages.success(self.request, f"Welcome, {nickname}: your account is ready")
        return response

    def get_success_url(self):
        return self.request.session.pop(NEXT_SESSION_KEY, None) or str(self.success_url)
