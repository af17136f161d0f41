"""Pages of the survey (docs/web-survey.md).

Respondents (public, no account, no session): ``/survey/`` chooses the language; ``/survey/<lang>/`` says
what is and is not stored and starts (a POST: a GET, such as a mail client's preview of an invitation link,
records nothing); ``code/`` shows the resume code once; ``q/<n>/`` is one group of questions; ``check/``
sends; ``done/``. The place in the flow is the ``vru_survey`` cookie, which holds the resume code (the
server keeps only its keyed hash, as the name of the draft's encrypted file: ``survey.drafts``); it and
the CSRF cookie are deleted when the flow ends. Everything works without JavaScript: plain forms,
answered on the server.

Staff: ``staff/invitations/`` issues invitation codes (``survey.issue_invitations``), ``results/`` and
``results.csv`` show the published releases (``survey.view_results``; unsuppressed figures of any period
inside the unit for ``accounts.view_unsuppressed``, audited with a purpose, never recorded). A period is
published with ``manage.py survey_publish`` (``survey.publish_results``, audited).
"""

from __future__ import annotations

import os
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from vru.web.accounts.audit import audit
from vru.web.core.access import require_perms

from . import codes, flow, invitations, results
from .forms import InvitationForm, UnsuppressedForm, group_form, unknown_fields
from .questionnaire import Questionnaire
from .ratelimit import LIMITER, parse_rate

COOKIE = "vru_survey"
COOKIE_PATH = "/survey/"
# Rate limits (survey.ratelimit: in this process's memory, no times kept): new drafts per network, wrong
# codes per network (counted and refused on failed lookups only), starts per invitation code. A network
# is a keyed hash (codes.network_key); a code its keyed hash (codes.code_rate_key), both under the
# process's random key.
NETWORK_STARTS = os.environ.get("VRU_SURVEY_NETWORK_RATE", "300/h")
NETWORK_WRONG_CODES = "20/h"
CODE_STARTS = "10/h"
for _rate in (NETWORK_STARTS, NETWORK_WRONG_CODES, CODE_STARTS):
    parse_rate(_rate)  # a malformed VRU_SURVEY_NETWORK_RATE stops the start-up, not a respondent's request


def _ctx(q: Questionnaire, version, lang: str, page: str, **kw) -> dict:
    """The template context; ``query`` (the start page's ``?c=CODE``) is kept on the language links."""
    t = {k.replace(".", "_"): q.text(lang, k) for k in q.d["strings"]["en"]}
    switch = []
    for other in q.languages:
        switch.append({"code": other, "name": q.language_name(other), "dir": q.direction(other),
                       "url": reverse(f"survey:{page}", kwargs={"lang": other, **kw.get("url_kwargs", {})})
                       + kw.get("query", ""),
                       "current": other == lang})
    return {"q": q, "version": version, "lang": lang, "dir": q.direction(lang), "t": t,
            "review": q.review(lang), "languages": switch, **kw}


def _survey(lang: str):
    version = flow.live_version()
    if version is None:
        raise Http404("the survey is not open")
    q = version.questionnaire
    if lang not in q.languages:
        raise Http404("no such language")
    return version, q


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def _end_flow(response):
    """Delete the flow's cookies: its own and the CSRF cookie."""
    response.delete_cookie(COOKIE, path=COOKIE_PATH, samesite="Strict")
    response.delete_cookie(settings.CSRF_COOKIE_NAME, path=settings.CSRF_COOKIE_PATH,
                           domain=settings.CSRF_COOKIE_DOMAIN, samesite=settings.CSRF_COOKIE_SAMESITE)
    return response


def _problem(request, q, version, lang, message_id: str, status: int, page="start"):
    ctx = _ctx(q, version, lang, page, message=q.text(lang, message_id), message_id=message_id)
    return _no_store(render(request, "survey/problem.html", ctx, status=status))


UNAVAILABLE = "We could not save your answers just now. Nothing was lost: please try again in a few minutes."


