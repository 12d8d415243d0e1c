"""The console's audiences: subscriber questions and segments (with how many each picks)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tidings.accounts.access import account_view, has_role
from tidings.accounts.models import Account, Membership
from tidings.subscribers import audiences
from tidings.subscribers.models import Question, Segment, Subscriber
from tidings.topics.models import Topic

MANAGE = Membership.TOPIC_ADMIN


class QuestionForm(forms.Form):
    label = forms.CharField(label="Question", max_length=200)
    kind = forms.ChoiceField(choices=Question.KINDS, label="Answered with")
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Answers to choose from (one a line)",
    )
    on_subscribe_page = forms.BooleanField(
        required=False, initial=True, label="Ask on the subscribe page"
    )


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=100)
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Who follow any of these topics (none: any)",
    )
    question = forms.ModelChoiceField(
        queryset=Question.objects.none(),
        required=False,
        empty_label="Whatever they answered",
        label="And answered",
    )
    values = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="With one of these answers (one a line)",
    )

    def __init__(self, account: Account, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["topics"].queryset = Topic.objects.filter(account=account).order_by("name")  # type: ignore[attr-defined]
        self.fields["question"].queryset = Question.objects.filter(account=account)  # type: ignore[attr-defined]


def segment_size(segment: Segment) -> int:
    """Confirmed subscribers the segment picks (what a bulletin to it could reach)."""
    picked = Subscriber.objects.filter(account_id=segment.account_id, status=Subscriber.CONFIRMED)
    return picked.filter(audiences.in_segment(segment)).count()


@account_view()
def audience_page(request: HttpRequest, account: Account) -> HttpResponse:
    question_form = QuestionForm(request.POST if "question" in request.POST else None)
    segment_form = SegmentForm(account, request.POST if "segment" in request.POST else None)
    if request.method == "POST":
        if not has_role(request, MANAGE):
            raise Http404
        try:
            if "question" in request.POST and question_form.is_valid():
                data = question_form.cleaned_data
                audiences.save_question(account, label=data["label"], kind=data["kind"],
                                        choices=data["choices"],
                                        on_subscribe_page=data["on_subscribe_page"])  # fmt: skip
                messages.success(request, "Question saved.")
                return redirect("subscribers_console:audiences", account.code)
            if "segment" in request.POST and segment_form.is_valid():
                data = segment_form.cleaned_data
                saved = audiences.save_segment(
                    account,
                    name=data["name"],
                    topics=list(data["topics"]),
                    question=data["question"],
                    values=data["values"],
                )
                messages.success(
                    request, f"Segment {saved.name}: {segment_size(saved)} subscribers."
                )
                return redirect("subscribers_console:audiences", account.code)
        except ValidationError as error:
            (question_form if "question" in request.POST else segment_form).add_error(None, error)
    segments = [(s, segment_size(s)) for s in account.segments.order_by("name")]
    context = {
        "account": account,
        "questions": audiences.questions_for(account),
        "segments": segments,
        "question_form": question_form,
        "segment_form": segment_form,
        "can_manage": has_role(request, MANAGE),
    }
    status = 400 if question_form.errors or segment_form.errors else 200
    return render(request, "subscribers/console/audiences.html", context, status=status)
