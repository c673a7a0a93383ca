use domain::access::{AccountStatus, AgencyRole};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, client_with, company, spawn_app};

async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> crate::helpers::Reply {
    app.send(app.anonymous.post(app.url("/v1/auth/token")).form(form))
        .await
}

async fn me(app: &TestApp, token: &str) -> crate::helpers::Reply {
    app.send(client_with(Some(token)).get(app.url("/v1/me")))
        .await
}

#[tokio::test]
async fn signing_up_then_in_gives_a_bearer_token_for_me() {
    let app = spawn_app().await;
    let tokens = app.sign_in("member@example.org").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["refresh_token"].is_string());
    let reply = me(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(reply.status, 200);
    let account = reply.json();
    assert_eq!(account["email"], "member@example.org");
    assert_eq!(account["agency_role"], Value::Null);
    assert!(account.get("password").is_none() && account.get("password_hash").is_none());
}

#[tokio::test]
async fn emails_are_unique_whatever_their_case_and_sign_in_ignores_case() {
    let app = spawn_app().await;
    let reply = app
        .send(app.anonymous.post(app.url("/v1/accounts")).json(&json!({
            "email": "MEMBER@Example.org", "display_name": "Twin", "password": PASSWORD
        })))
        .await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.json()["code"], "email_taken");
    let tokens = app.sign_in("Member@EXAMPLE.org").await;
    assert!(tokens["access_token"].is_string());
}

#[tokio::test]
async fn sign_up_cannot_set_what_the_server_owns() {
    let app = spawn_app().await;
    for field in ["agency_role", "status", "id", "version"] {
        let mut body = json!({
            "email": "sneaky@example.org", "display_name": "Sneaky", "password": PASSWORD
        });
        body[field] = json!("admin");
        let reply = app
            .send(app.anonymous.post(app.url("/v1/accounts")).json(&body))
            .await;
        assert_eq!(reply.status, 422, "{field}");
        assert_eq!(reply.error_fields(), [field]);
    }
    let mut structure = company("Compagnie");
    structure["version"] = json!(99);
    let reply = app.post_json("/v1/structures", &structure).await;
    assert_eq!(reply.error_fields(), ["version"]);
}

#[tokio::test]
async fn wrong_credentials_and_unknown_grants_are_refused() {
    let app = spawn_app().await;
    for (form, error) in [
        (
            vec![
                ("grant_type", "password"),
                ("username", "member@example.org"),
                ("password", "wrong password!!"),
            ],
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", "nobody@example.org"),
                ("password", PASSWORD),
            ],
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", "member@example.org"),
            ],
            "invalid_request",
        ),
        (vec![("grant_type", "implicit")], "unsupported_grant_type"),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "made-up"),
            ],
            "invalid_grant",
        ),
        (vec![], "invalid_request"),
    ] {
        let reply = token_request(&app, &form).await;
        assert_eq!(reply.status, 400, "{form:?}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(reply.json()["error"], error, "{form:?}");
    }
    let reply = app
        .send(
            app.anonymous
                .post(app.url("/v1/auth/token"))
                .json(&json!({"grant_type": "password"})),
        )
        .await;
    assert_eq!(reply.status, 415);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let app = spawn_app().await;
    let first = app.sign_in("member@example.org").await;
    let first_refresh = first["refresh_token"].as_str().unwrap();

    let second = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first_refresh),
        ],
    )
    .await;
    assert_eq!(second.status, 200);
    let second = second.json();
    let second_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(
        me(&app, second["access_token"].as_str().unwrap())
            .await
            .status,
        200
    );

    // The spent token comes back: an attacker or a confused client. Both lose the family.
    let replay = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first_refresh),
        ],
    )
    .await;
    assert_eq!(replay.json()["error"], "invalid_grant");
    let after = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", second_refresh),
        ],
    )
    .await;
    assert_eq!(after.status, 400);
    assert_eq!(after.json()["error"], "invalid_grant");

    // Another sign-in is another family, untouched.
    let other = app.sign_in("member@example.org").await;
    let refreshed = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", other["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(refreshed.status, 200);
}

