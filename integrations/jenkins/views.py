"""Jenkins' webhook: authenticate the build news, store the delivery, answer, apply it later.

``POST /hooks/jenkins/`` takes the Notification plugin's JSON. A delivery is authenticated by the
linked job's token (``X-Jenkins-Token`` or ``?token=``, compared by its SHA-256) or by an
``X-Jenkins-Signature: sha256=<hex>`` HMAC of the raw body under the job's signing secret; the
job named in the body must be the job the token belongs to. It is stored (202) before Jenkins
hears 2xx and applied by the worker after the commit. What no retry can fix is a 4xx with a JSON
message, and nothing is stored for a request that is not authenticated; 503 when the database
cannot take it.
"""

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from integrations import hooks
from integrations.hooks import Refused
from integrations.jenkins.models import JenkinsDelivery, JenkinsJob
from integrations.jenkins.runs import BadNews, BuildNews

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Jenkins-Token"
SIGNATURE_HEADER = "X-Jenkins-Signature"
MAX_DEPTH = 32  # the plugin's JSON nests a few levels (build, scm, artifacts)


@csrf_exempt
def webhook(request):
    """POST /hooks/jenkins/: one build phase of a linked job, stored before the answer."""
    if request.method != "POST":
        response = JsonResponse({"error": "Jenkins build notifications are POSTed here."}, status=405)
        response["Allow"] = "POST"
        return response
    try:
        raw = read_body(request)
        token = request.headers.get(TOKEN_HEADER) or request.GET.get("token") or ""
        signature = request.headers.get(SIGNATURE_HEADER) or ""
        if not token and not signature:
            raise Refused(
                401, f"The notification is not authenticated: give the job's token (?token= or {TOKEN_HEADER})."
            )
        job = job_of_token(token) if token else None
        body = parse_body(raw)
        news = news_of(body)
        if job is None:
            job, how = job_of_signature(news.job_name, raw, signature), "hmac"
        else:
            how = "token"
        if news.job_name != job.job_name:
            raise Refused(403, f"This token is for the Jenkins job {job.job_name!r}, not {news.job_name[:200]!r}.")
        return store(job, how, news, body)
    except Refused as refused:
        logger.warning("jenkins.webhook.refused status=%s: %s", refused.status, refused.message)
        return JsonResponse({"error": refused.message}, status=refused.status)
    except Exception:  # never a 500: nothing was stored, so ask Jenkins to send it again
        logger.exception("jenkins.webhook.error")
        return JsonResponse({"error": "The notification could not be handled; send it again later."}, status=503)


def read_body(request) -> bytes:
    """The raw body, refused (413) past JENKINS_WEBHOOK_MAX_BYTES."""
    return hooks.read_body(request, settings.JENKINS_WEBHOOK_MAX_BYTES, "JENKINS_WEBHOOK_MAX_BYTES")


def job_of_token(token: str) -> JenkinsJob:
    job = JenkinsJob.find(token.strip())
    if job is None:
        raise Refused(401, "The token is not a live Jenkins job token: it is unknown, or it was revoked.")
    return job


def job_of_signature(job_name: str, raw: bytes, header: str) -> JenkinsJob:
    """The live job named ``job_name`` whose signing secret signed ``raw``; refused (401) if none did."""
    algorithm, sep, digest = header.strip().partition("=")
    if not sep or algorithm.strip().lower() != "sha256" or not digest:
        raise Refused(401, f"{SIGNATURE_HEADER} must look like sha256=<hex HMAC of the body>.")
    given = digest.strip().lower().encode("utf-8", "replace")
    for job in JenkinsJob.objects.filter(job_name=job_name, revoked_at__isnull=True):
        if not job.is_live():
            continue
        expected = hmac.new(job.signing_secret().encode(), raw, hashlib.sha256).hexdigest().encode()
        if hmac.compare_digest(expected, given):
            return job
    raise Refused(401, f"{SIGNATURE_HEADER} does not match the body under the signing secret of a linked job.")


def parse_body(raw: bytes) -> dict:
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except RecursionError as error:
        raise Refused(400, "The body is not the Notification plugin's JSON: it is nested too deeply.") from error
    except ValueError as error:
        raise Refused(400, f"The body is not JSON: {error}.") from error
    if not isinstance(body, dict):
        raise Refused(400, "The body must be a JSON object.")
    if not _storable(body):
        raise Refused(400, "The body cannot be stored: it nests too deeply or contains a NUL or a lone surrogate.")
    return body


def news_of(body: dict) -> BuildNews:
    try:
        return BuildNews.from_json(body)
    except BadNews as error:
        raise Refused(400, str(error)) from error


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _storable(body) -> bool:
    stack = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            if "\x00" in value:
                return False
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def store(job: JenkinsJob, how: str, news: BuildNews, body: dict) -> JsonResponse:
    try:
        with transaction.atomic():
            delivery = JenkinsDelivery.objects.create(
                job=job,
                authenticated_by=how,
                number=news.number,
                phase=news.phase,
                status=news.status,
                body=body,
            )
            transaction.on_commit(lambda: enqueue(delivery.pk))
    except DatabaseError:
        logger.exception("jenkins.webhook.store_failed job=%s", job.pk)
        return JsonResponse({"error": "The notification could not be stored; send it again later."}, status=503)
    job.mark_used()
    logger.info("jenkins.webhook.stored id=%s job=%s build=%s %s", delivery.pk, job.pk, news.number, news.phase)
    return JsonResponse({"status": "accepted", "delivery": delivery.pk}, status=202)


def enqueue(pk: int):
    """Queue the delivery's processing; when the broker is down, the sweep finds it pending."""
    from integrations.jenkins.tasks import process_delivery

    try:
        process_delivery.delay(pk)
    except Exception:  # kombu and redis raise many kinds; the row is stored either way
        logger.exception("jenkins.webhook.enqueue_failed id=%s: left pending for the sweep", pk)
