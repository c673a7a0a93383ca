"""Objects that contract fuzzing cannot make by itself, made through the API as a
client would make them.

Some operations act on what only another caller can make: a request to join (made by
the requester, answered by staff), a membership, an API client, a member's own
account. With ids the fuzzer makes up, every request to them is a 404 (or a 403) and
it never reaches their logic. `python3 fixtures.py BASE_URL ADMIN_TOKEN` makes the
lasting ones and prints `NAME=value` lines for `.ci/run` to export; the hooks put them
in the path of every call meant to be valid, and make a fresh object for each call to
an operation that uses its object up.
"""

import json
import os
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request


class Api:
    def __init__(self, base, admin):
        self.base, self.admin = base, admin

    def call(self, method, path, token=None, body=None, form=None, multipart=None):
        headers = {"Accept-Language": "en"}
        data = None
        if multipart is not None:
            headers["Content-Type"], data = multipart
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise RuntimeError(
                f"fuzz fixtures: {method} {path} answered {error.code}: "
                f"{error.read().decode(errors='replace')}"
            ) from None
        return json.loads(raw) if raw else None

    def member(self, label):
        """A fresh self-service account: its id, an access token and its email."""
        email = f"fuzz-{label}-{secrets.token_hex(6)}@example.org"
        password = secrets.token_urlsafe(24)
        account = self.call("POST", "/v1/accounts", body={
            "email": email, "display_name": f"Fuzz {label}", "password": password,
        })
        token = self.call("POST", "/v1/auth/token", form={
            "grant_type": "password", "username": email, "password": password,
        })["access_token"]
        return account["id"], token, email

    def structure(self, name):
        """A structure of its own for each fixture: what the fuzzer does to one (archive
        it, change its members) cannot take another's away."""
        return self.call("POST", "/v1/structures", self.admin, body={
            "kind": "company",
            "name": name,
            "address": {"street": "2 rue de la Loge", "postal_code": "34000", "commune_code": "34172"},
            "disciplines": ["theatre"],
        })["id"]

    def join_request(self, requester_token):
        """A pending request to join a new structure: the structure's id."""
        structure = self.structure("Compagnie à rejoindre")
        self.call("POST", f"/v1/structures/{structure}/join-requests", requester_token, body={})
        return structure

    def membership(self, requester, requester_token):
        """The requester as a member of a new structure, through a request staff accept."""
        structure = self.join_request(requester_token)
        self.call(
            "POST", f"/v1/structures/{structure}/join-requests/{requester}/accept", self.admin, body={}
        )
        return structure

    def invitation(self, structure, email):
        """An invitation to `structure` for `email`, sent by staff: its id."""
        return self.call("POST", f"/v1/structures/{structure}/invitations", self.admin, body={
            "email": email, "role": "editor",
        })["id"]

    def api_client(self, structure):
        return self.call("POST", "/v1/api-clients", self.admin, body={
            "name": "Fuzz client", "structure_ids": [structure], "scopes": ["read"],
        })["client"]["id"]

    def webhook(self, structure):
        """A subscription to `structure`'s events, made by staff: its id (the fuzzed
        server sends nothing: OES_WEBHOOK_WORKERS=0)."""
        return self.call("POST", "/v1/webhooks", self.admin, body={
            "url": "https://hooks.example.invalid/oes", "event_types": ["*"],
            "structure_ids": [structure],
        })["webhook"]["id"]

    def delivery(self, webhook):
        """A ping of `webhook`, queued: the delivery's id."""
        return self.call("POST", f"/v1/webhooks/{webhook}/ping", self.admin)["id"]

    def production(self, structure):
        """A production of `structure` (unpublished), made by staff: its id."""
        return self.call("POST", "/v1/productions", self.admin, body={
            "structure_id": structure, "title": "Spectacle de passage", "disciplines": ["theatre"],
            "audience": "all_audiences", "duration_minutes": 60, "space": "stage",
        })["id"]

    def tour(self, structure):
        """A tour of a new production of `structure`: its id."""
        return self.call("POST", "/v1/tours", self.admin, body={
            "production_id": self.production(structure), "name": "Tournée de passage",
            "starts_on": "2027-01-01", "ends_on": "2027-12-31",
        })["id"]

    def performance(self, structure):
        """A performance, in Montpellier, of a new production of `structure`: its id."""
        return self.call("POST", "/v1/performances", self.admin, body={
            "production_id": self.production(structure),
            "place": {"name": "Salle des fêtes", "commune_code": "34172"},
            "starts_at": "2027-03-01T20:30:00+01:00", "fee_cents": 250000,
        })["id"]


    def sync_client(self, structure):
        """An API client of `structure` with `programming:write` (the sync operations are
        for such clients only): its access token."""
        made = self.call("POST", "/v1/api-clients", self.admin, body={
            "name": "Fuzz sync", "structure_ids": [structure], "scopes": ["programming:write"],
        })
        return self.call("POST", "/v1/auth/token", form={
            "grant_type": "client_credentials",
            "client_id": made["client"]["id"],
            "client_secret": made["client_secret"],
        })["access_token"]

    def synced(self, token, structure):
        """A performance of a new production of `structure`, kept by the sync client
        (`token`) under a new external id: that id."""
        external_id = f"fuzz-{secrets.token_hex(8)}"
        self.call("PUT", f"/v1/sync/performances/{external_id}", token, body={
            "production_id": self.production(structure),
            "place": {"name": "Salle des fêtes", "commune_code": "34172"},
            "starts_at": "2027-03-01T20:30:00+01:00",
        })
        return external_id

    def programme(self):
        """A published programme with a fresh code (the Occitanie scheme's amounts),
        made by staff: its id."""
        return self.call("POST", "/v1/programmes", self.admin, body={
            "code": f"FUZZ-{secrets.token_hex(4).upper()}",
            "name": "Aide de passage",
            "kind": "diffusion",
            "published": True,
            "rules": {
                "applicants": {"kinds": ["company"]},
                "amounts": {"base": "fee", "rate_basis_points": 5000, "floor_cents": 50000,
                            "cap_per_performance_cents": 200000},
            },
        })["id"]

    def call_of(self, programme):
        """A call of `programme` open from 2020 to 2099, with a small envelope: its id."""
        return self.call("POST", "/v1/calls", self.admin, body={
            "programme_id": programme, "title": "Session de passage",
            "opens_at": "2020-01-01T00:00", "closes_at": "2099-12-31T23:59",
            "envelope_cents": 1000000,
        })["id"]

    def filer(self, structure):
        """An API client of `structure` with `dossiers:write` (staff do not write an
        applicant's dossier): its access token."""
        made = self.call("POST", "/v1/api-clients", self.admin, body={
            "name": "Fuzz filer", "structure_ids": [structure], "scopes": ["dossiers:write"],
        })
        return self.call("POST", "/v1/auth/token", form={
            "grant_type": "client_credentials",
            "client_id": made["client"]["id"],
            "client_secret": made["client_secret"],
        })["access_token"]

    def dossier(self, token, call, structure):
        """A draft dossier of `structure` for `call`, filed by `token`: its id."""
        return self.call("POST", "/v1/dossiers", token, body={
            "call_id": call, "applicant_id": structure, "title": "Dossier de passage",
        })["id"]

    def approved_dossier(self, token, call, structure):
        """A dossier of `structure` for `call`, filed by `token`, approved by staff for
        1,000 € (an advance and a balance), its final report sent, and a flag on it
        (its performance cancelled): its id and the flag's."""
        performance = self.performance(structure)
        budget = {
            "expenses": [{"category": "artistic_pay", "amount_cents": 250000}],
            "incomes": [{"category": "fees", "amount_cents": 150000},
                        {"category": "agency_request", "amount_cents": 100000}],
        }
        dossier = self.call("POST", "/v1/dossiers", token, body={
            "call_id": call, "applicant_id": structure, "title": "Dossier accordé",
            "performance_ids": [performance], "budget": budget,
        })["id"]
        self.call("POST", f"/v1/dossiers/{dossier}/submit", token, body={})
        self.call("POST", f"/v1/dossiers/{dossier}/start-review", self.admin, body={})
        self.call("POST", f"/v1/dossiers/{dossier}/approve", self.admin, body={"awarded_cents": 100000})
        self.call("PUT", f"/v1/dossiers/{dossier}/final-report", token, body={
            "held": [{"performance_id": performance, "attendance": 80}], "budget": budget,
        })
        self.call("PATCH", f"/v1/performances/{performance}", self.admin, body={"status": "cancelled"})
        flag = self.call("GET", f"/v1/dossiers/{dossier}/attention", self.admin)["data"][0]["id"]
        return dossier, flag
    def document(self, token, dossier):
        """A PDF uploaded to `dossier` by `token` (a multipart/form-data body made by
        hand: the standard library has no encoder): its id."""
        boundary = f"fuzz-{secrets.token_hex(8)}"
        pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nbudget\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"budget.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n"
        ).encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
        return self.call("POST", f"/v1/dossiers/{dossier}/documents", token,
                         multipart=(f"multipart/form-data; boundary={boundary}", body))["id"]
    def reviewer(self):
        """An account staff made a committee reviewer: its id and access token."""
        account, token, _ = self.member("reviewer")
        self.call("PATCH", f"/v1/accounts/{account}", self.admin, body={"agency_role": "reviewer"})
        return account, token

    def submitted(self, token, call, structure):
        """A complete dossier of `structure` for `call`, filed and submitted by `token`
        (reviewers are assigned to submitted dossiers only): its id."""
        dossier = self.call("POST", "/v1/dossiers", token, body={
            "call_id": call, "applicant_id": structure, "title": "Dossier à évaluer",
            "performance_ids": [self.performance(structure)],
            "budget": {
                "expenses": [{"category": "artistic_pay", "amount_cents": 250000}],
                "incomes": [{"category": "fees", "amount_cents": 150000},
                            {"category": "agency_request", "amount_cents": 100000}],
            },
        })["id"]
        self.call("POST", f"/v1/dossiers/{dossier}/submit", token, body={})
        return dossier

    def review(self, dossier, reviewer):
        """`reviewer` assigned to `dossier` by staff: the review's id."""
        return self.call("POST", f"/v1/dossiers/{dossier}/reviews", self.admin,
                         body={"reviewer_id": reviewer})["id"]