#[tokio::test]
async fn a_revoked_refresh_token_no_longer_refreshes() {
    let app = spawn_app().await;
    let tokens = app.sign_in("member@example.org").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let reply = app
        .send(
            app.anonymous
                .post(app.url("/v1/auth/revoke"))
                .form(&[("token", refresh)]),
        )
        .await;
    assert_eq!(reply.status, 200);
    // Unknown tokens answer the same (RFC 7009).
    let reply = app
        .send(
            app.anonymous
                .post(app.url("/v1/auth/revoke"))
                .form(&[("token", "unknown")]),
        )
        .await;
    assert_eq!(reply.status, 200);
    let refused = token_request(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(refused.json()["error"], "invalid_grant");
}

fn claims(sub: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": "oes-api", "aud": "oes-api", "sub": sub, "iat": now, "exp": now + 600, "jti": "t-1"})
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused_with_401() {
    let app = spawn_app().await;
    let me_reply = me(&app, &app.member_token).await.json();
    let sub = me_reply["id"].as_str().unwrap().to_owned();
    let secret = EncodingKey::from_secret(app.jwt_secret.as_bytes());
    let sign = |claims: &Value| encode(&Header::new(Algorithm::HS256), claims, &secret).unwrap();

    // The control: a token made like the server's own is accepted.
    assert_eq!(me(&app, &sign(&claims(&sub))).await.status, 200);

    let mut expired = claims(&sub);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let mut foreign_audience = claims(&sub);
    foreign_audience["aud"] = json!("another-api");
    let mut foreign_issuer = claims(&sub);
    foreign_issuer["iss"] = json!("someone-else");
    let mut no_expiry = claims(&sub);
    no_expiry.as_object_mut().unwrap().remove("exp");
    let wrong_key = encode(
        &Header::new(Algorithm::HS256),
        &claims(&sub),
        &EncodingKey::from_secret(b"not the server's secret, not at all"),
    )
    .unwrap();
    let unsigned = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            engine.encode(br#"{"alg":"none","typ":"JWT"}"#),
            engine.encode(claims(&sub).to_string())
        )
    };
    let mut tampered = app.member_token.clone();
    tampered.insert(tampered.len() / 2, 'x');
    for (label, token) in [
        ("expired", sign(&expired)),
        ("wrong audience", sign(&foreign_audience)),
        ("wrong issuer", sign(&foreign_issuer)),
        ("no expiry", sign(&no_expiry)),
        ("wrong key", wrong_key),
        ("alg none", unsigned),
        ("tampered", tampered),
        ("garbage", "garbage".into()),
    ] {
        let reply = me(&app, &token).await;
        assert_eq!(reply.status, 401, "{label}");
        assert_eq!(reply.json()["code"], "invalid_token", "{label}");
        assert!(
            reply
                .header("www-authenticate")
                .unwrap()
                .contains("invalid_token"),
            "{label}"
        );
    }
    let reply = app.send(app.anonymous.get(app.url("/v1/me"))).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["code"], "unauthenticated");
}

