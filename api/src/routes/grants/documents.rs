//! `/v1/dossiers/{id}/documents`: the pièces justificatives of a dossier. Those who
//! file for its applicant upload and remove them while the dossier is theirs to edit
//! (`draft`, `changes_requested`); whoever reads the dossier lists and downloads them.
//!
//! An upload is judged after its caller (401, 403, 404, 409 before the body is read),
//! then read within the limit and sniffed ([`super::upload`]), stored, and its row
//! inserted in a transaction that locks the dossier and checks again who may and in
//! which state: a failure there deletes the stored content. A removal marks the row,
//! commits, then deletes the content (see `persistence::grants::documents`).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use domain::access::Principal;
use domain::grants::{Document, DocumentFormat, DocumentKind, editable_by_applicant};
use domain::{DocumentId, DossierId};
use persistence::DbConnection;
use persistence::clock::storable_now;
use persistence::db::write_transaction;
use persistence::grants::documents::{self, MAX_PER_DOSSIER};
use serde::Serialize;
use utoipa::ToSchema;

use super::GrantsProblem;
use super::dossiers::{check_applicant, readable_dossier};
use super::upload::{self, Upload};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::enums;
use crate::http::conditional;
use crate::http::error::{ApiError, responses};
use crate::http::extract::{PathId, UploadLimit};
use crate::http::idempotency::{self, Reply};
use crate::storage::Storage;

/// A document's metadata.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d20",
    "dossier_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10",
    "kind": "cession_contract",
    "file_name": "Contrat de cession.pdf",
    "format": "pdf",
    "media_type": "application/pdf",
    "size_bytes": 48213,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uploaded_at": "2026-12-04T10:15:00Z"
}))]
pub struct DocumentView {
    #[schema(value_type = uuid::Uuid)]
    pub id: DocumentId,
    #[schema(value_type = uuid::Uuid)]
    pub dossier_id: DossierId,
    #[schema(value_type = enums::DocumentKind)]
    pub kind: DocumentKind,
    /// The name it was sent with, made safe (no path, no control or invisible
    /// characters, at most 120 characters): for display only.
    pub file_name: String,
    /// Decided by the content, never by the name or the declared type.
    #[schema(value_type = enums::DocumentFormat)]
    pub format: DocumentFormat,
    /// The type a download is served with.
    pub media_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the content, lower-case hex; also the download's `ETag`.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<&Document> for DocumentView {
    fn from(document: &Document) -> Self {
        Self {
            id: document.id,
            dossier_id: document.dossier_id,
            kind: document.kind,
            file_name: document.file_name.as_str().to_owned(),
            format: document.format,
            media_type: document.format.media_type().to_owned(),
            size_bytes: document.size_bytes,
            sha256: document.sha256.clone(),
            uploaded_at: document.uploaded_at,
        }
    }
}

/// A dossier's documents, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    pub data: Vec<DocumentView>,
}

/// An upload: `multipart/form-data` with these two parts, and no other.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct DocumentUpload {
    #[schema(value_type = enums::DocumentKind)]
    kind: String,
    /// The file: PDF, PNG, JPEG, OpenDocument (odt, ods, odp) or Office Open XML (docx,
    /// xlsx, pptx), decided by its content; its file name is kept for display.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
}

/// A document's content, as uploaded.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct DocumentBytes(#[allow(dead_code)] Vec<u8>);

/// Who may upload to or remove from the dossier now: 404 for a caller who may not read
/// it, 403 for one who does not file for its applicant, 409 once it is not the
/// applicant's to edit.
fn check_editable(
    conn: &mut DbConnection,
    principal: &Principal,
    id: DossierId,
) -> Result<(), ApiError> {
    let (dossier, role) = readable_dossier(conn, principal, id)?;
    check_applicant(principal, role)?;
    if editable_by_applicant(dossier.status) {
        Ok(())
    } else {
        Err(GrantsProblem::DossierNotEditable.into())
    }
}

