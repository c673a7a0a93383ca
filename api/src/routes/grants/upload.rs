//! Reading an upload of `POST /v1/dossiers/{id}/documents`: a `multipart/form-data` body
//! with a `kind` and a `file`, read as it streams in within the limits, hashed on the
//! way, and its type decided by its content.
//!
//! The file is held in memory (at most `OES_UPLOAD_LIMIT_BYTES`) until it has passed
//! every check, then stored whole: a refused upload never reaches the store, and a
//! body above the limit is refused at the first byte beyond it, never read to its end.

use std::cell::Cell;
use std::rc::Rc;

use actix_multipart::{Multipart, MultipartError};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{HttpRequest, web};
use bytes::{Bytes, BytesMut};
use domain::grants::{DocumentFileName, DocumentFormat, DocumentKind};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::GrantsProblem;
use crate::http::error::{ApiError, FieldIssue, Issue};

/// What the parts other than the file may add to a body: their boundaries and headers,
/// and a `kind`.
const FORM_OVERHEAD: usize = 16 * 1024;

/// Longest `kind` read; the longest kind is far shorter.
const KIND_MAX: usize = 64;

/// An upload that passed every check: ready to store.
#[derive(Debug)]
pub struct Upload {
    pub kind: DocumentKind,
    pub file_name: DocumentFileName,
    pub format: DocumentFormat,
    pub content: Bytes,
    /// Lower-case hex.
    pub sha256: String,
}

impl Upload {
    /// What identifies this upload under an `Idempotency-Key`: the same kind, name and
    /// content are the same request.
    pub fn fingerprint(&self) -> Vec<u8> {
        format!("{} {} {}", self.kind, self.sha256, self.file_name).into_bytes()
    }
}

/// Whether the body is `multipart/form-data`.
fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("multipart/form-data"))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge { limit }
}

fn malformed(error: &MultipartError) -> ApiError {
    ApiError::Validation(vec![FieldIssue::new(
        "body",
        Issue::InvalidValue(format!("malformed multipart/form-data: {error}")),
    )])
}

/// The format of `content`, read from its bytes only. A zip is an OpenDocument file when
/// its first entry is the uncompressed `mimetype` naming one, an Office file when its
/// entries are those of Office Open XML; any other zip is refused.
pub fn sniff(content: &[u8]) -> Option<DocumentFormat> {
    type Matcher = fn(&[u8]) -> bool;
    let checks: [(Matcher, DocumentFormat); 9] = [
        (infer::archive::is_pdf, DocumentFormat::Pdf),
        (infer::image::is_png, DocumentFormat::Png),
        (infer::image::is_jpeg, DocumentFormat::Jpeg),
        (infer::odf::is_odt, DocumentFormat::Odt),
        (infer::odf::is_ods, DocumentFormat::Ods),
        (infer::odf::is_odp, DocumentFormat::Odp),
        (infer::doc::is_docx, DocumentFormat::Docx),
        (infer::doc::is_xlsx, DocumentFormat::Xlsx),
        (infer::doc::is_pptx, DocumentFormat::Pptx),
    ];
    checks
        .iter()
        .find(|(matches, _)| matches(content))
        .map(|(_, format)| *format)
}

/// Reads the upload of `req`: 415 unless the body is `multipart/form-data`, 413 as soon
/// as the file passes `limit` bytes (or the whole body `limit` and the form's overhead),
/// 422 naming `kind`, `file` or the unknown part, 415 naming `file` for content of
/// another type. A client that goes away mid-stream ends it with an error, before
/// anything is stored.
pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Upload, ApiError> {
    if !is_multipart(req) {
        return Err(ApiError::UnsupportedMediaType {
            expected: "multipart/form-data",
        });
    }
    let body_limit = limit.saturating_add(FORM_OVERHEAD);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > body_limit) {
        return Err(too_large(limit));
    }
    // The whole body is counted as it comes: past the limit, the stream ends in an
    // error that is told apart from a malformed body by this flag.
    let overflowed = Rc::new(Cell::new(false));
    let counted = {
        let overflowed = Rc::clone(&overflowed);
        let mut total = 0usize;
        payload.map(move |chunk| {
            let chunk = chunk?;
            total = total.saturating_add(chunk.len());
            if total > body_limit {
                overflowed.set(true);
                return Err(PayloadError::Overflow);
            }
            Ok(chunk)
        })
    };
    let mut form = Multipart::new(req.headers(), counted);
    let failed = |error: MultipartError| {
        if overflowed.get() {
            too_large(limit)
        } else {
            malformed(&error)
        }
    };
    let mut issues = Vec::new();
    let mut kind: Option<Result<DocumentKind, domain::FieldProblem>> = None;
    let mut file: Option<(String, BytesMut, Sha256)> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(failed)?;
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "kind" if kind.is_none() => {
                let mut text = BytesMut::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(failed)?;
                    if text.len() + chunk.len() <= KIND_MAX {
                        text.extend_from_slice(&chunk);
                    } else {
                        text.clear();
                        text.extend_from_slice(b"?");
                    }
                }
                let text = std::str::from_utf8(&text).unwrap_or("?");
                kind = Some(DocumentKind::parse(text.trim()));
            }
            "file" if file.is_none() => {
                // RFC 5987's `filename*` (any character, percent-encoded) wins over the
                // plain `filename`, as RFC 6266 says.
                let disposition = field.content_disposition();
                let sent = disposition
                    .and_then(|d| d.get_filename_ext())
                    .map(|ext| String::from_utf8_lossy(&ext.value).into_owned())
                    .or_else(|| {
                        disposition
                            .and_then(|d| d.get_filename())
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                let mut content = BytesMut::new();
                let mut hasher = Sha256::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(failed)?;
                    if content.len() + chunk.len() > limit {
                        return Err(too_large(limit));
                    }
                    hasher.update(&chunk);
                    content.extend_from_slice(&chunk);
                }
                file = Some((sent, content, hasher));
            }
            _ => {
                // Drained, so that what follows is read; a part named twice or
                // unknown is reported with the others.
                while let Some(chunk) = field.next().await {
                    chunk.map_err(failed)?;
                }
                let field = if name.is_empty() { "body".into() } else { name };
                issues.push(FieldIssue::new(
                    field,
                    Issue::InvalidValue("unknown or repeated part".into()),
                ));
            }
        }
    }
    let kind = match kind {
        Some(Ok(kind)) => Some(kind),
        Some(Err(problem)) => {
            issues.push(FieldIssue::new("kind", Issue::Domain(problem)));
            None
        }
        None => {
            issues.push(FieldIssue::new("kind", Issue::Missing));
            None
        }
    };
    if file.is_none() {
        issues.push(FieldIssue::new("file", Issue::Missing));
    }
    let (Some(kind), Some((sent, content, hasher)), true) = (kind, file, issues.is_empty()) else {
        return Err(ApiError::Validation(issues));
    };
    let format = sniff(&content).ok_or(GrantsProblem::DocumentTypeNotAllowed)?;
    Ok(Upload {
        kind,
        file_name: DocumentFileName::sanitize(&sent),
        format,
        content: content.freeze(),
        sha256: hex(&hasher.finalize()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_read_from_the_content() {
        assert_eq!(sniff(b"%PDF-1.4\n%\xe2\xe3\n"), Some(DocumentFormat::Pdf));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(DocumentFormat::Png)
        );
        assert_eq!(
            sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"),
            Some(DocumentFormat::Jpeg)
        );
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(sniff(b"<!DOCTYPE html><html></html>"), None);
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0\0\0"), None);
        assert_eq!(sniff(b""), None);
    }
}
