"""Account administration (settings, users, sender identities) and topic administration."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tidings.accounts import actions as account_actions
from tidings.accounts.access import account_view
from tidings.accounts.models import Account, Membership, SenderIdentity
from tidings.console.forms import (
    AccountSettingsForm,
    CategoryForm,
    MemberForm,
    RoleForm,
    SenderForm,
    TopicForm,
)
from tidings.topics import actions as topic_actions
from tidings.topics.models import Category, Topic
from tidings.topics.tree import category_tree


def _fail(form: BaseForm, error: ValidationError) -> None:
    form.add_error(None, " ".join(error.messages))


@account_view(Membership.ADMIN)
def account_settings(request: HttpRequest, account: Account) -> HttpResponse:
    if request.method == "POST":
        # Validate a copy, so that a refused change never shows in the page's header.
        form = AccountSettingsForm(request.POST, instance=Account.objects.get(pk=account.pk))
        if form.is_valid():
            try:
                account_actions.update_account(account, **form.cleaned_data)
            except ValidationError as error:
                _fail(form, error)
            else:
                messages.success(request, "Settings saved.")
                return redirect("console:settings", account.code)
    else:
        form = AccountSettingsForm(instance=account)
    return render(request, "console/settings.html", {"account": account, "form": form})


@account_view(Membership.ADMIN)
def users(request: HttpRequest, account: Account) -> HttpResponse:
    form = MemberForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership = account_actions.add_member(
                account, data["user"], data["role"], data["topics"]
            )
        except ValidationError as error:
            _fail(form, error)
        else:
            messages.success(request, f"{membership.user} is now {membership.get_role_display()}.")
            return redirect("console:users", account.code)
    members = (
        Membership.objects.filter(account=account)
        .select_related("user")
        .prefetch_related("topics")
        .order_by("user__username")
    )
    return render(
        request, "console/users.html", {"account": account, "form": form, "members": members}
    )


@account_view(Membership.ADMIN)
def user_edit(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.select_related("user", "account"), pk=pk, account=account
    )
    initial = {"role": membership.role, "topics": list(membership.topics.all())}
    form = RoleForm(request.POST or None, account=account, initial=initial)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "remove":
                account_actions.remove_member(membership)
                messages.success(request, f"{membership.user} no longer belongs to the account.")
                return redirect("console:users", account.code)
            if form.is_valid():
                account_actions.change_role(
                    membership, form.cleaned_data["role"], form.cleaned_data["topics"]
                )
                messages.success(
                    request, f"{membership.user} is now {membership.get_role_display()}."
                )
                return redirect("console:users", account.code)
        except ValidationError as error:
            _fail(form, error)
    return render(
        request,
        "console/user.html",
        {"account": account, "form": form, "member": membership},
    )


@account_view(Membership.ADMIN)
def senders(request: HttpRequest, account: Account) -> HttpResponse:
    form = SenderForm(request.POST or None, instance=SenderIdentity(account=account))
    if request.method == "POST" and form.is_valid():
        try:
            account_actions.add_sender_identity(
                account, name=form.cleaned_data["name"], address=form.cleaned_data["address"]
            )
        except ValidationError as error:
            _fail(form, error)
        else:
            messages.success(request, "Sender identity added.")
            return redirect("console:senders", account.code)
    identities = account.sender_identities.annotate(used=Count("bulletins")).order_by("name")
    return render(
        request,
        "console/senders.html",
        {"account": account, "form": form, "identities": identities},
    )


@require_POST
@account_view(Membership.ADMIN)
def sender_delete(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    identity = get_object_or_404(SenderIdentity, pk=pk, account=account)
    account_actions.remove_sender_identity(identity)
    messages.success(request, f"{identity} removed.")
    return redirect("console:senders", account.code)


@account_view(Membership.TOPIC_ADMIN)
def topics(request: HttpRequest, account: Account) -> HttpResponse:
    rows = (
        Topic.objects.filter(account=account)
        .annotate(subscriber_count=Count("subscriptions", distinct=True))
        .prefetch_related("categories")
        .order_by("name")
    )
    return render(request, "console/topics.html", {"account": account, "topics": rows})


@account_view(Membership.TOPIC_ADMIN)
def topic_edit(request: HttpRequest, account: Account, pk: int | None = None) -> HttpResponse:
    topic = get_object_or_404(Topic, pk=pk, account=account) if pk else None
    form = TopicForm(request.POST or None, instance=topic, account=account)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        categories = list(data.pop("categories"))
        if not data["code"]:
            del data["code"]  # create_topic picks ACCOUNT_n; an edit keeps the old one
        try:
            with transaction.atomic():
                topic = _save_topic(account, topic, data, categories)
        except ValidationError as error:
            _fail(form, error)
        else:
            messages.success(request, f"Topic {topic.name} saved.")
            return redirect("console:topics", account.code)
    return render(request, "console/topic.html", {"account": account, "form": form, "topic": topic})


def _save_topic(
    account: Account, topic: Topic | None, data: dict[str, Any], categories: list[Category]
) -> Topic:
    if topic is None:
        topic = topic_actions.create_topic(
            account,
            name=data["name"],
            code=data.get("code", ""),
            short_name=data["short_name"],
            description=data["description"],
            listed=data["listed"],
        )
    return topic_actions.update_topic(topic, categories=categories, **data)


@account_view(Membership.TOPIC_ADMIN)
def categories(request: HttpRequest, account: Account) -> HttpResponse:
    form = CategoryForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            topic_actions.save_category(
                account, name=form.cleaned_data["name"], parent=form.cleaned_data["parent"]
            )
        except ValidationError as error:
            _fail(form, error)
        else:
            messages.success(request, "Category added.")
            return redirect("console:categories", account.code)
    return render(
        request,
        "console/categories.html",
        {"account": account, "form": form, "tree": category_tree(account)},
    )


@account_view(Membership.TOPIC_ADMIN)
def category_edit(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    category = get_object_or_404(Category, pk=pk, account=account)
    form = CategoryForm(request.POST or None, instance=category, account=account)
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            topic_actions.delete_category(category)
            messages.success(request, f"Category {category.name} deleted.")
            return redirect("console:categories", account.code)
        if form.is_valid():
            try:
                topic_actions.save_category(
                    account,
                    name=form.cleaned_data["name"],
                    parent=form.cleaned_data["parent"],
                    category=category,
                )
            except ValidationError as error:
                _fail(form, error)
            else:
                messages.success(request, "Category saved.")
                return redirect("console:categories", account.code)
    return render(
        request, "console/category.html", {"account": account, "form": form, "category": category}
    )