def _unavailable(request, q, version, lang):
    """503: a draft or a response could not be written (the disk full, say); the draft was put back as it
    was, so trying again works. In the questionnaire's language when it has ``err.unavailable``."""
    message = q.text(lang, "err.unavailable") if q.has_text("err.unavailable") else UNAVAILABLE
    ctx = _ctx(q, version, lang, "start", message=message, message_id="err.unavailable")
    response = _no_store(render(request, "survey/problem.html", ctx, status=503))
    response["Retry-After"] = "120"
    return response


def _draft(request):
    return flow.find_draft(request.COOKIES.get(COOKIE, ""))


@never_cache
def choose_language(request):
    """The first screen: the languages, each in its own script; an invitation code in the link
    (``?c=``) is carried to the next page and nowhere else. Records nothing."""
    version = flow.live_version()
    if version is None:
        raise Http404("the survey is not open")
    q = version.questionnaire
    code = codes.normalise(request.GET.get("c", ""))[:codes.LENGTH]
    suffix = f"?{urlencode({'c': code})}" if code else ""
    langs = [{"code": lang, "name": q.language_name(lang), "dir": q.direction(lang),
              "url": reverse("survey:start", kwargs={"lang": lang}) + suffix} for lang in q.languages]
    return render(request, "survey/choose_language.html", {"langs": langs, "q": q, "lang": "en", "dir": "ltr",
                                                          "t": {"ui_service": q.text("en", "ui.service")}})


@never_cache
@require_http_methods(["GET", "POST"])
def start(request, lang):
    version, q = _survey(lang)
    code = codes.normalise(request.POST.get("code") if request.method == "POST" else request.GET.get("c", ""))
    if request.method == "POST":
        if unknown_fields(q, "", {k: v for k, v in request.POST.items() if k != "code"}):
            return _problem(request, q, version, lang, "err.unknown_question", 400)
        network = codes.network_key("survey", request)
        if LIMITER.hit("survey:network-starts", network, NETWORK_STARTS):
            return _problem(request, q, version, lang, "err.rate_limited", 429)
        if code and codes.looks_valid(code) and LIMITER.hit("survey:code-starts", codes.code_rate_key(code),
                                                            CODE_STARTS):
            return _problem(request, q, version, lang, "err.rate_limited", 429)
        flow.purge_expired()
        try:
            resume, _draft_row = flow.start(version, code)
        except flow.Refused as refused:
            # Only a failed lookup counts against the network, and only a failed lookup is refused for it:
            # many people share one address (mobile carriers' NAT), and a valid code must still start.
            if refused.message_id == "err.code_invalid" and LIMITER.hit("survey:wrong-codes", network,
                                                                        NETWORK_WRONG_CODES):
                return _problem(request, q, version, lang, "err.rate_limited", 429)
            ctx = _ctx(q, version, lang, "start", code=codes.display(code) if code else "",
                       error=q.text(lang, refused.message_id), query=_code_query(code))
            return _no_store(render(request, "survey/start.html", ctx, status=refused.status))
        response = redirect("survey:code", lang=lang)
        response.set_cookie(COOKIE, resume, path=COOKIE_PATH, httponly=True, samesite="Strict",
                            secure=settings.SESSION_COOKIE_SECURE)
        return response
    ctx = _ctx(q, version, lang, "start", code=codes.display(code) if codes.looks_valid(code) else "",
               query=_code_query(code))
    return _no_store(render(request, "survey/start.html", ctx))


def _code_query(code: str) -> str:
    """``?c=CODE`` for the start page's language links, so that changing the language keeps the code
    from the invitation link (only a well-formed code; the query string is never logged)."""
    return f"?{urlencode({'c': codes.normalise(code)})}" if codes.looks_valid(code) else ""


@never_cache
def show_code(request, lang):
    version, q = _survey(lang)
    resume = request.COOKIES.get(COOKIE, "")
    if _draft(request) is None:
        return _problem(request, q, version, lang, "err.no_draft", 404)
    ctx = _ctx(q, version, lang, "code", resume=codes.display(resume),
               next_url=reverse("survey:step", kwargs={"lang": lang, "step": 1}))
    return _no_store(render(request, "survey/code.html", ctx))


