import os
import sys

from django.http import HttpResponse, JsonResponse

GREETING = "hello from django-gunicorn"


def index(request):
    return HttpResponse(GREETING + "\n", content_type="text/plain; charset=utf-8")


def info(request):
    return JsonResponse({"uid": os.getuid(), "python": sys.version.split()[0], "prefix": sys.prefix})


def healthz(request):
    return HttpResponse("ok\n", content_type="text/plain")