def lasting(api):
    """What the operations that do not use their object up share for the whole run."""
    requester, requester_token, requester_email = api.member("requester")
    account, _, _ = api.member("account")
    client_structure = api.structure("Compagnie connectée")
    structure = api.structure("Compagnie du Levant")
    _, eraser_token, _ = api.member("eraser")
    sync_token = api.sync_client(structure)
    programme = api.programme()
    call = api.call_of(programme)
    # Dossiers are filed for a call of another programme, which the fuzzer does not
    # change (it may unpublish the first one, hiding its calls from applicants).
    dossier_call = api.call_of(api.programme())
    filer_token = api.filer(structure)
    approved, flag = api.approved_dossier(filer_token, dossier_call, structure)
    # Documents go to a draft of their own: the fuzzer's uploads do not pile up on the
    # dossier it edits.
    document_dossier = api.dossier(filer_token, dossier_call, structure)
    reviewer, reviewer_token = api.reviewer()
    # Reviews need submitted dossiers, so an applicant the fuzzer never changes (it may
    # make the shared structure a kind the programme does not fund).
    review_structure = api.structure("Compagnie des avis")
    review_filer_token = api.filer(review_structure)
    submitted = api.submitted(review_filer_token, dossier_call, review_structure)
    webhook = api.webhook(structure)
    return {
        "OES_FUZZ_BASE_URL": api.base,
        "OES_FUZZ_ADMIN_TOKEN": api.admin,
        # Asks to join structures and answers invitations (schemathesis.toml sends its
        # token to the invitation answers), for the hooks; nothing else touches it.
        "OES_FUZZ_REQUESTER": requester,
        "OES_FUZZ_REQUESTER_TOKEN": requester_token,
        "OES_FUZZ_REQUESTER_EMAIL": requester_email,
        # The account that the account operations read, change and reset.
        "OES_FUZZ_ACCOUNT": account,
        "OES_FUZZ_STRUCTURE": structure,
        # Read and changed by the fuzzer for the run (the deletions get fresh ones).
        "OES_FUZZ_PRODUCTION": api.production(structure),
        "OES_FUZZ_TOUR": api.tour(structure),
        "OES_FUZZ_PERFORMANCE": api.performance(structure),
        "OES_FUZZ_CLIENT_STRUCTURE": client_structure,
        "OES_FUZZ_CLIENT": api.api_client(client_structure),
        "OES_FUZZ_MEMBER_STRUCTURE": api.membership(requester, requester_token),
        # Erasing an account uses it up; the first call that reaches the handler is
        # enough for the fuzzer to know it was reached (schemathesis.toml).
        "OES_FUZZ_ERASER_TOKEN": eraser_token,
        # The sync operations' caller (schemathesis.toml), and an external id it keeps
        # for the run (the deletions get fresh ones).
        "OES_FUZZ_SYNC_TOKEN": sync_token,
        "OES_FUZZ_SYNC_EXTERNAL_ID": api.synced(sync_token, structure),
        # A published programme and an open call of it, read and changed for the run.
        "OES_FUZZ_PROGRAMME": programme,
        "OES_FUZZ_CALL": call,
        # Files and edits dossiers of the structure (schemathesis.toml), and a draft of
        # its, read, checked and changed for the run.
        "OES_FUZZ_FILER_TOKEN": filer_token,
        "OES_FUZZ_DOSSIER_CALL": dossier_call,
        "OES_FUZZ_DOSSIER": api.dossier(filer_token, dossier_call, structure),
        # An approved dossier, paid, reported on and flagged for the run: its payments
        # run out (409) and its report, once accepted, is final (409).
        "OES_FUZZ_APPROVED": approved,
        "OES_FUZZ_FLAG": flag,
        # A draft that takes the fuzzer's uploads, and a document of it read for the run
        # (the removals get fresh ones).
        "OES_FUZZ_DOCUMENT_DOSSIER": document_dossier,
        "OES_FUZZ_DOCUMENT": api.document(filer_token, document_dossier),
        # A committee reviewer (schemathesis.toml sends its token to the reviewer's
        # operations), a submitted dossier and the reviewer's review of it, for the run.
        "OES_FUZZ_REVIEWER": reviewer,
        "OES_FUZZ_REVIEWER_TOKEN": reviewer_token,
        "OES_FUZZ_REVIEW_STRUCTURE": review_structure,
        "OES_FUZZ_REVIEW_FILER_TOKEN": review_filer_token,
        "OES_FUZZ_SUBMITTED": submitted,
        "OES_FUZZ_REVIEW": api.review(submitted, reviewer),
        # A subscription read, changed, rotated and pinged for the run (the deletions
        # get fresh ones), and a delivery of it to replay.
        "OES_FUZZ_WEBHOOK": webhook,
        "OES_FUZZ_DELIVERY": api.delivery(webhook),
    }


