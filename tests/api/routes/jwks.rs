use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

fn fixture_key() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/es256-test-key.pem")
}

#[tokio::test]
async fn with_an_ec_key_tokens_are_es256_and_the_jwks_verifies_them() {
    let app = spawn_app_with(|settings| settings.jwt_private_key_file = Some(fixture_key())).await;
    // spawn_app signed in through the ES256 keys: the member's token works.
    assert_eq!(app.get("/v1/me").await.status, 200);

    let header = decode_header(&app.member_token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    let kid = header.kid.expect("tokens name their key");

    let reply = app
        .send(app.anonymous.get(app.url("/.well-known/jwks.json")))
        .await;
    assert_eq!(reply.status, 200);
    let set: JwkSet = serde_json::from_slice(&reply.bytes).unwrap();
    assert_matches_the_contract(&reply.json());
    let jwk = set.find(&kid).expect("the token's key is published");
    assert!(
        reply.json().to_string().find("\"d\"").is_none(),
        "no private part"
    );

    // What a partner system does: verify with the published key alone.
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&["oes-api"]);
    validation.set_issuer(&["oes-api"]);
    let claims = decode::<Value>(
        &app.member_token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["iss"], "oes-api");
}

#[tokio::test]
async fn with_a_shared_secret_there_is_no_jwks() {
    let app = spawn_app().await;
    let reply = app
        .send(app.anonymous.get(app.url("/.well-known/jwks.json")))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(
        decode_header(&app.member_token).unwrap().alg,
        Algorithm::HS256
    );
}

/// The JWK Set is what the contract's `JwkSet` and `Jwk` schemas say, member for member.
fn assert_matches_the_contract(set: &Value) {
    let spec = serde_json::to_value(api::openapi::document()).unwrap();
    let schemas = &spec["components"]["schemas"];
    assert_eq!(
        schemas["JwkSet"]["properties"]["keys"]["items"]["$ref"],
        "#/components/schemas/Jwk"
    );
    let jwk = &schemas["Jwk"];
    let properties = jwk["properties"].as_object().unwrap();
    let required: Vec<&str> = jwk["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let keys = set["keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        let members = key.as_object().unwrap();
        for name in members.keys() {
            assert!(
                properties.contains_key(name),
                "{name} is not in the contract"
            );
        }
        for name in &required {
            assert!(members.contains_key(*name), "{name} is missing");
        }
        for (name, property) in properties {
            assert_eq!(property["type"], "string", "{name}: {property}");
            if let Some(allowed) = property["enum"].as_array() {
                assert!(allowed.contains(&key[name]), "{name}: {}", key[name]);
            }
        }
        for name in ["kty", "crv", "use", "alg"] {
            assert!(
                properties[name]["enum"].is_array(),
                "{name} has its one value"
            );
        }
    }
}
