//! The authorization matrix: every operation of the OpenAPI document, for every kind
//! of caller, on its own object and on a foreign one. The operations are read from
//! the spec, so a new route without a row here fails the test.

use std::collections::BTreeMap;

use domain::access::AgencyRole;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, client_with, company, open_call, performance, production, programme,
    spawn_app_with,
};
use crate::routes::documents::{BOUNDARY, PDF, Part, multipart};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Actor {
    Anonymous,
    MemberOfA,
    MemberOfB,
    Reviewer,
    Staff,
    Admin,
    /// An API client of A with `read` and `structures:write`.
    ApiClientOfA,
    /// An owner whose account staff disabled: its unexpired token must stop at once.
    DisabledAccount,
    /// An API client its owner revoked: its unexpired token must stop at once.
    RevokedClient,
}

const ACTORS: [Actor; 9] = [
    Actor::Anonymous,
    Actor::MemberOfA,
    Actor::MemberOfB,
    Actor::Reviewer,
    Actor::Staff,
    Actor::Admin,
    Actor::ApiClientOfA,
    Actor::DisabledAccount,
    Actor::RevokedClient,
];

/// The object a request is about, seen from the actor: a member's own structure or
/// the other member's (for agency accounts, A and B respectively).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Own,
    Foreign,
}

