"""What a locked-out login gets (django-axes): the page for people, JSON for API clients."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

LOCKED_STATUS = 429


def lockout_response(request, original_response=None, credentials=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("密码错误次数过多，登录已暂停 15 分钟。")}, status=LOCKED_STATUS)
    return render(request, "org/locked_out.html", {"title": _("登录已暂停")}, status=LOCKED_STATUS)
