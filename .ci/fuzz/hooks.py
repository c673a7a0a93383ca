"""Schemathesis hooks for CI's contract fuzzing (`.ci/run` sets SCHEMATHESIS_HOOKS).

- Each valid `Idempotency-Key` the fuzzer sends is made unique. The fuzzer reuses short
  keys ("0") across different bodies, which the API rightly refuses with a 422 and a
  client never does; without this, that 422 would have to be accepted from every
  creating POST and could hide a real one.
- Operations that use their object up (accepting or declining a request to join,
  removing a member, revoking an API client) get a fresh one, made through the API,
  for every call whose path parameters are meant to be valid: otherwise the first call
  spends the object and every later one is a 404 that never reaches the handler.
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


def _api_client():
    return {"id": API.api_client(ENV["OES_FUZZ_CLIENT_STRUCTURE"])}


FRESH = {
    "POST /v1/structures/{id}/join-requests/{account_id}/accept": _join_request,
    "POST /v1/structures/{id}/join-requests/{account_id}/decline": _join_request,
    "DELETE /v1/structures/{id}/members/{account_id}": _membership,
    "DELETE /v1/api-clients/{id}": _api_client,
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
    make = FRESH.get(case.operation.label) if API else None
    if make is not None and _path_is_valid(case):
        case.path_parameters = {**(case.path_parameters or {}), **make()}