/// Upload a document to a dossier.
///
/// By those who file for its applicant, while it is a draft or changes are requested
/// (409 `dossier_not_editable` otherwise). A `multipart/form-data` body with `kind`, one
/// of the document kinds (those the programme requires are checked at submission), and
/// `file`. The type is read from the content: PDF, PNG, JPEG, OpenDocument or Office
/// Open XML, anything else a 415 naming `file` (`document_type_not_allowed`). A file
/// above `OES_UPLOAD_LIMIT_BYTES` (20 MiB by default) is a 413, refused as it streams.
/// Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key, kind, name and content replay the first response."),
    ),
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored.", body = DocumentView, headers(
            ("Location" = String, description = "URL of the new document."),
        )),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedDocumentType,
        responses::Unprocessable,
    )
)]
#[post("/dossiers/{id}/documents")]
pub async fn upload_document(
    caller: Caller,
    pool: web::Data<Db>,
    storage: web::Data<Storage>,
    req: HttpRequest,
    PathId(id): PathId<DossierId>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // A body refused before it is read to its end (a caller who may not upload, a file
    // above the limit) is not read further: actix-web closes the connection after the
    // answer.
    caller.signed_in()?;
    db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        check_editable(conn, &principal, id)
    })
    .await?;
    let limit = req
        .app_data::<UploadLimit>()
        .copied()
        .unwrap_or(UploadLimit(20 << 20));
    let upload = upload::read(&req, payload, limit.0).await?;
    let document_id = DocumentId::generate();
    let key = Document::storage_key_for(id, document_id);
    let (kind, actor_id) = caller.actor();
    let stored = {
        let (storage, key) = (storage.clone(), key.clone());
        idempotency::once(&pool, &req, &caller, &upload.fingerprint(), || async move {
            let Upload {
                kind: document_kind,
                file_name,
                format,
                content,
                sha256,
            } = upload;
            let size_bytes = i64::try_from(content.len()).unwrap_or(i64::MAX);
            // First the content, then the row: a crash between leaves an object the
            // sweep removes, never a row without its content.
            storage.put(&key, content).await?;
            let event = audit::event(
                &caller,
                "dossier.document.upload",
                "dossier",
                id,
                &["documents"],
            );
            Ok(move |conn: &mut DbConnection| {
                write_transaction(conn, |conn| {
                    documents::lock_dossier(conn, id)?;
                    let principal = caller.principal(conn)?;
                    check_editable(conn, &principal, id)?;
                    if documents::count_live(conn, id)? >= MAX_PER_DOSSIER {
                        return Err(GrantsProblem::TooManyDocuments {
                            max: MAX_PER_DOSSIER,
                        }
                        .into());
                    }
                    let document = Document {
                        id: document_id,
                        dossier_id: id,
                        kind: document_kind,
                        file_name,
                        format,
                        size_bytes,
                        sha256,
                        storage_key: key,
                        uploaded_by_kind: kind.as_str().to_owned(),
                        uploaded_by_id: actor_id,
                        uploaded_at: storable_now(),
                        deleted_at: None,
                    };
                    persistence::audit::recorded(
                        conn,
                        |conn| documents::insert(conn, &document),
                        |_| event,
                    )?;
                    Ok(
                        Reply::json(StatusCode::CREATED, &DocumentView::from(&document))?.header(
                            header::LOCATION,
                            format!("/v1/dossiers/{id}/documents/{document_id}"),
                        ),
                    )
                })
            })
        })
        .await
    };
    // Only this request's own row keeps this content: a refusal, a failure, or the
    // replay of an earlier upload under the same key leaves it to be deleted now.
    let created = matches!(&stored, Ok(response)
        if response.status() == StatusCode::CREATED
            && !response.headers().contains_key("Idempotent-Replayed"));
    if !created {
        storage.discard(&key).await;
    }
    stored
}

/// List a dossier's documents.
///
/// For whoever reads the dossier (its applicant's members and API clients, agency
/// staff), oldest first; removed ones are not listed.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    responses(
        (status = 200, description = "The dossier's documents.", body = DocumentList),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/documents")]
pub async fn list_documents(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<DossierId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let listed = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        readable_dossier(conn, &principal, id)?;
        Ok::<_, ApiError>(documents::list_live(conn, id)?)
    })
    .await?;
    Ok(private(HttpResponse::Ok()).json(DocumentList {
        data: listed.iter().map(DocumentView::from).collect(),
    }))
}

/// The live document `document` of a dossier the caller reads.
async fn readable_document(
    caller: Caller,
    pool: &Db,
    id: DossierId,
    document: DocumentId,
) -> Result<Document, ApiError> {
    db::run(pool, move |conn| {
        let principal = caller.principal(conn)?;
        readable_dossier(conn, &principal, id)?;
        Ok::<_, ApiError>(documents::find_live(conn, id, document)?)
    })
    .await
}

