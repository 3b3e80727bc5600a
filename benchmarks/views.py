"""The load test's baseline: what an autosave costs with nothing but the framework and one UPDATE.

It is served by the same gunicorn, through the same middleware (sessions, CSRF, security
headers), and takes the same form fields as the autosave view, so that the ratio of the two
latencies isolates what the autosave adds: scoping, the row lock, validation, history and the
progress it returns.
"""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST


@require_POST
def bare_save(request: HttpRequest, pk: int) -> JsonResponse:
    question_id = int(request.POST["question"])
    value = request.POST.get(f"q{question_id}", "")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE questionnaire_answer SET value = to_jsonb(%s::text), "
            "revision = revision + 1, updated_at = now() "
            "WHERE response_id = %s AND question_id = %s RETURNING revision",
            [value, pk, question_id],
        )
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"status": "missing"}, status=404)
    return JsonResponse({"status": "saved", "revision": row[0]})