NAMES = ("OES_FUZZ_BASE_URL", "OES_FUZZ_ADMIN_TOKEN", "OES_FUZZ_REQUESTER",
         "OES_FUZZ_REQUESTER_TOKEN", "OES_FUZZ_REQUESTER_EMAIL", "OES_FUZZ_ACCOUNT", "OES_FUZZ_STRUCTURE",
         "OES_FUZZ_CLIENT_STRUCTURE", "OES_FUZZ_CLIENT", "OES_FUZZ_MEMBER_STRUCTURE",
         "OES_FUZZ_PRODUCTION", "OES_FUZZ_TOUR", "OES_FUZZ_PERFORMANCE", "OES_FUZZ_SYNC_TOKEN",
         "OES_FUZZ_SYNC_EXTERNAL_ID", "OES_FUZZ_PROGRAMME", "OES_FUZZ_CALL",
         "OES_FUZZ_FILER_TOKEN", "OES_FUZZ_DOSSIER_CALL", "OES_FUZZ_DOSSIER",
         "OES_FUZZ_APPROVED", "OES_FUZZ_FLAG", "OES_FUZZ_DOCUMENT_DOSSIER",
         "OES_FUZZ_DOCUMENT", "OES_FUZZ_REVIEWER", "OES_FUZZ_REVIEWER_TOKEN",
         "OES_FUZZ_SUBMITTED", "OES_FUZZ_REVIEW", "OES_FUZZ_WEBHOOK", "OES_FUZZ_DELIVERY",
         "OES_FUZZ_REVIEW_STRUCTURE", "OES_FUZZ_REVIEW_FILER_TOKEN")


def from_environment():
    """The fixtures `.ci/run` exported, for the hooks; None outside CI."""
    if not all(os.environ.get(name) for name in NAMES):
        return None
    return {name: os.environ[name] for name in NAMES}


if __name__ == "__main__":
    try:
        made = lasting(Api(sys.argv[1], sys.argv[2]))
    except RuntimeError as error:
        sys.exit(str(error))
    for name, value in made.items():
        print(f"{name}={value}")