#[tokio::test]
async fn disabling_an_account_takes_effect_at_once() {
    let app = spawn_app().await;
    let refresh = app.sign_in("member@example.org").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me(&app, &app.member_token).await.status, 200);
    let id: domain::access::AccountId = me(&app, &app.member_token).await.json()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut conn = app.pool.get().unwrap();
    persistence::identity::accounts::set_status(&mut conn, id, AccountStatus::Disabled).unwrap();
    drop(conn);

    assert_eq!(me(&app, &app.member_token).await.status, 401);
    let refused = token_request(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(refused.json()["error"], "invalid_grant");
    let refused = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("username", "member@example.org"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(refused.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn only_members_and_staff_see_private_fields_and_write() {
    let app = spawn_app().await;
    let mut body = company("Compagnie privée");
    body["siret"] = json!("73282932000074");
    body["phone"] = json!("+33 4 67 00 00 00");
    let created = app.create_structure(&body).await;
    assert_eq!(created["visibility"], "full");
    let path = format!("/v1/structures/{}", created["id"].as_str().unwrap());

    let other = client_with(Some(&app.sign_up("other@example.org").await));
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));

    for (label, client) in [("anonymous", &app.anonymous), ("other member", &other)] {
        let seen = app.send(client.get(app.url(&path))).await;
        assert_eq!(seen.status, 200, "{label}");
        let seen = seen.json();
        assert_eq!(seen["visibility"], "public", "{label}");
        assert_eq!(seen["name"], "Compagnie privée");
        assert_eq!(seen["address"]["city"], "Montpellier");
        for private in ["siret", "phone", "email", "licences", "legal_name"] {
            assert!(seen.get(private).is_none(), "{label} sees {private}");
        }
        assert!(
            seen["address"].get("street").is_none(),
            "{label} sees the street"
        );
        let listed = app.send(client.get(app.url("/v1/structures"))).await.json();
        assert_eq!(listed["data"][0]["visibility"], "public", "{label}");
        assert!(listed["data"][0].get("siret").is_none(), "{label}");
    }
    let seen = app.send(staff.get(app.url(&path))).await.json();
    assert_eq!(seen["siret"], "73282932000074");
    assert_eq!(
        app.get("/v1/structures").await.json()["data"][0]["visibility"],
        "full"
    );

    let refused = app
        .send(
            app.anonymous
                .post(app.url("/v1/structures"))
                .json(&company("X")),
        )
        .await;
    assert_eq!(refused.status, 401);
    assert!(refused.header("www-authenticate").is_some());
    let refused = app
        .send(other.patch(app.url(&path)).json(&json!({"name": "Volée"})))
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["code"], "forbidden");
    let refused = app.send(other.delete(app.url(&path))).await;
    assert_eq!(refused.status, 403);
    let refused = app.send(app.anonymous.delete(app.url(&path))).await;
    assert_eq!(refused.status, 401);

    let edited = app
        .send(
            staff
                .patch(app.url(&path))
                .json(&json!({"name": "Corrigée"})),
        )
        .await;
    assert_eq!(edited.status, 200);
    assert_eq!(app.get(&path).await.json()["name"], "Corrigée");
}

#[tokio::test]
async fn removing_a_membership_takes_effect_at_once() {
    let app = spawn_app().await;
    let created = app.create_structure(&company("Compagnie")).await;
    let path = format!("/v1/structures/{}", created["id"].as_str().unwrap());
    let me_id: domain::access::AccountId = me(&app, &app.member_token).await.json()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let structure_id: domain::StructureId = created["id"].as_str().unwrap().parse().unwrap();
    let mut conn = app.pool.get().unwrap();
    persistence::structures::memberships::remove_membership(&mut conn, me_id, structure_id)
        .unwrap();
    drop(conn);

    assert_eq!(app.get(&path).await.json()["visibility"], "public");
    assert_eq!(
        app.patch_json(&path, &json!({"name": "x"})).await.status,
        403
    );
}

#[tokio::test]
async fn an_expired_refresh_token_no_longer_refreshes() {
    let app = crate::helpers::spawn_app_with(|settings| settings.refresh_token_ttl = 1).await;
    let refresh = app.sign_in("member@example.org").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let refused = token_request(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn ten_simultaneous_presentations_of_one_refresh_token_give_one_new_pair() {
    let app = spawn_app().await;
    let refresh = app.sign_in("member@example.org").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let presentations = (0..10).map(|_| token_request(&app, &form));
    let replies = futures_util::future::join_all(presentations).await;
    let winners: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for loser in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(loser.status, 400);
        assert_eq!(loser.json()["error"], "invalid_grant");
    }
    let pair = winners[0].json();
    assert_eq!(
        me(&app, pair["access_token"].as_str().unwrap())
            .await
            .status,
        200
    );
    // The nine others presented a spent token: replays, which end the whole sign-in,
    // the new refresh token included.
    let successor = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", pair["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(successor.status, 400);
    assert_eq!(successor.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused_and_one_valid_since_a_while_is_not() {
    let app = spawn_app().await;
    let sub = me(&app, &app.member_token).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = EncodingKey::from_secret(app.jwt_secret.as_bytes());
    let sign = |claims: &Value| encode(&Header::new(Algorithm::HS256), claims, &secret).unwrap();
    let now = chrono::Utc::now().timestamp();
    let mut later = claims(&sub);
    later["nbf"] = json!(now + 3600);
    let reply = me(&app, &sign(&later)).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["code"], "invalid_token");
    let mut since = claims(&sub);
    since["nbf"] = json!(now - 60);
    assert_eq!(me(&app, &sign(&since)).await.status, 200);
}
