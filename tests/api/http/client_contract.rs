//! What client generators read in the contract, checked against what the server does:
//! security schemes, reusable response headers, media types and the token request.

use serde_json::{Value, json};

use crate::helpers::{client_with, company, spawn_app, spawn_app_with};

fn spec() -> Value {
    serde_json::to_value(api::openapi::document()).unwrap()
}

/// Every operation with its method, path and object.
fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    all
}

fn header_ref(response: &Value, name: &str) -> Option<String> {
    response["headers"][name]["$ref"]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn every_operation_declares_its_security_with_schemes_that_exist() {
    let spec = spec();
    let schemes = spec["components"]["securitySchemes"].as_object().unwrap();
    let mut public = Vec::new();
    for (method, path, operation) in operations(&spec) {
        let security = operation["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} declares no security"));
        for requirement in security {
            for scheme in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(scheme), "{method} {path}: {scheme}");
            }
        }
        if security.is_empty() {
            public.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    // Those that read no token at all.
    for operation in [
        "GET /healthz",
        "GET /.well-known/jwks.json",
        "POST /v1/accounts",
        "POST /v1/auth/revoke",
    ] {
        assert!(public.contains(&operation.to_owned()), "{operation}");
    }
    assert_eq!(
        spec["paths"]["/v1/auth/token"]["post"]["security"],
        json!([{}, {"clientBasic": []}]),
        "the token endpoint takes HTTP Basic client credentials, or none"
    );
    assert!(spec["servers"][0]["url"].is_string());
}

#[test]
fn the_oauth2_scheme_has_the_password_and_client_credentials_flows_with_the_client_scopes() {
    let spec = spec();
    let flows = &spec["components"]["securitySchemes"]["oauth2"]["flows"];
    assert_eq!(flows["password"]["tokenUrl"], "/v1/auth/token");
    assert_eq!(flows["password"]["refreshUrl"], "/v1/auth/token");
    assert_eq!(flows["clientCredentials"]["tokenUrl"], "/v1/auth/token");
    let scopes: Vec<&str> = flows["clientCredentials"]["scopes"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected: Vec<&str> = domain::access::Scope::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    expected.sort();
    assert_eq!(scopes, expected);
    let basic = &spec["components"]["securitySchemes"]["clientBasic"];
    assert_eq!(basic["type"], "http");
    assert_eq!(basic["scheme"], "basic");
}

#[test]
fn response_headers_point_at_the_reusable_components() {
    let spec = spec();
    let headers = spec["components"]["headers"].as_object().unwrap();
    for name in [
        "ETag",
        "PageETag",
        "DigestETag",
        "Link",
        "Retry-After",
        "RateLimit",
        "RateLimit-Policy",
        "X-Request-Id",
        "Idempotent-Replayed",
    ] {
        assert!(headers.contains_key(name), "{name}");
    }
    assert_eq!(
        headers["ETag"]["schema"]["pattern"],
        api::openapi::ETAG_PATTERN
    );
    assert_eq!(
        headers["PageETag"]["schema"]["pattern"],
        api::openapi::PAGE_ETAG_PATTERN
    );
    assert_eq!(
        headers["DigestETag"]["schema"]["pattern"],
        api::openapi::DIGEST_ETAG_PATTERN
    );
    let component = |name: &str| Some(format!("#/components/headers/{name}"));
    let mut lists = 0;
    for (method, path, operation) in operations(&spec) {
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let takes = |name: &str| parameters.iter().any(|p| p["name"] == name);
        for (status, response) in operation["responses"].as_object().unwrap() {
            let at = format!("{method} {path} {status}");
            assert_eq!(
                header_ref(response, "X-Request-Id"),
                component("X-Request-Id"),
                "{at}"
            );
            // A page's tag is a digest of its body, a file's of its content, an item's its
            // version.
            let serves_a_file = operation["responses"]["200"]["content"]
                .as_object()
                .is_some_and(|c| !c.is_empty() && !c.keys().any(|t| t.contains("json")));
            let etag = if takes("cursor") {
                "PageETag"
            } else if serves_a_file {
                "DigestETag"
            } else {
                "ETag"
            };
            for (name, reference) in [("ETag", etag), ("Link", "Link")] {
                if response["headers"].get(name).is_some() {
                    assert_eq!(header_ref(response, name), component(reference), "{at}");
                }
            }
            if status == "304" {
                assert_eq!(header_ref(response, "ETag"), component(etag), "{at}");
            }
            if status == "200" && takes("cursor") {
                assert_eq!(header_ref(response, "Link"), component("Link"), "{at}");
                lists += 1;
            }
            if status == "429" {
                for name in ["Retry-After", "RateLimit", "RateLimit-Policy"] {
                    assert_eq!(header_ref(response, name), component(name), "{at}");
                }
            }
            if status.starts_with('2') && takes("Idempotency-Key") {
                assert_eq!(
                    header_ref(response, "Idempotent-Replayed"),
                    component("Idempotent-Replayed"),
                    "{at}"
                );
            }
        }
    }
    assert!(lists >= 3, "the paged lists are found by their cursor");
}

/// A client holding a structure's `version` builds the `ETag` itself, as the contract
/// describes it, and writes with it; the server's own tags have that format.
#[tokio::test]
async fn a_client_builds_if_match_from_the_version_as_the_contract_says() {
    let app = spawn_app().await;
    let created = app.create_structure(&company("Compagnie du Levant")).await;
    let id = created["id"].as_str().unwrap();
    let version = created["version"].as_i64().unwrap();
    let read = app.get(&format!("/v1/structures/{id}")).await;
    assert_eq!(
        read.header("etag"),
        Some(format!("\"v{version}\"").as_str())
    );
    let not_modified = app
        .send(
            app.client
                .get(app.url(&format!("/v1/structures/{id}")))
                .header("If-None-Match", format!("\"v{version}\"")),
        )
        .await;
    assert_eq!(not_modified.status, 304);
    assert_eq!(not_modified.header("etag"), read.header("etag"));
    let patched = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/structures/{id}")))
                .header("If-Match", format!("\"v{version}\""))
                .json(&json!({"name": "Compagnie du Couchant"})),
        )
        .await;
    assert_eq!(
        patched.status,
        200,
        "{}",
        String::from_utf8_lossy(&patched.bytes)
    );
    assert_eq!(
        patched.header("etag"),
        Some(format!("\"v{}\"", version + 1).as_str())
    );
}

