"""Schemathesis hooks for CI's contract fuzzing (`.ci/run` sets SCHEMATHESIS_HOOKS).

- Each valid `Idempotency-Key` the fuzzer sends is made unique. The fuzzer reuses short
  keys ("0") across different bodies, which the API rightly refuses with a 422 and a
  client never does; without this, that 422 would have to be accepted from every
  creating POST and could hide a real one.
- Every call whose path parameters are meant to be valid gets ids that exist, made
  through the API (`fixtures.py`): with ids the fuzzer makes up (or picks from what it
  saw), an operation may answer nothing but 404s and never reach its handler, and the
  fuzzer could archive or disable what the fixtures rely on. Operations that use their
  object up (answering a request to join or an invitation, asking to join, removing a
  member, cancelling an invitation, revoking an API client, archiving a structure,
  deleting a synced performance, removing a document, deleting a webhook) get a fresh one for each call;
  the others share one for the run. Calls with invalid path parameters keep them: they test the 400s.
"""

import os
import re
import sys
import uuid

import schemathesis
from schemathesis.core.parameters import ParameterLocation

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures  # noqa: E402

VALID_KEY = re.compile(r"^[\x21-\x7E]{1,200}$")

ENV = fixtures.from_environment()
API = fixtures.Api(ENV["OES_FUZZ_BASE_URL"], ENV["OES_FUZZ_ADMIN_TOKEN"]) if ENV else None


def _join_request():
    return {"id": API.join_request(ENV["OES_FUZZ_REQUESTER_TOKEN"]),
            "account_id": ENV["OES_FUZZ_REQUESTER"]}


def _membership():
    requester = ENV["OES_FUZZ_REQUESTER"]
    return {"id": API.membership(requester, ENV["OES_FUZZ_REQUESTER_TOKEN"]),
            "account_id": requester}


def _structure():
    return {"id": API.structure("Compagnie de passage")}


def _received_invitation():
    """An invitation for the requester, who answers it (schemathesis.toml)."""
    structure = API.structure("Compagnie qui invite")
    return {"id": API.invitation(structure, ENV["OES_FUZZ_REQUESTER_EMAIL"])}


def _sent_invitation():
    structure = ENV["OES_FUZZ_STRUCTURE"]
    email = f"invited-{uuid.uuid4().hex[:12]}@example.org"
    return {"id": structure, "invitation_id": API.invitation(structure, email)}


def _api_client():
    return {"id": API.api_client(ENV["OES_FUZZ_CLIENT_STRUCTURE"])}


def _production():
    return {"id": API.production(ENV["OES_FUZZ_STRUCTURE"])}


def _tour():
    return {"id": API.tour(ENV["OES_FUZZ_STRUCTURE"])}


def _performance():
    return {"id": API.performance(ENV["OES_FUZZ_STRUCTURE"])}


def _synced():
    return {"external_id": API.synced(ENV["OES_FUZZ_SYNC_TOKEN"], ENV["OES_FUZZ_STRUCTURE"])}


def _draft():
    """A fresh draft of the fixtures' structure: a transition uses its state up."""
    return {"id": API.dossier(ENV["OES_FUZZ_FILER_TOKEN"], ENV["OES_FUZZ_DOSSIER_CALL"],
                              ENV["OES_FUZZ_STRUCTURE"])}


def _document():
    """A fresh document of the documents' draft: a removal uses it up."""
    dossier = ENV["OES_FUZZ_DOCUMENT_DOSSIER"]
    return {"id": dossier, "document_id": API.document(ENV["OES_FUZZ_FILER_TOKEN"], dossier)}
def _fresh_review():
    """The fixtures' reviewer assigned to a fresh submitted dossier: a conflict ends the
    review, an unassignment takes it away."""
    dossier = API.submitted(ENV["OES_FUZZ_REVIEW_FILER_TOKEN"], ENV["OES_FUZZ_DOSSIER_CALL"],
                            ENV["OES_FUZZ_REVIEW_STRUCTURE"])
    return {"id": dossier, "review_id": API.review(dossier, ENV["OES_FUZZ_REVIEWER"])}


def _webhook():
    """A fresh subscription: a deletion uses it up."""
    return {"id": API.webhook(ENV["OES_FUZZ_STRUCTURE"])}


def _lasting(**names):
    return lambda: {parameter: ENV[name] for parameter, name in names.items()}