/// Get a document's metadata.
///
/// For whoever reads the dossier; a removed document, or another dossier's, is a 404.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("document_id" = uuid::Uuid, Path, description = "Document id."),
    ),
    responses(
        (status = 200, description = "The document's metadata.", body = DocumentView),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/documents/{document_id}")]
pub async fn get_document(
    caller: Caller,
    pool: web::Data<Db>,
    path: PathId<(DossierId, DocumentId)>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let PathId((id, document)) = path;
    let document = readable_document(caller, &pool, id, document).await?;
    Ok(private(HttpResponse::Ok()).json(DocumentView::from(&document)))
}

/// Download a document.
///
/// Its content as stored, with its type (`Content-Type`), as an attachment under its
/// name (`Content-Disposition`, RFC 6266 with an RFC 5987 `filename*`), and its SHA-256
/// as `ETag`: `If-None-Match` with it gives a 304.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("document_id" = uuid::Uuid, Path, description = "Document id."),
        ("If-None-Match" = Option<String>, Header, description = "The ETag you hold: 304 if the content is still that."),
    ),
    responses(
        (status = 200, description = "The content.", content(
            (DocumentBytes = "application/pdf"),
            (DocumentBytes = "image/png"),
            (DocumentBytes = "image/jpeg"),
            (DocumentBytes = "application/vnd.oasis.opendocument.text"),
            (DocumentBytes = "application/vnd.oasis.opendocument.spreadsheet"),
            (DocumentBytes = "application/vnd.oasis.opendocument.presentation"),
            (DocumentBytes = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (DocumentBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (DocumentBytes = "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ), headers(
            ("Content-Disposition" = String, description = "`attachment` with the document's name."),
            ("ETag" = String, description = "The content's SHA-256, quoted."),
        )),
        (status = 304, description = "Unchanged: your `If-None-Match` holds its ETag."),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/documents/{document_id}/content")]
pub async fn download_document(
    caller: Caller,
    pool: web::Data<Db>,
    storage: web::Data<Storage>,
    req: HttpRequest,
    path: PathId<(DossierId, DocumentId)>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let PathId((id, document)) = path;
    let document = readable_document(caller, &pool, id, document).await?;
    let tag = EntityTag::new_strong(document.sha256.clone());
    if conditional::holds(&req, &tag)? {
        return Ok(private(HttpResponse::NotModified())
            .insert_header(header::ETag(tag))
            .finish());
    }
    let content = storage.get(&document.storage_key).await?;
    Ok(private(HttpResponse::Ok())
        .content_type(document.format.media_type())
        .insert_header(header::ETag(tag))
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(document.file_name.as_str()),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .no_chunking(u64::try_from(document.size_bytes).unwrap_or_default())
        .streaming(content))
}

/// Remove a document.
///
/// By those who file for its applicant, while the dossier is a draft or changes are
/// requested (409 `dossier_not_editable` otherwise). Its content is deleted; the dossier's
/// history keeps that it was there.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("document_id" = uuid::Uuid, Path, description = "Document id."),
    ),
    responses(
        (status = 204, description = "Removed."),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
    )
)]
#[delete("/dossiers/{id}/documents/{document_id}")]
pub async fn delete_document(
    caller: Caller,
    pool: web::Data<Db>,
    storage: web::Data<Storage>,
    path: PathId<(DossierId, DocumentId)>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let PathId((id, document)) = path;
    let event = audit::event(
        &caller,
        "dossier.document.delete",
        "dossier",
        id,
        &["documents"],
    );
    let removed = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            documents::lock_dossier(conn, id)?;
            let principal = caller.principal(conn)?;
            let (dossier, role) = readable_dossier(conn, &principal, id)?;
            let removed = documents::find_live(conn, id, document)?;
            check_applicant(&principal, role)?;
            if !editable_by_applicant(dossier.status) {
                return Err(GrantsProblem::DossierNotEditable.into());
            }
            persistence::audit::recorded(
                conn,
                |conn| documents::mark_deleted(conn, &removed, storable_now()),
                |_| event,
            )?;
            Ok(removed)
        })
    })
    .await?;
    // Committed: the content goes now, or with the sweep if this fails.
    storage.discard(&removed.storage_key).await;
    Ok(HttpResponse::NoContent().finish())
}

/// A signed-in answer: for this caller only, checked again before reuse.
fn private(mut response: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    response
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::NoCache,
        ]))
        .insert_header((header::VARY, "Authorization"));
    response
}

/// `attachment` under `name` (RFC 6266): an ASCII `filename` for old clients, and the
/// exact name as UTF-8 in `filename*` (RFC 5987), percent-encoded.
pub(crate) fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'!'
            | b'#'
            | b'$'
            | b'&'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~' => encoded.push(byte as char),
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn the_disposition_carries_an_ascii_name_and_the_exact_one() {
        assert_eq!(
            content_disposition("Contrat été \"2027\".pdf"),
            "attachment; filename=\"Contrat _t_ _2027_.pdf\"; filename*=UTF-8''Contrat%20%C3%A9t%C3%A9%20%222027%22.pdf"
        );
        assert_eq!(
            content_disposition("rib.pdf"),
            "attachment; filename=\"rib.pdf\"; filename*=UTF-8''rib.pdf"
        );
    }
}