/// Expected status for an operation, an actor and a target.
fn expected(operation: &str, actor: Actor, target: Target) -> Option<u16> {
    use Actor::*;
    let member_of_target = target == Target::Own && matches!(actor, MemberOfA | MemberOfB);
    let staff = matches!(actor, Staff | Admin);
    let path = path_of(operation);
    if matches!(actor, DisabledAccount | RevokedClient) {
        // Tokens are checked against the database on every request: a token that no
        // longer stands is refused everywhere a token is read, whatever the body.
        return Some(match operation {
            "GET /healthz" | "GET /readyz" | "GET /metrics" => 200,
            "GET /.well-known/jwks.json" => 404,
            // These read credentials from their form or body, not the bearer token.
            "POST /v1/auth/token" | "POST /v1/auth/revoke" => 200,
            "POST /v1/auth/password-reset" => 400,
            // Its token, not a bearer token, says who: an unknown one is a 400.
            "POST /v1/auth/email-verification" => 400,
            _ if path.starts_with("/v1/") => 401,
            _ => return None,
        });
    }
    if actor == ApiClientOfA {
        // A client reads and edits its structure, and needs a person for the rest.
        return Some(match operation {
            "GET /healthz" | "GET /readyz" | "GET /metrics" => 200,
            "GET /.well-known/jwks.json" => 404,
            "GET /v1/structures" | "GET /v1/structures/{id}" => 200,
            // The change feed is open to every caller, filtered to what it may see.
            "GET /v1/changes" => 200,
            "POST /v1/accounts" => 201,
            "POST /v1/auth/token" | "POST /v1/auth/revoke" => 200,
            "POST /v1/auth/password-reset" => 400,
            // Its token, not a bearer token, says who: an unknown one is a 400.
            "POST /v1/auth/email-verification" => 400,
            "PATCH /v1/structures/{id}" if target == Target::Own => 200,
            // Programming: its `read` and `structures:write` make it a viewer there.
            "GET /v1/productions" | "GET /v1/tours" | "GET /v1/performances" => 200,
            "GET /v1/performances.ics" | "GET /v1/performances.csv" => 200,
            "POST /v1/productions" | "POST /v1/tours" | "POST /v1/performances" => 422,
            // Published programmes and their calls are everyone's; the rest is staff's.
            _ if is_grants_read(operation) => 200,
            "GET /v1/awarded-grants.csv" => 200,
            // Dossiers: its `read` makes it a reader of its structure's; filing needs
            // `dossiers:write`.
            "GET /v1/dossiers" => 200,
            "POST /v1/dossiers" => 422,
            _ if path.starts_with("/v1/dossiers/{id}") && target == Target::Foreign => 404,
            "GET /v1/dossiers/{id}"
            | "POST /v1/dossiers/{id}/check"
            | "GET /v1/dossiers/{id}/history"
            | "GET /v1/dossiers/{id}/payments"
            | "GET /v1/dossiers/{id}/attention" => 200,
            // The prepared draft has no final report yet.
            "GET /v1/dossiers/{id}/final-report" => 404,
            _ if is_document_read(operation) => 200,
            "GET /v1/dossiers/{id}/messages" => 200,
            // Notes and reviews do not exist for the applicant's side.
            _ if is_hidden_from_applicants(path) => 404,
            // Transitions of either side, messages: a reader writes none.
            _ if path.starts_with("/v1/dossiers/{id}") => 403,
            // Syncing needs `programming:write`.
            _ if path.starts_with("/v1/sync/") => 403,
            _ if is_programming_item(path) && target == Target::Foreign => 404,
            _ if is_programming_item(path) && operation.starts_with("GET") => 200,
            _ if is_programming_item(path) => 403,
            // Webhooks: it subscribes for the structures it acts for; the subscriptions
            // prepared are its owner's, not its own.
            "POST /v1/webhooks" if target == Target::Own => 201,
            "POST /v1/webhooks" => 422,
            "GET /v1/webhooks" => 200,
            _ if path.starts_with("/v1/webhooks/{id}") => 404,
            _ if path.starts_with("/v1/") => 403,
            _ => return None,
        });
    }
    Some(match operation {
        "GET /healthz" | "GET /readyz" | "GET /metrics" => 200,
        // This server signs with a shared secret: no public key to publish.
        "GET /.well-known/jwks.json" => 404,
        "GET /v1/structures" | "GET /v1/structures/{id}" => 200,
        "GET /v1/changes" => 200,
        "POST /v1/accounts" => 201,
        "POST /v1/auth/token" | "POST /v1/auth/revoke" => 200,
        "GET /v1/me" | "GET /v1/me/export" | "POST /v1/structures" if actor == Anonymous => 401,
        "GET /v1/me" | "GET /v1/me/export" => 200,
        "DELETE /v1/me" if actor == Anonymous => 401,
        "DELETE /v1/me" if matches!(actor, Reviewer | Staff | Admin) => 403,
        "DELETE /v1/me" => 204,
        "POST /v1/structures" => 201,
        "PATCH /v1/structures/{id}" | "DELETE /v1/structures/{id}" if actor == Anonymous => 401,
        "PATCH /v1/structures/{id}" if member_of_target || staff => 200,
        "DELETE /v1/structures/{id}" if member_of_target || staff => 204,
        "PATCH /v1/structures/{id}" | "DELETE /v1/structures/{id}" => 403,
        // Member lists and their management are private: outsiders get a 404.
        _ if path_of(operation).starts_with("/v1/structures/{id}/") && actor == Anonymous => 401,
        "POST /v1/structures/{id}/join-requests" if member_of_target => 409,
        "POST /v1/structures/{id}/join-requests" => 201,
        _ if path_of(operation).starts_with("/v1/structures/{id}/")
            && !(member_of_target || staff) =>
        {
            404
        }
        "GET /v1/structures/{id}/members"
        | "GET /v1/structures/{id}/join-requests"
        | "GET /v1/structures/{id}/invitations" => 200,
        "POST /v1/structures/{id}/invitations" => 201,
        "DELETE /v1/structures/{id}/invitations/{invitation_id}" => 204,
        "PATCH /v1/structures/{id}/members/{account_id}" => 200,
        "DELETE /v1/structures/{id}/members/{account_id}" => 204,
        "POST /v1/structures/{id}/join-requests/{account_id}/accept" => 201,
        "POST /v1/structures/{id}/join-requests/{account_id}/decline" => 204,
        "POST /v1/auth/password-reset" | "POST /v1/auth/email-verification" => 400,
        // Grants: published programmes and their calls are everyone's; staff define them.
        _ if is_grants_read(operation) => 200,
        "POST /v1/programmes"
        | "PATCH /v1/programmes/{id}"
        | "POST /v1/calls"
        | "PATCH /v1/calls/{id}"
            if actor == Anonymous =>
        {
            401
        }
        "POST /v1/programmes" | "POST /v1/calls" if staff => 201,
        "PATCH /v1/programmes/{id}" | "PATCH /v1/calls/{id}" if staff => 200,
        "POST /v1/programmes"
        | "PATCH /v1/programmes/{id}"
        | "POST /v1/calls"
        | "PATCH /v1/calls/{id}" => 403,
        // Awarded grants are open data; the committee's file is the agency's.
        "GET /v1/awarded-grants.csv" => 200,
        "GET /v1/calls/{id}/dossiers.csv" if actor == Anonymous => 401,
        "GET /v1/calls/{id}/dossiers.csv" if staff => 200,
        "GET /v1/calls/{id}/dossiers.csv" => 403,
        // Dossiers are their applicant's and the agency's: others do not see them.
        _ if path.starts_with("/v1/dossiers") && actor == Anonymous => 401,
        "GET /v1/dossiers" => 200,
        "POST /v1/dossiers" if member_of_target => 201,
        // Naming a structure one does not file for is a bad field (staff included).
        "POST /v1/dossiers" => 422,
        "GET /v1/dossiers/{id}" | "POST /v1/dossiers/{id}/check" if member_of_target || staff => {
            200
        }
        "PATCH /v1/dossiers/{id}" if member_of_target => 200,
        // Staff instruct dossiers but do not write the applicant's part.
        "PATCH /v1/dossiers/{id}" if staff => 403,
        "GET /v1/dossiers/{id}/history" if member_of_target || staff => 200,
        // Payments, the final report and flags of the prepared draft: readers see an
        // empty schedule and no flag, and no final report yet.
        "GET /v1/dossiers/{id}/payments" | "GET /v1/dossiers/{id}/attention"
            if member_of_target || staff =>
        {
            200
        }
        "GET /v1/dossiers/{id}/final-report" if member_of_target || staff => 404,
        // The applicant writes the final report, of an approved dossier only (409).
        "PUT /v1/dossiers/{id}/final-report" if member_of_target => 409,
        "PUT /v1/dossiers/{id}/final-report" if staff => 403,
        // Staff pay and plan an approved dossier only (409), clear a flag it has (404).
        "PUT /v1/dossiers/{id}/payments/schedule" if member_of_target => 403,
        "PUT /v1/dossiers/{id}/payments/schedule" if staff => 409,
        "POST /v1/dossiers/{id}/attention/{flag_id}/clear" if staff => 404,
        // Documents: read with the dossier, filed and removed by the applicant only.
        _ if is_document_read(operation) && (member_of_target || staff) => 200,
        "POST /v1/dossiers/{id}/documents" if member_of_target => 201,
        "DELETE /v1/dossiers/{id}/documents/{document_id}" if member_of_target => 204,
        "POST /v1/dossiers/{id}/documents" | "DELETE /v1/dossiers/{id}/documents/{document_id}"
            if staff =>
        {
            403
        }
        // Messages go between the applicant and staff; notes and reviews are the
        // agency's, and do not exist for anyone else. Reviewers are assigned to submitted
        // dossiers only (the prepared one is a draft), and the review ids here are
        // nobody's.
        "GET /v1/dossiers/{id}/messages" if member_of_target || staff => 200,
        "POST /v1/dossiers/{id}/messages" if member_of_target || staff => 201,
        "GET /v1/dossiers/{id}/notes" | "GET /v1/dossiers/{id}/reviews" if staff => 200,
        "POST /v1/dossiers/{id}/notes" if staff => 201,
        "POST /v1/dossiers/{id}/reviews" if staff => 409,
        _ if is_instruction(path) => 404,
        // Transitions of the prepared draft: the applicant submits (an incomplete draft:
        // 422) or withdraws it; the agency's actions are not the applicant's (403), and
        // none is open to staff from a draft (409), nor are the applicant's.
        "POST /v1/dossiers/{id}/submit" if member_of_target => 422,
        "POST /v1/dossiers/{id}/withdraw" if member_of_target => 200,
        "POST /v1/dossiers/{id}/submit" | "POST /v1/dossiers/{id}/withdraw" if staff => 403,
        _ if is_dossier_transition(path) && member_of_target => 403,
        _ if is_dossier_transition(path) && staff => 409,
        _ if path.starts_with("/v1/dossiers/{id}") => 404,
        // Programming: unpublished items of the target structure (see `prepare`).
        "GET /v1/productions" | "GET /v1/tours" | "GET /v1/performances" => 200,
        // Exports: the calendar feed is public, the CSV for those signed in.
        "GET /v1/performances.csv" if actor == Anonymous => 401,
        "GET /v1/performances.ics" | "GET /v1/performances.csv" => 200,
        "POST /v1/productions" | "POST /v1/tours" | "POST /v1/performances"
            if actor == Anonymous =>
        {
            401
        }
        "POST /v1/productions" | "POST /v1/tours" | "POST /v1/performances"
            if member_of_target || staff =>
        {
            201
        }
        // Naming what the caller may not edit is a bad field.
        "POST /v1/productions" | "POST /v1/tours" | "POST /v1/performances" => 422,
        _ if is_programming_item(path) && operation.starts_with("GET") => {
            if member_of_target || staff || actor == Reviewer {
                200
            } else {
                404
            }
        }
        _ if is_programming_item(path) && actor == Anonymous => 401,
        _ if is_programming_item(path) && (member_of_target || staff) => {
            if method_of(operation) == "DELETE" {
                204
            } else {
                200
            }
        }
        // Reviewers read unpublished items but change none.
        _ if is_programming_item(path) && actor == Reviewer => 403,
        _ if is_programming_item(path) => 404,
        _ if path.starts_with("/v1/accounts")
            && operation != "POST /v1/accounts"
            && actor == Anonymous =>
        {
            401
        }
        "GET /v1/accounts" if staff => 200,
        "GET /v1/accounts" => 403,
        "POST /v1/accounts/{id}/password-resets" if staff => 201,
        // Members read their own account but do not reset passwords; others' accounts
        // are not theirs to see.
        "POST /v1/accounts/{id}/password-resets" if member_of_target => 403,
        "POST /v1/accounts/{id}/password-resets" => 404,
        "GET /v1/accounts/{id}" if member_of_target || staff => 200,
        "PATCH /v1/accounts/{id}" if member_of_target || staff => 200,
        "GET /v1/accounts/{id}" | "PATCH /v1/accounts/{id}" => 404,
        // Invitations are answered by the person invited: "own" is one sent to the
        // actor's email, "foreign" one sent to someone else.
        _ if path.starts_with("/v1/me/invitations") && actor == Anonymous => 401,
        "GET /v1/me/invitations" => 200,
        _ if path.starts_with("/v1/me/invitations/{id}") && target == Target::Foreign => 404,
        "POST /v1/me/invitations/{id}/accept" => 201,
        "POST /v1/me/invitations/{id}/decline" => 204,
        "GET /v1/audit-events" if actor == Anonymous => 401,
        "GET /v1/audit-events" if staff => 200,
        "GET /v1/audit-events" => 403,
        // API clients: made by a structure's owner (or staff), managed by its owners.
        _ if path.starts_with("/v1/api-clients") && actor == Anonymous => 401,
        "POST /v1/api-clients" if member_of_target || staff => 201,
        "POST /v1/api-clients" => 422,
        "GET /v1/api-clients" => 200,
        _ if path.starts_with("/v1/api-clients/{id}") && !(member_of_target || staff) => 404,
        "GET /v1/api-clients/{id}"
        | "POST /v1/api-clients/{id}/secret"
        | "POST /v1/api-clients/{id}/takeover" => 200,
        "DELETE /v1/api-clients/{id}" => 204,
        // Partner sync is for API clients with `programming:write` only.
        _ if path.starts_with("/v1/sync/") && actor == Anonymous => 401,
        _ if path.starts_with("/v1/sync/") => 403,
        // Webhooks: an owner subscribes for its structures (staff for any); a
        // subscription is its maker's (and staff's): others do not see it.
        _ if path.starts_with("/v1/webhooks") && actor == Anonymous => 401,
        "POST /v1/webhooks" if member_of_target || staff => 201,
        "POST /v1/webhooks" => 422,
        "GET /v1/webhooks" => 200,
        _ if path.starts_with("/v1/webhooks/{id}") && !(member_of_target || staff) => 404,
        "DELETE /v1/webhooks/{id}" => 204,
        "POST /v1/webhooks/{id}/ping"
        | "POST /v1/webhooks/{id}/deliveries/{delivery_id}/replay" => 202,
        _ if path.starts_with("/v1/webhooks/{id}") => 200,
        _ => return None,
    })
}