PATHS = {
    # Fresh for each call: the call uses it up.
    "POST /v1/structures/{id}/join-requests/{account_id}/accept": _join_request,
    "POST /v1/structures/{id}/join-requests/{account_id}/decline": _join_request,
    "DELETE /v1/structures/{id}/members/{account_id}": _membership,
    "POST /v1/structures/{id}/join-requests": _structure,
    "DELETE /v1/structures/{id}": _structure,
    "DELETE /v1/api-clients/{id}": _api_client,
    "POST /v1/me/invitations/{id}/accept": _received_invitation,
    "POST /v1/me/invitations/{id}/decline": _received_invitation,
    "DELETE /v1/structures/{id}/invitations/{invitation_id}": _sent_invitation,
    "DELETE /v1/productions/{id}": _production,
    "DELETE /v1/tours/{id}": _tour,
    "DELETE /v1/performances/{id}": _performance,
    "DELETE /v1/sync/performances/{external_id}": _synced,
    "POST /v1/dossiers/{id}/submit": _draft,
    "POST /v1/dossiers/{id}/withdraw": _draft,
    "POST /v1/dossiers/{id}/request-changes": _draft,
    "POST /v1/dossiers/{id}/start-review": _draft,
    "POST /v1/dossiers/{id}/approve": _draft,
    "POST /v1/dossiers/{id}/reject": _draft,
    "POST /v1/dossiers/{id}/dismiss": _draft,
    "POST /v1/dossiers/{id}/reopen": _draft,
    "POST /v1/dossiers/{id}/close": _draft,
    "DELETE /v1/dossiers/{id}/documents/{document_id}": _document,
    "POST /v1/dossiers/{id}/reviews/{review_id}/conflict": _fresh_review,
    "DELETE /v1/dossiers/{id}/reviews/{review_id}": _fresh_review,
    "DELETE /v1/webhooks/{id}": _webhook,
    # One for the run.
    "GET /v1/structures/{id}": _lasting(id="OES_FUZZ_STRUCTURE"),
    "PATCH /v1/structures/{id}": _lasting(id="OES_FUZZ_STRUCTURE"),
    "GET /v1/structures/{id}/members": _lasting(id="OES_FUZZ_STRUCTURE"),
    "GET /v1/structures/{id}/invitations": _lasting(id="OES_FUZZ_STRUCTURE"),
    "POST /v1/structures/{id}/invitations": _lasting(id="OES_FUZZ_STRUCTURE"),
    "GET /v1/structures/{id}/join-requests": _lasting(id="OES_FUZZ_STRUCTURE"),
    "PATCH /v1/structures/{id}/members/{account_id}": _lasting(
        id="OES_FUZZ_MEMBER_STRUCTURE", account_id="OES_FUZZ_REQUESTER"),
    "GET /v1/api-clients/{id}": _lasting(id="OES_FUZZ_CLIENT"),
    "POST /v1/api-clients/{id}/secret": _lasting(id="OES_FUZZ_CLIENT"),
    "POST /v1/api-clients/{id}/takeover": _lasting(id="OES_FUZZ_CLIENT"),
    "GET /v1/productions/{id}": _lasting(id="OES_FUZZ_PRODUCTION"),
    "PATCH /v1/productions/{id}": _lasting(id="OES_FUZZ_PRODUCTION"),
    "GET /v1/tours/{id}": _lasting(id="OES_FUZZ_TOUR"),
    "PATCH /v1/tours/{id}": _lasting(id="OES_FUZZ_TOUR"),
    "GET /v1/performances/{id}": _lasting(id="OES_FUZZ_PERFORMANCE"),
    "PATCH /v1/performances/{id}": _lasting(id="OES_FUZZ_PERFORMANCE"),
    "GET /v1/accounts/{id}": _lasting(id="OES_FUZZ_ACCOUNT"),
    "PATCH /v1/accounts/{id}": _lasting(id="OES_FUZZ_ACCOUNT"),
    "POST /v1/accounts/{id}/password-resets": _lasting(id="OES_FUZZ_ACCOUNT"),
    "PUT /v1/sync/performances/{external_id}": _lasting(external_id="OES_FUZZ_SYNC_EXTERNAL_ID"),
    "GET /v1/programmes/{id}": _lasting(id="OES_FUZZ_PROGRAMME"),
    "PATCH /v1/programmes/{id}": _lasting(id="OES_FUZZ_PROGRAMME"),
    "GET /v1/programmes/{id}/form-schema": _lasting(id="OES_FUZZ_PROGRAMME"),
    "GET /v1/calls/{id}": _lasting(id="OES_FUZZ_CALL"),
    "GET /v1/calls/{id}/dossiers.csv": _lasting(id="OES_FUZZ_CALL"),
    "PATCH /v1/calls/{id}": _lasting(id="OES_FUZZ_CALL"),
    "GET /v1/dossiers/{id}": _lasting(id="OES_FUZZ_DOSSIER"),
    "PATCH /v1/dossiers/{id}": _lasting(id="OES_FUZZ_DOSSIER"),
    "POST /v1/dossiers/{id}/check": _lasting(id="OES_FUZZ_DOSSIER"),
    "GET /v1/dossiers/{id}/history": _lasting(id="OES_FUZZ_DOSSIER"),
    "GET /v1/dossiers/{id}/payments": _lasting(id="OES_FUZZ_APPROVED"),
    "POST /v1/dossiers/{id}/payments": _lasting(id="OES_FUZZ_APPROVED"),
    "PUT /v1/dossiers/{id}/payments/schedule": _lasting(id="OES_FUZZ_APPROVED"),
    "GET /v1/dossiers/{id}/final-report": _lasting(id="OES_FUZZ_APPROVED"),
    "PUT /v1/dossiers/{id}/final-report": _lasting(id="OES_FUZZ_APPROVED"),
    "POST /v1/dossiers/{id}/final-report/accept": _lasting(id="OES_FUZZ_APPROVED"),
    "POST /v1/dossiers/{id}/final-report/request-changes": _lasting(id="OES_FUZZ_APPROVED"),
    "GET /v1/dossiers/{id}/attention": _lasting(id="OES_FUZZ_APPROVED"),
    "POST /v1/dossiers/{id}/attention/{flag_id}/clear": _lasting(
        id="OES_FUZZ_APPROVED", flag_id="OES_FUZZ_FLAG"),
    "POST /v1/dossiers/{id}/documents": _lasting(id="OES_FUZZ_DOCUMENT_DOSSIER"),
    "GET /v1/dossiers/{id}/documents": _lasting(id="OES_FUZZ_DOCUMENT_DOSSIER"),
    "GET /v1/dossiers/{id}/documents/{document_id}": _lasting(
        id="OES_FUZZ_DOCUMENT_DOSSIER", document_id="OES_FUZZ_DOCUMENT"),
    "GET /v1/dossiers/{id}/documents/{document_id}/content": _lasting(
        id="OES_FUZZ_DOCUMENT_DOSSIER", document_id="OES_FUZZ_DOCUMENT"),
    "GET /v1/dossiers/{id}/messages": _lasting(id="OES_FUZZ_DOSSIER"),
    "POST /v1/dossiers/{id}/messages": _lasting(id="OES_FUZZ_DOSSIER"),
    "GET /v1/dossiers/{id}/notes": _lasting(id="OES_FUZZ_DOSSIER"),
    "POST /v1/dossiers/{id}/notes": _lasting(id="OES_FUZZ_DOSSIER"),
    "POST /v1/dossiers/{id}/reviews": _lasting(id="OES_FUZZ_SUBMITTED"),
    "GET /v1/dossiers/{id}/reviews": _lasting(id="OES_FUZZ_SUBMITTED"),
    "GET /v1/dossiers/{id}/reviews/{review_id}": _lasting(
        id="OES_FUZZ_SUBMITTED", review_id="OES_FUZZ_REVIEW"),
    "PUT /v1/dossiers/{id}/reviews/{review_id}": _lasting(
        id="OES_FUZZ_SUBMITTED", review_id="OES_FUZZ_REVIEW"),
    "GET /v1/webhooks/{id}": _lasting(id="OES_FUZZ_WEBHOOK"),
    "PATCH /v1/webhooks/{id}": _lasting(id="OES_FUZZ_WEBHOOK"),
    "POST /v1/webhooks/{id}/rotate-secret": _lasting(id="OES_FUZZ_WEBHOOK"),
    "POST /v1/webhooks/{id}/ping": _lasting(id="OES_FUZZ_WEBHOOK"),
    "GET /v1/webhooks/{id}/deliveries": _lasting(id="OES_FUZZ_WEBHOOK"),
    "POST /v1/webhooks/{id}/deliveries/{delivery_id}/replay": _lasting(
        id="OES_FUZZ_WEBHOOK", delivery_id="OES_FUZZ_DELIVERY"),
}


def _path_is_valid(case):
    meta = case.meta
    if meta is None:
        return True
    component = meta.components.get(ParameterLocation.PATH)
    return component is None or component.mode.is_positive


@schemathesis.hook
def before_call(context, case, **kwargs):
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and VALID_KEY.match(value):
            headers[name] = f"{value}.{uuid.uuid4().hex}"
    make = PATHS.get(case.operation.label) if API else None
    if make is not None and _path_is_valid(case):
        case.path_parameters = {**(case.path_parameters or {}), **make()}


@schemathesis.hook
def after_load_schema(context, schema):
    """A new operation with path parameters and no entry above would answer the fuzzer
    404s only: say so at once."""
    if not API:
        return
    missing = [
        operation.label
        for operation in (result.ok() for result in schema.get_all_operations())
        if "{" in operation.path and operation.label not in PATHS
    ]
    if missing:
        raise RuntimeError(f"no path fixtures in .ci/fuzz/hooks.py for: {', '.join(missing)}")
