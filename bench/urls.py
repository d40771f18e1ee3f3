"""The platform's URLs plus the floors the benchmarks compare with: endpoints that do the least Django
can do for the same request (no authentication, no validation, no audit)."""

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def floor_insert(request):
    """One INSERT of the posted body, through the same middleware stack as every page."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (body, created_at) VALUES (%s, now()) RETURNING id",
            [request.body.decode()[:2000]],
        )
        (pk,) = cursor.fetchone()
    return JsonResponse({"id": pk}, status=201)


urlpatterns = [
    path("bench/floor/insert/", floor_insert),
    path("", include("shequ.urls")),
]