#[test]
fn every_patch_declares_json_merge_patch_next_to_json() {
    let spec = spec();
    let mut patches = 0;
    for (method, path, operation) in operations(&spec) {
        if method != "patch" {
            continue;
        }
        patches += 1;
        let content = &operation["requestBody"]["content"];
        assert!(content["application/json"].is_object(), "{path}");
        assert_eq!(
            content["application/merge-patch+json"], content["application/json"],
            "{path}"
        );
    }
    assert!(patches >= 3);
}

#[tokio::test]
async fn patch_bodies_sent_as_merge_patch_json_are_accepted() {
    let app = spawn_app().await;
    let created = app.create_structure(&company("Compagnie du Levant")).await;
    let id = created["id"].as_str().unwrap();
    let me = app.get("/v1/me").await.json();
    let merge_patch = |path: String, body: Value| {
        app.client
            .patch(app.url(&path))
            .header("Content-Type", "application/merge-patch+json")
            .body(body.to_string())
    };
    let structure = app
        .send(merge_patch(
            format!("/v1/structures/{id}"),
            json!({"website": null, "name": "Compagnie du Couchant"}),
        ))
        .await;
    assert_eq!(
        structure.status,
        200,
        "{}",
        String::from_utf8_lossy(&structure.bytes)
    );
    assert_eq!(structure.json()["name"], "Compagnie du Couchant");
    let account = app
        .send(merge_patch(
            format!("/v1/accounts/{}", me["id"].as_str().unwrap()),
            json!({"display_name": "Claire Dupont"}),
        ))
        .await;
    assert_eq!(
        account.status,
        200,
        "{}",
        String::from_utf8_lossy(&account.bytes)
    );
    assert_eq!(account.json()["display_name"], "Claire Dupont");
}