@never_cache
@require_http_methods(["GET", "POST"])
def resume(request, lang):
    version, q = _survey(lang)
    if request.method == "POST":
        network = codes.network_key("survey", request)
        code = codes.normalise(request.POST.get("resume_code", ""))
        draft = flow.find_draft(code)
        if draft is None:  # a valid resume code passes whatever its network's count (see start())
            if LIMITER.hit("survey:wrong-codes", network, NETWORK_WRONG_CODES):
                return _problem(request, q, version, lang, "err.rate_limited", 429, page="resume")
            ctx = _ctx(q, version, lang, "resume", error=q.text(lang, "err.resume_invalid"))
            return _no_store(render(request, "survey/resume.html", ctx, status=400))
        step = _first_unanswered(draft.version.questionnaire, draft.answers)
        target = (reverse("survey:check", kwargs={"lang": lang}) if step is None
                  else reverse("survey:step", kwargs={"lang": lang, "step": step}))
        response = redirect(target)
        response.set_cookie(COOKIE, code, path=COOKIE_PATH, httponly=True, samesite="Strict",
                            secure=settings.SESSION_COOKIE_SECURE)
        return response
    return _no_store(render(request, "survey/resume.html", _ctx(q, version, lang, "resume")))


def _first_unanswered(q: Questionnaire, answers: dict) -> int | None:
    for i, group in enumerate(q.groups, start=1):
        if any(question.required and question.key not in answers for question in q.group_questions(group)):
            return i
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def step(request, lang, step):
    version, _ = _survey(lang)
    draft = _draft(request)
    live_q = version.questionnaire
    if draft is None:
        return _problem(request, live_q, version, lang, "err.no_draft", 404)
    q = draft.version.questionnaire
    if not 1 <= step <= len(q.groups):
        raise Http404("no such step")
    group = q.groups[step - 1]
    if request.method == "POST":
        try:
            flow.check_version(draft, request.POST.get("version"))
        except flow.Refused as refused:
            return _problem(request, live_q, version, lang, refused.message_id, refused.status)
        if unknown_fields(q, group, request.POST):
            return _problem(request, q, draft.version, lang, "err.unknown_question", 400)
        form = group_form(q, group, lang, data=request.POST)
        if form.is_valid():
            try:
                flow.save_page(draft, form.cleaned_data)
            except flow.Refused as refused:  # sent or expired meanwhile (another tab)
                return _problem(request, live_q, version, lang, refused.message_id, refused.status)
            except OSError:  # the draft could not be written (disk full): it was put back as it was
                return _unavailable(request, live_q, version, lang)
            if step < len(q.groups):
                return redirect("survey:step", lang=lang, step=step + 1)
            return redirect("survey:check", lang=lang)
        status = 400
    else:
        form = group_form(q, group, lang, initial=draft.answers)
        status = 200
    back = (reverse("survey:step", kwargs={"lang": lang, "step": step - 1}) if step > 1
            else reverse("survey:code", kwargs={"lang": lang}))
    hint_id = f"g.{group}.hint"
    ctx = _ctx(q, draft.version, lang, "step", url_kwargs={"step": step}, form=form, step=step,
               total=len(q.groups), back=back, title=q.text(lang, f"g.{group}"),
               hint=q.text(lang, hint_id) if q.has_text(hint_id) else "",
               progress=q.text(lang, "ui.step", n=step, total=len(q.groups)),
               fields=[(form[question.key], question) for question in q.group_questions(group)])
    return _no_store(render(request, "survey/step.html", ctx, status=status))


@never_cache
@require_http_methods(["GET", "POST"])
def check(request, lang):
    version, live_q = _survey(lang)
    draft = _draft(request)
    if draft is None:
        return _problem(request, live_q, version, lang, "err.no_draft", 404)
    q = draft.version.questionnaire
    if request.method == "POST":
        try:
            flow.check_version(draft, request.POST.get("version"))
            if unknown_fields(q, "", request.POST):
                raise flow.Refused("err.unknown_question")
            step = _first_unanswered(q, draft.answers)
            if step is not None:
                return redirect("survey:step", lang=lang, step=step)
            flow.complete(draft, lang)
        except flow.Refused as refused:
            return _problem(request, live_q, version, lang, refused.message_id, refused.status)
        except OSError:  # the response could not be written to the pool: the draft was put back
            return _unavailable(request, live_q, version, lang)
        return _end_flow(redirect("survey:done", lang=lang))
    rows = []
    for i, group in enumerate(q.groups, start=1):
        for question in q.group_questions(group):
            value = draft.answers.get(question.key, "")
            if question.text:
                shown = value
            else:
                shown = q.option_label(lang, question, value) if value else ""
            rows.append({"label": q.text(lang, f"q.{question.key}"),
                         "value": shown or q.text(lang, "ui.not_answered"),
                         "url": reverse("survey:step", kwargs={"lang": lang, "step": i})})
    ctx = _ctx(q, draft.version, lang, "check", rows=rows,
               back=reverse("survey:step", kwargs={"lang": lang, "step": len(q.groups)}))
    return _no_store(render(request, "survey/check.html", ctx))


