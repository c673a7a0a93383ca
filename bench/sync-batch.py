"""Times a partner's 1,000-item sync batch (bench/run.sh calls it; a measuring tool).

    python3 bench/sync-batch.py BASE_URL

Makes an account, a company and a venue, a production, and an API client with
programming:write acting for both; then sends three batches of 1,000 new performances
and the last one again (all unchanged). Prints one line per batch.
"""
import json, sys, time, urllib.request, urllib.parse, urllib.error, uuid
base = sys.argv[1]
def call(method, path, body=None, token=None, form=None):
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode(); headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode(); headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token: headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r: return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()[:500]
pw = "benchmark-password-long-enough"; email = f"b{uuid.uuid4().hex[:8]}@example.org"
call("POST", "/v1/accounts", {"email": email, "display_name": "B", "password": pw})
_, tok = call("POST", "/v1/auth/token", form={"grant_type": "password", "username": email, "password": pw}); tok = tok["access_token"]
addr = {"street": "Avenue Victor Hugo", "postal_code": "34200", "commune_code": "34301"}
_, company = call("POST", "/v1/structures", {"kind": "company", "name": "Compagnie Lot", "address": {"postal_code": "34000", "commune_code": "34172"}, "disciplines": ["theatre"]}, tok)
_, venue = call("POST", "/v1/structures", {"kind": "venue", "name": "Théâtre Lot", "address": addr, "disciplines": ["theatre"]}, tok)
st, prod = call("POST", "/v1/productions", {"structure_id": company["id"], "title": "Lot", "disciplines": ["theatre"], "audience": "all_audiences", "duration_minutes": 60, "space": "stage", "published": True}, tok)
assert st == 201, prod
st, cl = call("POST", "/v1/api-clients", {"name": "Billetterie", "structure_ids": [company["id"], venue["id"]], "scopes": ["programming:write"]}, tok)
assert st == 201, cl
_, ct = call("POST", "/v1/auth/token", form={"grant_type": "client_credentials", "client_id": cl["client"]["id"], "client_secret": cl["client_secret"]})
ct = ct["access_token"]
for round_ in range(3):
    items = [{"external_id": f"r{round_}-{i}", "action": "upsert", "performance": {"production_id": prod["id"], "venue_structure_id": venue["id"], "starts_at": f"2027-0{1 + i % 9}-{10 + i % 18}T20:30:00+01:00"}} for i in range(1000)]
    t = time.monotonic(); st, res = call("POST", "/v1/sync/performances/batch", {"items": items}, ct); dt = time.monotonic() - t
    kinds = {}
    for r in (res["data"] if isinstance(res, dict) and "data" in res else res.get("results", []) if isinstance(res, dict) else []):
        kinds[r.get("result")] = kinds.get(r.get("result"), 0) + 1
    print(f"batch of 1000 creations: HTTP {st}, {dt:.2f} s, {1000/dt:.0f} items/s {kinds if kinds else str(res)[:200]}")
t = time.monotonic(); st, res = call("POST", "/v1/sync/performances/batch", {"items": items}, ct); dt = time.monotonic() - t
print(f"same batch again (unchanged): HTTP {st}, {dt:.2f} s")