/// The discriminator's values are exactly the grants the server knows, and each
/// variant requires what the server needs for it.
#[tokio::test]
async fn the_token_request_has_one_variant_per_grant_the_server_knows() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let request = &schemas["TokenRequest"];
    assert_eq!(request["discriminator"]["propertyName"], "grant_type");
    let mapping = request["discriminator"]["mapping"].as_object().unwrap();
    let variants: Vec<&str> = request["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["$ref"].as_str().unwrap())
        .collect();
    let mut required_of = std::collections::BTreeMap::new();
    for (grant, target) in mapping {
        assert!(variants.contains(&target.as_str().unwrap()), "{grant}");
        let name = target.as_str().unwrap().rsplit('/').next().unwrap();
        let variant = &schemas[name];
        assert_eq!(variant["properties"]["grant_type"]["enum"], json!([grant]));
        required_of.insert(grant.clone(), variant["required"].clone());
    }
    assert_eq!(
        json!(required_of),
        json!({
            "password": ["grant_type", "username", "password"],
            "refresh_token": ["grant_type", "refresh_token"],
            "client_credentials": ["grant_type"],
        })
    );
    let op = &spec["paths"]["/v1/auth/token"]["post"];
    assert_eq!(
        op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"],
        "#/components/schemas/TokenRequest"
    );

    // The server: each documented grant is known (refused for its credentials, not as
    // an unsupported grant), and nothing else is.
    let app = spawn_app().await;
    for grant in mapping.keys() {
        let reply = app
            .send(
                app.anonymous
                    .post(app.url("/v1/auth/token"))
                    .form(&[("grant_type", grant.as_str())]),
            )
            .await;
        assert!(
            matches!(reply.status, 400 | 401),
            "{grant}: {}",
            reply.status
        );
        assert_ne!(reply.json()["error"], "unsupported_grant_type", "{grant}");
    }
    let unknown = app
        .send(
            app.anonymous
                .post(app.url("/v1/auth/token"))
                .form(&[("grant_type", "authorization_code")]),
        )
        .await;
    assert_eq!(unknown.json()["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn the_token_endpoint_415_says_form_encoded_in_the_contract_and_the_answer() {
    let spec = spec();
    for path in ["/v1/auth/token", "/v1/auth/revoke"] {
        let description = spec["paths"][path]["post"]["responses"]["415"]["description"]
            .as_str()
            .unwrap();
        assert!(
            description.contains("application/x-www-form-urlencoded"),
            "{path}: {description}"
        );
    }
    let app = spawn_app_with(|_| {}).await;
    let reply = app
        .send(
            client_with(None)
                .post(app.url("/v1/auth/token"))
                .header("Accept-Language", "en")
                .json(&json!({"grant_type": "password"})),
        )
        .await;
    assert_eq!(reply.status, 415);
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("application/x-www-form-urlencoded"),
        "{}",
        reply.json()
    );
    let json_endpoint = app
        .send(
            app.client
                .post(app.url("/v1/structures"))
                .header("Accept-Language", "en")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("kind=company"),
        )
        .await;
    assert_eq!(json_endpoint.status, 415);
    assert!(
        json_endpoint.json()["detail"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
}

/// `If-Match` and `If-None-Match` are one reusable parameter each, not nullable, with
/// the grammar the server reads (the fuzzer sent `null` to an inline nullable one).
#[test]
fn conditional_request_headers_are_the_reusable_parameters() {
    let spec = spec();
    let parameters = &spec["components"]["parameters"];
    for name in ["If-Match", "If-None-Match"] {
        assert_eq!(parameters[name]["in"], "header");
        assert_eq!(parameters[name]["schema"]["type"], "string", "{name}");
        assert_eq!(
            parameters[name]["schema"]["pattern"],
            api::openapi::ENTITY_TAGS_PATTERN
        );
    }
    let mut uses = 0;
    for (method, path, operation) in operations(&spec) {
        for parameter in operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            assert!(
                !matches!(
                    parameter["name"].as_str(),
                    Some("If-Match" | "If-None-Match")
                ),
                "{method} {path}: inline {parameter}"
            );
            if let Some(target) = parameter["$ref"].as_str()
                && target.starts_with("#/components/parameters/If-")
            {
                uses += 1;
            }
        }
    }
    assert!(uses >= 3, "GET, PATCH and DELETE of a structure");
}
