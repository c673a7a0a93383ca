//! Media types the server accepts beyond what the handlers' attributes can say.

use utoipa::openapi::OpenApi;

pub const MERGE_PATCH_JSON: &str = "application/merge-patch+json";

/// Every PATCH body is a JSON merge patch (RFC 7396): declared as
/// `application/merge-patch+json` next to `application/json`, which the JSON body
/// extractor accepts alike.
pub struct MergePatch;

impl utoipa::Modify for MergePatch {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let Some(utoipa::openapi::RefOr::T(body)) = item
                .patch
                .as_mut()
                .and_then(|operation| operation.request_body.as_mut())
            else {
                continue;
            };
            if let Some(json) = body.content.get("application/json").cloned() {
                body.content.insert(MERGE_PATCH_JSON.to_owned(), json);
            }
        }
    }
}