@never_cache
def done(request, lang):
    version, q = _survey(lang)
    return _end_flow(_no_store(render(request, "survey/done.html", _ctx(q, version, lang, "done"))))


# --- staff ---------------------------------------------------------------------------------------------


@never_cache
@require_perms("survey.issue_invitations")
@require_http_methods(["GET", "POST"])
def issue_invitations(request):
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        batch, issued = invitations.issue(request.user, form.cleaned_data["count"], form.cleaned_data["note"])
        audit(request, "issue survey invitations", batch,
              f"survey invitations: {batch.size} codes for letters and text messages")
        base = request.build_absolute_uri(reverse("survey:choose_language"))
        letters = [invitations.letter(code, base) for code in issued]
        return _no_store(render(request, "survey/staff/letters.html", {"batch": batch, "letters": letters}))
    return _no_store(render(request, "survey/staff/invitations.html", {"form": form}))


def _published_entry(request, entries):
    """The published release of ``?period=`` (404 if that period is not published), else the latest."""
    wanted = request.GET.get("period", "")
    if not wanted:
        return entries[0] if entries else None
    entry = next((e for e in entries if e.period == wanted), None)
    if entry is None:
        raise Http404("no results published for that period")
    return entry


def _results_context(request):
    """The published releases (``?period=``: one of them; default the latest). With
    ``accounts.view_unsuppressed``, a POST with a purpose: the unsuppressed figures of any period, computed
    now, audited, never recorded. A GET never writes (not even the audit row)."""
    entries = results.published()
    may_unsuppress = request.user.has_perm("accounts.view_unsuppressed")
    form = UnsuppressedForm(request.POST if request.method == "POST" and may_unsuppress else None)
    if form.is_bound and form.is_valid():
        period = form.cleaned_data["period"]
        audit(request, "view unsuppressed survey results", None,
              f"{form.cleaned_data['purpose']} (period {period or 'latest'})")
        release = results.preview(period or None, unsuppressed=True)
        return {"release": release, "unsuppressed": True, "form": form, "may_unsuppress": True,
                "entries": entries}
    # with a purpose, ?period= belongs to the (invalid) unsuppressed form: show its errors and the latest
    entry = (entries[0] if entries else None) if form.is_bound else _published_entry(request, entries)
    release = results.as_release(entry) if entry else None
    return {"release": release, "unsuppressed": False, "form": form, "may_unsuppress": may_unsuppress,
            "entries": entries}


@never_cache
@require_perms("survey.view_results")
@require_http_methods(["GET", "POST"])
def results_page(request):
    if request.method == "POST" and not request.user.has_perm("accounts.view_unsuppressed"):
        raise PermissionDenied("the unsuppressed figures need accounts.view_unsuppressed")
    from .management.commands.survey_shuffle import overdue
    from .pool import pool

    context = {**_results_context(request), "shuffle_overdue": overdue(), "pool_waiting": pool().waiting()}
    return _no_store(render(request, "survey/staff/results.html", context))


@never_cache
@require_perms("survey.view_results")
def results_csv(request):
    """The published tables of one period (``?period=``, default the latest) as CSV; never unsuppressed."""
    entries = results.published()
    entry = _published_entry(request, entries)
    if entry is None:
        raise Http404("no results published yet")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="victim-voice-results-{entry.period}.csv"'
    results.write_csv(results.as_release(entry), response)
    return _no_store(response)