/// Bodies no operation accepts: an unknown field, malformed JSON, another media type.
/// (One above the body limit: `http::errors`, with a small limit.)
const BAD_BODIES: [(&str, &[u8]); 3] = [
    ("application/json", br#"{"no_such_field": 1}"#),
    ("application/json", br#"{"name": "#),
    ("text/plain", b"name"),
];

fn method_of(operation: &str) -> &str {
    operation
        .split_once(' ')
        .map(|(method, _)| method)
        .unwrap_or_default()
}

/// `/v1/productions/{id}`, `/v1/tours/{id}`, `/v1/performances/{id}`.
fn is_programming_item(path: &str) -> bool {
    matches!(
        path,
        "/v1/productions/{id}" | "/v1/tours/{id}" | "/v1/performances/{id}"
    )
}

/// The reads of published programmes and calls, open to every caller.
fn is_grants_read(operation: &str) -> bool {
    matches!(
        operation,
        "GET /v1/programmes"
            | "GET /v1/programmes/{id}"
            | "GET /v1/programmes/{id}/form-schema"
            | "GET /v1/calls"
            | "GET /v1/calls/{id}"
    )
}

/// The paths whose `{id}` is a programme, a call or a dossier that `prepare` made.
fn is_grants_item(path: &str) -> bool {
    path.starts_with("/v1/programmes/{id}")
        || path.starts_with("/v1/calls/{id}")
        || path.starts_with("/v1/dossiers/{id}")
}

/// The reads of a dossier's documents: the list, one's metadata, one's content.
fn is_document_read(operation: &str) -> bool {
    matches!(
        operation,
        "GET /v1/dossiers/{id}/documents"
            | "GET /v1/dossiers/{id}/documents/{document_id}"
            | "GET /v1/dossiers/{id}/documents/{document_id}/content"
    )
}

/// `POST /v1/dossiers/{id}/submit`, `…/approve` and the other transitions.
fn is_dossier_transition(path: &str) -> bool {
    path.starts_with("/v1/dossiers/{id}/")
        && !path.starts_with("/v1/dossiers/{id}/documents")
        && !is_instruction(path)
        && !matches!(
            path,
            "/v1/dossiers/{id}/check" | "/v1/dossiers/{id}/history"
        )
}

/// A dossier's messages, notes and reviews.
fn is_instruction(path: &str) -> bool {
    path.starts_with("/v1/dossiers/{id}/messages") || is_hidden_from_applicants(path)
}

/// A dossier's notes and reviews: the agency's only.
fn is_hidden_from_applicants(path: &str) -> bool {
    path.starts_with("/v1/dossiers/{id}/notes") || path.starts_with("/v1/dossiers/{id}/reviews")
}

/// A programme code no other test programme holds.
fn fresh_code() -> String {
    format!("P{}", &uuid::Uuid::now_v7().simple().to_string()[20..]).to_uppercase()
}

fn path_of(operation: &str) -> &str {
    operation
        .split_once(' ')
        .map(|(_, path)| path)
        .unwrap_or_default()
}

/// The email an actor's account signed up with (none for callers without an account).
fn email_of(actor: Actor) -> Option<&'static str> {
    match actor {
        Actor::MemberOfA => Some("a@company.example"),
        Actor::MemberOfB => Some("b@company.example"),
        Actor::Reviewer => Some("reviewer@agency.example"),
        Actor::Staff => Some("staff@agency.example"),
        Actor::Admin => Some("admin@agency.example"),
        Actor::Anonymous | Actor::ApiClientOfA | Actor::DisabledAccount | Actor::RevokedClient => {
            None
        }
    }
}

/// Whether the actor sees the private fields of the target structure.
fn sees_private(actor: Actor, target: Target) -> bool {
    matches!(actor, Actor::Staff | Actor::Admin)
        || (matches!(
            actor,
            Actor::MemberOfA | Actor::MemberOfB | Actor::ApiClientOfA
        ) && target == Target::Own)
}

struct World {
    clients: BTreeMap<Actor, reqwest::Client>,
    member_a: String,
    member_b: String,
    member_a_id: String,
    member_b_id: String,
    /// An account that members add, or that asks to join.
    joiner: String,
    joiner_id: String,
}

async fn world(app: &TestApp) -> World {
    let member_a = app.sign_up("a@company.example").await;
    let member_b = app.sign_up("b@company.example").await;
    let mut clients = BTreeMap::new();
    clients.insert(Actor::Anonymous, app.anonymous.clone());
    clients.insert(Actor::MemberOfA, client_with(Some(&member_a)));
    clients.insert(Actor::MemberOfB, client_with(Some(&member_b)));
    for (actor, role, email) in [
        (
            Actor::Reviewer,
            AgencyRole::Reviewer,
            "reviewer@agency.example",
        ),
        (Actor::Staff, AgencyRole::Staff, "staff@agency.example"),
        (Actor::Admin, AgencyRole::Admin, "admin@agency.example"),
    ] {
        clients.insert(
            actor,
            client_with(Some(&app.agency_account(email, role).await)),
        );
    }
    let disabled = app.sign_up("disabled@example.org").await;
    let disabled_structure = structure_of(app, &disabled, "Structure D").await;
    let (client_id, secret) = make_api_client(app, &disabled, &disabled_structure).await;
    let revoked = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", secret.as_str()),
        ]))
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = app
        .send(client_with(Some(&disabled)).delete(app.url(&format!("/v1/api-clients/{client_id}"))))
        .await;
    assert_eq!(revoke.status, 204);
    let disabled_id = app
        .send(client_with(Some(&disabled)).get(app.url("/v1/me")))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let staff = client_with(Some(
        &app.agency_account("disabler@agency.example", AgencyRole::Staff)
            .await,
    ));
    let disable = app
        .send(
            staff
                .patch(app.url(&format!("/v1/accounts/{disabled_id}")))
                .json(&json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(disable.status, 200);
    clients.insert(Actor::DisabledAccount, client_with(Some(&disabled)));
    clients.insert(Actor::RevokedClient, client_with(Some(&revoked)));
    let joiner = app.sign_up("joiner@example.org").await;
    let joiner_id = app
        .send(client_with(Some(&joiner)).get(app.url("/v1/me")))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id_of = |token: String| async move {
        app.send(client_with(Some(&token)).get(app.url("/v1/me")))
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let member_a_id = id_of(member_a.clone()).await;
    let member_b_id = id_of(member_b.clone()).await;
    World {
        clients,
        member_a_id,
        member_b_id,
        member_a,
        member_b,
        joiner,
        joiner_id,
    }
}

async fn structure_of(app: &TestApp, token: &str, name: &str) -> String {
    let reply = app
        .send(
            client_with(Some(token))
                .post(app.url("/v1/structures"))
                .json(&company(name)),
        )
        .await;
    assert_eq!(reply.status, 201);
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// What an operation needs to exist before it runs: the joiner as a member (to change
/// or remove), its pending request (to answer), an invitation (to cancel), an API
/// client (to manage). Returns the id of what was made, where the path names it.
async fn prepare(
    app: &TestApp,
    world: &World,
    path: &str,
    owner: &str,
    structure: &str,
) -> Option<String> {
    if path.starts_with("/v1/api-clients/{id}") {
        return Some(make_api_client(app, owner, structure).await.0);
    }
    if path.starts_with("/v1/webhooks/{id}") {
        let reply = app
            .send(
                client_with(Some(owner))
                    .post(app.url("/v1/webhooks"))
                    .json(&webhook(structure)),
            )
            .await;
        assert_eq!(reply.status, 201, "preparing {path}");
        return Some(reply.json()["webhook"]["id"].as_str().unwrap().to_owned());
    }
    let owner_client = client_with(Some(owner));
    if is_grants_item(path) || path == "/v1/calls" || path == "/v1/dossiers" {
        // The agency's: made by staff, published; a dossier: the owner's, a draft.
        let staff = &world.clients[&Actor::Staff];
        let (programme, call) = app.programme_and_call(staff, &fresh_code(), 100_000).await;
        return Some(
            if path.starts_with("/v1/calls/{id}") || path == "/v1/dossiers" {
                call
            } else if path.starts_with("/v1/dossiers/{id}") {
                app.create_with(
                    &owner_client,
                    "/v1/dossiers",
                    &json!({"call_id": call, "applicant_id": structure, "title": "Dossier"}),
                )
                .await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            } else {
                programme
            },
        );
    }
    let made = match path {
        "/v1/productions/{id}"
        | "/v1/tours"
        | "/v1/tours/{id}"
        | "/v1/performances"
        | "/v1/performances/{id}" => app
            .create_with(&owner_client, "/v1/productions", &production(structure))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        _ => String::new(),
    };
    match path {
        "/v1/productions/{id}" | "/v1/tours" | "/v1/performances" => return Some(made),
        "/v1/tours/{id}" => {
            let tour = app
                .create_with(
                    &owner_client,
                    "/v1/tours",
                    &json!({"production_id": made, "name": "Hiver", "starts_on": "2027-01-01", "ends_on": "2027-02-01"}),
                )
                .await;
            return Some(tour["id"].as_str().unwrap().to_owned());
        }
        "/v1/performances/{id}" => {
            let made = app
                .create_with(
                    &owner_client,
                    "/v1/performances",
                    &performance(&made, "34172", "2027-03-01T20:30:00+01:00"),
                )
                .await;
            return Some(made["id"].as_str().unwrap().to_owned());
        }
        _ => {}
    }
    match path {
        "/v1/structures/{id}/members/{account_id}" => {
            let id = invite(app, owner, structure, "joiner@example.org").await;
            let reply = app
                .send(
                    client_with(Some(&world.joiner))
                        .post(app.url(&format!("/v1/me/invitations/{id}/accept"))),
                )
                .await;
            assert_eq!(reply.status, 201, "preparing {path}");
            None
        }
        "/v1/structures/{id}/invitations/{invitation_id}" => {
            Some(invite(app, owner, structure, "joiner@example.org").await)
        }
        p if p.starts_with("/v1/structures/{id}/join-requests/{account_id}") => {
            let reply = app
                .send(
                    client_with(Some(&world.joiner))
                        .post(app.url(&format!("/v1/structures/{structure}/join-requests")))
                        .json(&json!({})),
                )
                .await;
            assert_eq!(reply.status, 201, "preparing {path}");
            None
        }
        _ => None,
    }
}

/// A subscription for `structure`, to an address that resolves nowhere.
fn webhook(structure: &str) -> Value {
    json!({"url": "https://hooks.example.invalid/oes", "event_types": ["*"], "structure_ids": [structure]})
}

/// `owner` invites `email` into `structure`: the invitation's id.
async fn invite(app: &TestApp, owner: &str, structure: &str, email: &str) -> String {
    let reply = app
        .send(
            client_with(Some(owner))
                .post(app.url(&format!("/v1/structures/{structure}/invitations")))
                .json(&json!({"email": email, "role": "viewer"})),
        )
        .await;
    assert_eq!(reply.status, 201);
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// An invitation into a structure of the joiner's: to the actor (own) or to someone
/// else (foreign).
async fn invitation_for(app: &TestApp, world: &World, actor: Actor, target: Target) -> String {
    let structure = structure_of(app, &world.joiner, "Structure J").await;
    let email = match (email_of(actor), target) {
        (Some(email), Target::Own) => email,
        _ => "someone.else@example.org",
    };
    invite(app, &world.joiner, &structure, email).await
}

/// A client of `structure` made by its owner: its id and secret.
async fn make_api_client(app: &TestApp, owner: &str, structure: &str) -> (String, String) {
    let reply = app
        .send(client_with(Some(owner)).post(app.url("/v1/api-clients")).json(&json!({
            "name": "Partner", "structure_ids": [structure], "scopes": ["read", "structures:write"]
        })))
        .await;
    assert_eq!(reply.status, 201);
    let credentials = reply.json();
    (
        credentials["client"]["id"].as_str().unwrap().to_owned(),
        credentials["client_secret"].as_str().unwrap().to_owned(),
    )
}

async fn api_client_token(app: &TestApp, owner: &str, structure: &str) -> String {
    let (id, secret) = make_api_client(app, owner, structure).await;
    let reply = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ]))
        .await;
    assert_eq!(reply.status, 200);
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

fn operations(app_spec: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in app_spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

#[tokio::test]
async fn every_operation_answers_every_caller_as_the_policy_says() {
    // The walk takes minutes, more on a loaded machine: the tokens signed in at its
    // start must outlive it, or a 401 would stand in for the answer under test.
    let app = spawn_app_with(|settings| settings.access_token_ttl = 3_600).await;
    let world = world(&app).await;
    let spec = serde_json::to_value(api::openapi::document()).unwrap();
    let mut failures = Vec::new();
    let mut accounts = 0;
    let mut erasures = 0;
    let mut checked_bodies = 0;

    let operations = operations(&spec);
    // A spec read wrongly (no paths) would check nothing and pass.
    for known in [("GET", "/v1/structures"), ("DELETE", "/v1/me")] {
        assert!(
            operations.contains(&(known.0.to_owned(), known.1.to_owned())),
            "{known:?} missing from {operations:?}"
        );
    }
    for (method, path) in operations {
        let operation = format!("{method} {path}");
        for actor in ACTORS {
            for target in [Target::Own, Target::Foreign] {
                let Some(status) = expected(&operation, actor, target) else {
                    panic!("no row in the authorization matrix for {operation}");
                };
                // Fresh objects for every case: a DELETE must not change the next case.
                let a = structure_of(&app, &world.member_a, "Structure A").await;
                let b = structure_of(&app, &world.member_b, "Structure B").await;
                let mut prepared = BTreeMap::new();
                for (owner, structure) in [(&world.member_a, &a), (&world.member_b, &b)] {
                    if let Some(made) = prepare(&app, &world, &path, owner, structure).await {
                        prepared.insert(structure.clone(), made);
                    }
                }
                // A document of each structure's dossier, uploaded by its owner.
                let mut documents = BTreeMap::new();
                if path.contains("{document_id}") {
                    for (owner, structure) in [(&world.member_a, &a), (&world.member_b, &b)] {
                        let dossier = &prepared[structure];
                        let uploaded = app
                            .upload_with(
                                &client_with(Some(owner)),
                                dossier,
                                &[
                                    Part::Text("kind", "budget"),
                                    Part::File("file", Some(b"budget.pdf"), "application/pdf", PDF),
                                ],
                            )
                            .await;
                        assert_eq!(uploaded.status, 201, "preparing {path}");
                        documents.insert(
                            structure.clone(),
                            uploaded.json()["id"].as_str().unwrap().to_owned(),
                        );
                    }
                }
                let (own, foreign) = if actor == Actor::MemberOfB {
                    (&b, &a)
                } else {
                    (&a, &b)
                };
                let structure = if target == Target::Own { own } else { foreign };
                let account_of = |s: &String| {
                    if *s == a {
                        &world.member_a_id
                    } else {
                        &world.member_b_id
                    }
                };
                let invitation = if path.starts_with("/v1/me/invitations/{id}") {
                    Some(invitation_for(&app, &world, actor, target).await)
                } else {
                    None
                };
                let id = if path.starts_with("/v1/accounts/{id}") {
                    account_of(structure)
                } else if let Some(invitation) = &invitation {
                    invitation
                } else if path.starts_with("/v1/api-clients/{id}")
                    || path.starts_with("/v1/webhooks/{id}")
                    || is_programming_item(&path)
                    || is_grants_item(&path)
                {
                    &prepared[structure]
                } else {
                    structure
                };
                let mut url = path
                    .replace("{external_id}", "SYNC-1")
                    .replace("{id}", id)
                    .replace("{account_id}", &world.joiner_id)
                    .replace("{flag_id}", &uuid::Uuid::now_v7().to_string())
                    .replace("{review_id}", &uuid::Uuid::now_v7().to_string());
                if let Some(invitation) = prepared.get(structure)
                    && path.contains("{invitation_id}")
                {
                    url = url.replace("{invitation_id}", invitation);
                }
                if let Some(document) = documents.get(structure) {
                    url = url.replace("{document_id}", document);
                }
                if path.contains("{delivery_id}") {
                    // A ping of the subscription, by its maker.
                    let maker = if *structure == a {
                        &world.member_a
                    } else {
                        &world.member_b
                    };
                    let webhook = &prepared[structure];
                    let ping = app
                        .send(
                            client_with(Some(maker))
                                .post(app.url(&format!("/v1/webhooks/{webhook}/ping"))),
                        )
                        .await;
                    assert_eq!(ping.status, 202, "preparing {path}");
                    url = url.replace("{delivery_id}", ping.json()["id"].as_str().unwrap());
                }
                let url = app.url(&url);
                let partner;
                let client = if actor == Actor::ApiClientOfA {
                    partner = client_with(Some(&api_client_token(&app, &world.member_a, &a).await));
                    &partner
                } else if operation == "DELETE /v1/me"
                    && !matches!(
                        actor,
                        Actor::Anonymous | Actor::DisabledAccount | Actor::RevokedClient
                    )
                {
                    // Erasing oneself: a stand-in of the same kind, so the others live on.
                    erasures += 1;
                    let email = format!("erased{erasures}@example.org");
                    let token = match actor {
                        Actor::Reviewer => app.agency_account(&email, AgencyRole::Reviewer).await,
                        Actor::Staff => app.agency_account(&email, AgencyRole::Staff).await,
                        Actor::Admin => app.agency_account(&email, AgencyRole::Admin).await,
                        _ => app.sign_up(&email).await,
                    };
                    partner = client_with(Some(&token));
                    &partner
                } else {
                    &world.clients[&actor]
                };
                let request = match (method.as_str(), path.as_str()) {
                    ("GET", _) => client.get(&url),
                    ("POST", "/v1/structures") => client.post(&url).json(&company("New")),
                    ("POST", "/v1/accounts") => {
                        accounts += 1;
                        client.post(&url).json(&json!({
                            "email": format!("new{accounts}@example.org"),
                            "display_name": "New",
                            "password": PASSWORD,
                        }))
                    }
                    ("POST", "/v1/auth/token") => client.post(&url).form(&[
                        ("grant_type", "password"),
                        ("username", "a@company.example"),
                        ("password", PASSWORD),
                    ]),
                    ("POST", "/v1/auth/revoke") => client.post(&url).form(&[("token", "whatever")]),
                    ("POST", "/v1/structures/{id}/invitations") => client
                        .post(&url)
                        .json(&json!({"email": "invitee@example.org", "role": "editor"})),
                    ("POST", "/v1/me/invitations/{id}/accept")
                    | ("POST", "/v1/me/invitations/{id}/decline")
                    | ("POST", "/v1/api-clients/{id}/takeover") => client.post(&url),
                    ("PATCH", "/v1/structures/{id}/members/{account_id}") => {
                        client.patch(&url).json(&json!({"role": "editor"}))
                    }
                    ("POST", "/v1/structures/{id}/join-requests") => {
                        client.post(&url).json(&json!({"message": "Bonjour"}))
                    }
                    ("POST", "/v1/structures/{id}/join-requests/{account_id}/accept") => {
                        client.post(&url).json(&json!({"role": "viewer"}))
                    }
                    ("POST", "/v1/structures/{id}/join-requests/{account_id}/decline") => {
                        client.post(&url)
                    }
                    ("POST", "/v1/api-clients") => client.post(&url).json(&json!({
                        "name": "Partner", "structure_ids": [structure], "scopes": ["read"]
                    })),
                    ("POST", "/v1/api-clients/{id}/secret") => client.post(&url),
                    ("POST", "/v1/webhooks") => client.post(&url).json(&webhook(structure)),
                    ("PATCH", "/v1/webhooks/{id}") => {
                        client.patch(&url).json(&json!({"description": "Renamed"}))
                    }
                    ("POST", "/v1/webhooks/{id}/rotate-secret")
                    | ("POST", "/v1/webhooks/{id}/ping")
                    | ("POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/replay") => {
                        client.post(&url)
                    }
                    ("POST", "/v1/productions") => client.post(&url).json(&production(structure)),
                    ("POST", "/v1/programmes") => client.post(&url).json(&programme(&fresh_code())),
                    ("POST", "/v1/dossiers") => client.post(&url).json(&json!({
                        "call_id": prepared[structure], "applicant_id": structure, "title": "Dossier"
                    })),
                    ("POST", "/v1/dossiers/{id}/check") => client.post(&url),
                    ("POST", "/v1/dossiers/{id}/documents") => client
                        .post(&url)
                        .header(
                            "content-type",
                            format!("multipart/form-data; boundary={BOUNDARY}"),
                        )
                        .body(multipart(&[
                            Part::Text("kind", "budget"),
                            Part::File("file", Some(b"budget.pdf"), "application/pdf", PDF),
                        ])),
                    ("POST", "/v1/dossiers/{id}/messages" | "/v1/dossiers/{id}/notes") => {
                        client.post(&url).json(&json!({"body": "Bonjour"}))
                    }
                    ("POST", "/v1/dossiers/{id}/reviews") => client
                        .post(&url)
                        .json(&json!({"reviewer_id": uuid::Uuid::now_v7()})),
                    ("PUT", "/v1/dossiers/{id}/reviews/{review_id}") => {
                        client.put(&url).json(&json!({"scores": {}}))
                    }
                    ("POST", "/v1/dossiers/{id}/reviews/{review_id}/conflict") => {
                        client.post(&url).json(&json!({"reason": "Conflit"}))
                    }
                    ("POST", "/v1/dossiers/{id}/approve") => {
                        client.post(&url).json(&json!({"awarded_cents": 100}))
                    }
                    ("POST", "/v1/dossiers/{id}/payments") => client.post(&url).json(&json!({
                        "amount_cents": 100, "paid_on": "2027-03-01", "reference": "MANDAT-1"
                    })),
                    ("PUT", "/v1/dossiers/{id}/payments/schedule") => {
                        client.put(&url).json(&json!({"advance_basis_points": 5000}))
                    }
                    ("PUT", "/v1/dossiers/{id}/final-report") => {
                        client.put(&url).json(&json!({"held": [], "budget": {}}))
                    }
                    ("POST", p) if is_dossier_transition(p) => client.post(&url).json(&json!({})),
                    ("PATCH", "/v1/dossiers/{id}") => {
                        client.patch(&url).json(&json!({"title": "Renamed"}))
                    }
                    ("POST", "/v1/calls") => client
                        .post(&url)
                        .json(&open_call(&prepared[structure], 100)),
                    ("POST", "/v1/tours") => client.post(&url).json(&json!({
                        "production_id": prepared[structure], "name": "Été",
                        "starts_on": "2027-06-01", "ends_on": "2027-08-31"
                    })),
                    ("POST", "/v1/performances") => client.post(&url).json(&performance(
                        &prepared[structure],
                        "34172",
                        "2027-04-01T20:30:00+02:00",
                    )),
                    ("PUT", "/v1/sync/performances/{external_id}") => {
                        client.put(&url).json(&performance(
                            &uuid::Uuid::now_v7().to_string(),
                            "34172",
                            "2027-04-01T20:30:00+02:00",
                        ))
                    }
                    ("POST", "/v1/sync/performances/batch") => {
                        client.post(&url).json(&json!({"items": []}))
                    }
                    ("PATCH", "/v1/calls/{id}") => {
                        client.patch(&url).json(&json!({"title": "Renamed"}))
                    }
                    ("PATCH", "/v1/productions/{id}") => {
                        client.patch(&url).json(&json!({"title": "Renamed"}))
                    }
                    ("PATCH", "/v1/performances/{id}") => {
                        client.patch(&url).json(&json!({"capacity": 120}))
                    }
                    ("POST", "/v1/accounts/{id}/password-resets") => client.post(&url),
                    ("POST", "/v1/auth/password-reset") => client
                        .post(&url)
                        .json(&json!({"token": "not-a-reset-token", "password": PASSWORD})),
                    ("POST", "/v1/auth/email-verification") => client
                        .post(&url)
                        .json(&json!({"token": "not-a-verification-token"})),
                    ("PATCH", "/v1/accounts/{id}") => {
                        client.patch(&url).json(&json!({"display_name": "Renamed"}))
                    }
                    ("PATCH", _) => client.patch(&url).json(&json!({"name": "Renamed"})),
                    ("DELETE", _) => client.delete(&url),
                    _ => panic!("no request recipe for {operation}"),
                };
                let reply = app.send(request).await;
                if reply.status != status {
                    failures.push(format!(
                        "{operation} as {actor:?} on {target:?}: {} instead of {status}",
                        reply.status
                    ));
                    continue;
                }
                // A caller refused with a good body is refused with a bad one: the body is
                // judged only for callers who may make the request.
                let has_body = spec["paths"][&path][method.to_lowercase()]
                    .get("requestBody")
                    .is_some();
                if has_body && matches!(status, 401 | 403 | 404) {
                    for (content_type, bad) in BAD_BODIES {
                        let request = client
                            .request(method.parse().unwrap(), &url)
                            .header("Content-Type", content_type)
                            .body(bad.to_vec());
                        let reply = app.send(request).await;
                        if reply.status != status {
                            failures.push(format!(
                                "{operation} as {actor:?} on {target:?} with the body {:?} ({content_type}): {} instead of {status}",
                                String::from_utf8_lossy(&bad[..bad.len().min(20)]),
                                reply.status
                            ));
                        }
                    }
                    checked_bodies += 1;
                }
                if operation == "GET /v1/structures/{id}" {
                    let private = reply.json().get("siret").is_some();
                    if private != sees_private(actor, target) {
                        failures.push(format!(
                            "{operation} as {actor:?} on {target:?}: private fields {}",
                            if private { "shown" } else { "hidden" }
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked_bodies > 20,
        "refusals with a body: {checked_bodies}"
    );
}
