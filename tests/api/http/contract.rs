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
    let paths = spec["paths"].as_object().unwrap();
    assert!(
        paths.contains_key("/v1/structures"),
        "the spec lists the API's paths"
    );
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            if path.starts_with("/v1/") {
                assert!(responses.contains_key("503"), "{method} {path} lacks 503");
                for (status, response) in responses {
                    if status.starts_with('4') || status.starts_with('5') {
                        let problem = &response["content"]["application/problem+json"];
                        assert!(
                            problem.is_object(),
                            "{method} {path} {status}: not problem+json"
                        );
                    }
                }
            }
        }
    }
}

/// Operations that take a token say so, and the scheme they name exists.
#[test]
fn protected_operations_declare_the_oauth2_scheme() {
    let spec = serde_json::to_value(api::openapi::document()).unwrap();
    let scheme = &spec["components"]["securitySchemes"]["oauth2"];
    assert_eq!(scheme["flows"]["password"]["tokenUrl"], "/v1/auth/token");
    for (path, method) in [
        ("/v1/structures", "post"),
        ("/v1/structures/{id}", "patch"),
        ("/v1/structures/{id}", "delete"),
        ("/v1/me", "get"),
    ] {
        let operation = &spec["paths"][path][method];
        assert_eq!(
            operation["security"],
            serde_json::json!([{"oauth2": []}]),
            "{method} {path}"
        );
        assert!(operation["responses"]["401"].is_object(), "{method} {path}");
    }
}

#[test]
fn the_contract_patterns_are_the_domain_patterns() {
    use domain::structures::licence::LICENCE_NUMBER_PATTERN;
    use domain::structures::siret::SIRET_PATTERN;
    use domain::structures::{
        COMMUNE_CODE_PATTERN, EMAIL_PATTERN, FRENCH_POSTAL_CODE_PATTERN, PHONE_PATTERN,
        WEBSITE_PATTERN,
    };
    use domain::text::SINGLE_LINE_PATTERN;

    let spec = serde_json::to_value(api::openapi::document()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let pattern = |schema: &str, property: &str| {
        let property = &schemas[schema]["properties"][property];
        property["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{schema}.{property} has no pattern"))
            .to_owned()
    };
    for schema in ["CreateStructure", "UpdateStructure"] {
        assert_eq!(pattern(schema, "name"), SINGLE_LINE_PATTERN, "{schema}");
        assert_eq!(
            pattern(schema, "legal_name"),
            SINGLE_LINE_PATTERN,
            "{schema}"
        );
        assert_eq!(pattern(schema, "siret"), SIRET_PATTERN, "{schema}");
        assert_eq!(pattern(schema, "email"), EMAIL_PATTERN, "{schema}");
        assert_eq!(pattern(schema, "website"), WEBSITE_PATTERN, "{schema}");
        assert_eq!(pattern(schema, "phone"), PHONE_PATTERN, "{schema}");
    }
    assert_eq!(pattern("LicenceInputDto", "number"), LICENCE_NUMBER_PATTERN);
    assert_eq!(
        pattern("FrenchAddressInput", "postal_code"),
        FRENCH_POSTAL_CODE_PATTERN
    );
    assert_eq!(
        pattern("FrenchAddressInput", "commune_code"),
        COMMUNE_CODE_PATTERN
    );
    assert_eq!(pattern("FrenchAddressInput", "street"), SINGLE_LINE_PATTERN);
    assert_eq!(pattern("ForeignAddressInput", "city"), SINGLE_LINE_PATTERN);
}
