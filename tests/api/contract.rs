//! `openapi.yaml` at the root is the committed copy of what the code generates.

use std::path::PathBuf;

#[test]
fn the_committed_openapi_yaml_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    let generated = api::openapi::document()
        .to_yaml()
        .expect("spec prints as YAML");
    if std::env::var_os("OES_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("openapi.yaml written");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.yaml is out of date: run `cargo run -p api -- openapi > openapi.yaml` \
         (or OES_UPDATE_OPENAPI=1 cargo test -p tests contract)"
    );
}

#[test]
fn every_operation_documents_its_error_responses() {
    let spec = serde_json::to_value(api::openapi::document()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            if path.starts_with("/v1/") {
                for status in ["400", "503"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
                let problem = &responses["400"]["content"]["application/problem+json"];
                assert!(
                    problem.is_object(),
                    "{method} {path}: errors are problem+json"
                );
            }
        }
    }
}
