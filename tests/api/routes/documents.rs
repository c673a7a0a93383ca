//! `/v1/dossiers/{id}/documents`: uploads judged by their content, within the limit,
//! stored under keys no client chooses, downloaded as they came, removed while the
//! dossier is the applicant's to edit.

use std::io::Write;

use serde_json::{Value, json};

use super::dossiers::{company_with_performance, dossier, test_call};
use crate::helpers::{
    Reply, TestApp, client_with, open_call, programme, spawn_app, spawn_app_with,
};
use crate::routes::productions::partner;

pub const BOUNDARY: &str = "oes-test-boundary-7f3a";

/// One part of a `multipart/form-data` body.
pub enum Part<'a> {
    Text(&'a str, &'a str),
    /// A file part: its field name, the `filename` parameter as raw bytes (`None`: no
    /// parameter), its declared type, its content.
    File(&'a str, Option<&'a [u8]>, &'a str, &'a [u8]),
    /// A file part whose name travels only as RFC 5987 `filename*` (percent-encoded).
    FileStar(&'a str, &'a str, &'a [u8]),
}

/// A multipart body, made by hand so that any name, however odd, travels as sent.
pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}")
                        .as_bytes(),
                );
            }
            Part::File(name, file_name, declared, content) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"").as_bytes(),
                );
                if let Some(file_name) = file_name {
                    body.extend_from_slice(b"; filename=\"");
                    body.extend_from_slice(file_name);
                    body.extend_from_slice(b"\"");
                }
                body.extend_from_slice(format!("\r\nContent-Type: {declared}\r\n\r\n").as_bytes());
                body.extend_from_slice(content);
            }
            Part::FileStar(name, encoded, content) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename*=UTF-8''{encoded}\r\nContent-Type: application/pdf\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(content);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The start of a JFIF JPEG and its end.
pub const JPEG: &[u8] =
    b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xFF\xD9";

/// A zip of `entries` in that order, stored (as the `mimetype` of OpenDocument must be).
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in entries {
        writer.start_file(*name, options).expect("zip entry");
        writer.write_all(content).expect("zip content");
    }
    writer.finish().expect("zip").into_inner()
}

/// An Office Open XML file whose part folder is `folder` (`word`, `xl`, `ppt`), its
/// entries in the order Office writes them.
fn office(folder: &str) -> Vec<u8> {
    zip_of(&[
        ("[Content_Types].xml", b"<?xml version=\"1.0\"?><Types/>"),
        ("_rels/.rels", b"<?xml version=\"1.0\"?><Relationships/>"),
        (
            &format!("{folder}/_rels/main.xml.rels"),
            b"<?xml version=\"1.0\"?><Relationships/>",
        ),
        (
            &format!("{folder}/main.xml"),
            b"<?xml version=\"1.0\"?><x/>",
        ),
        (
            "docProps/core.xml",
            b"<?xml version=\"1.0\"?><cp:coreProperties/>",
        ),
    ])
}

/// An OpenDocument file of `mimetype`.
fn open_document(mimetype: &str) -> Vec<u8> {
    zip_of(&[
        ("mimetype", mimetype.as_bytes()),
        (
            "content.xml",
            b"<?xml version=\"1.0\"?><office:document-content/>",
        ),
    ])
}

/// A draft of the test member's company for a call whose programme asks for no
/// document: its id.
pub async fn draft(app: &TestApp) -> String {
    let staff = app
        .staff(&format!(
            "staff-{}@agency.example",
            uuid::Uuid::now_v7().simple()
        ))
        .await;
    let code = format!("D{}", &uuid::Uuid::now_v7().simple().to_string()[20..26]).to_uppercase();
    let (_, call) = test_call(app, &staff, &code, 10_000_000).await;
    let (structure, performance) = company_with_performance(app, &app.client, 300_000).await;
    let made = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(&call, &structure, &[&performance], 100_000),
        )
        .await;
    made["id"].as_str().unwrap().to_owned()
}

impl TestApp {
    /// Sends `parts` to the dossier's documents as `client`.
    pub async fn upload_with(
        &self,
        client: &reqwest::Client,
        dossier: &str,
        parts: &[Part<'_>],
    ) -> Reply {
        self.send(
            client
                .post(self.url(&format!("/v1/dossiers/{dossier}/documents")))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(multipart(parts)),
        )
        .await
    }

    /// Uploads `content` as a `kind` named `name`, as the test member.
    pub async fn upload(&self, dossier: &str, kind: &str, name: &str, content: &[u8]) -> Reply {
        self.upload_with(
            &self.client,
            dossier,
            &[
                Part::Text("kind", kind),
                Part::File(
                    "file",
                    Some(name.as_bytes()),
                    "application/octet-stream",
                    content,
                ),
            ],
        )
        .await
    }

    /// The keys of every stored document content.
    pub async fn stored_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .storage
            .keys()
            .await
            .expect("storage listed")
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        keys.sort();
        keys
    }

    /// How many document rows the database holds, removed ones included.
    pub fn document_rows(&self) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.pool.get().expect("connection");
        diesel::sql_query("SELECT COUNT(*) AS n FROM dossier_documents")
            .get_result::<Count>(&mut *conn)
            .expect("count")
            .n
    }
}

fn created(reply: &Reply) -> Value {
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    reply.json()
}

#[tokio::test]
async fn every_allowed_type_is_recognised_by_its_content_and_downloads_as_sent() {
    let app = spawn_app().await;
    let id = draft(&app).await;
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        ("pdf", PDF.to_vec(), "application/pdf"),
        ("png", PNG.to_vec(), "image/png"),
        ("jpeg", JPEG.to_vec(), "image/jpeg"),
        (
            "odt",
            open_document("application/vnd.oasis.opendocument.text"),
            "application/vnd.oasis.opendocument.text",
        ),
        (
            "ods",
            open_document("application/vnd.oasis.opendocument.spreadsheet"),
            "application/vnd.oasis.opendocument.spreadsheet",
        ),
        (
            "odp",
            open_document("application/vnd.oasis.opendocument.presentation"),
            "application/vnd.oasis.opendocument.presentation",
        ),
        (
            "docx",
            office("word"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "xlsx",
            office("xl"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "pptx",
            office("ppt"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
    ];
    for (format, content, media_type) in &files {
        // The name says nothing true: the content decides.
        let reply = app.upload(&id, "other", "pièce.bin", content).await;
        assert_eq!(
            reply.status,
            201,
            "{format}: {:?}",
            &content[..content.len().min(80)]
        );
        let made = reply.json();
        assert_eq!(made["format"], *format);
        assert_eq!(made["media_type"], *media_type);
        assert_eq!(made["size_bytes"], content.len());
        assert_eq!(made["file_name"], "pièce.bin");
        let sha = made["sha256"].as_str().unwrap();
        assert_eq!(sha.len(), 64);
        let document = made["id"].as_str().unwrap();

        let download = app
            .get(&format!("/v1/dossiers/{id}/documents/{document}/content"))
            .await;
        assert_eq!(download.status, 200);
        assert_eq!(&download.bytes, content, "{format}");
        assert_eq!(download.header("content-type"), Some(*media_type));
        assert_eq!(
            download.header("content-disposition"),
            Some("attachment; filename=\"pi_ce.bin\"; filename*=UTF-8''pi%C3%A8ce.bin")
        );
        assert_eq!(download.header("etag"), Some(format!("\"{sha}\"").as_str()));
        assert_eq!(download.header("x-content-type-options"), Some("nosniff"));
        let again = app
            .send(
                app.client
                    .get(app.url(&format!("/v1/dossiers/{id}/documents/{document}/content")))
                    .header("if-none-match", format!("\"{sha}\"")),
            )
            .await;
        assert_eq!(again.status, 304);
        let meta = app
            .get(&format!("/v1/dossiers/{id}/documents/{document}"))
            .await;
        assert_eq!(meta.status, 200);
        assert_eq!(meta.json(), made);
    }
    let list = app.get(&format!("/v1/dossiers/{id}/documents")).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["data"].as_array().unwrap().len(), files.len());
    assert_eq!(app.stored_keys().await.len(), files.len());
    for key in app.stored_keys().await {
        assert!(key.starts_with(&format!("dossiers/{id}/")), "{key}");
    }
}

#[tokio::test]
async fn other_content_is_refused_with_a_415_naming_file_and_leaves_nothing() {
    let app = spawn_app().await;
    let id = draft(&app).await;
    let plain_zip = zip_of(&[("readme.txt", b"bonjour")]);
    let not_office = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("_rels/.rels", b"<Relationships/>"),
        ("evil/payload.xml", b"<x/>"),
    ]);
    let refused: [(&str, &[u8]); 6] = [
        (
            "a Windows program",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF",
        ),
        (
            "a web page",
            b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        ),
        ("plain text", b"Contrat de cession"),
        ("a plain zip", &plain_zip),
        ("a zip with Office's first entries only", &not_office),
        ("nothing", b""),
    ];
    for (what, content) in refused {
        let reply = app
            .upload_with(
                &app.client,
                &id,
                &[
                    Part::Text("kind", "cession_contract"),
                    Part::File("file", Some(b"contrat.pdf"), "application/pdf", content),
                ],
            )
            .await;
        assert_eq!(
            reply.status,
            415,
            "{what}: {}",
            String::from_utf8_lossy(&reply.bytes)
        );
        assert_eq!(reply.json()["code"], "document_type_not_allowed", "{what}");
        assert_eq!(reply.error_fields(), ["file"], "{what}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
    }
    assert!(app.stored_keys().await.is_empty());
    assert_eq!(app.document_rows(), 0);
}

#[tokio::test]
async fn a_file_above_the_limit_is_a_413_and_leaves_nothing() {
    let app = spawn_app_with(|settings| settings.upload_limit_bytes = 1000).await;
    let id = draft(&app).await;
    let mut content = PDF.to_vec();
    content.resize(1000, b' ');
    created(&app.upload(&id, "budget", "budget.pdf", &content).await);
    content.push(b' ');
    let reply = app.upload(&id, "budget", "budget.pdf", &content).await;
    assert_eq!(
        reply.status,
        413,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(reply.json()["code"], "payload_too_large");
    // A huge body without a Content-Length is cut at the limit, not read to its end.
    let chunks = futures_util::stream::iter((0..4096).map(|i| {
        Ok::<_, std::io::Error>(if i == 0 {
            let mut head = format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n\r\n%PDF-1.4\n"
            )
            .into_bytes();
            head.resize(64 * 1024, b' ');
            head
        } else {
            vec![b' '; 64 * 1024]
        })
    }));
    let streamed = app
        .send(
            app.client
                .post(app.url(&format!("/v1/dossiers/{id}/documents")))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(reqwest::Body::wrap_stream(chunks)),
        )
        .await;
    assert_eq!(streamed.status, 413);
    // Only the first upload is kept.
    assert_eq!(app.stored_keys().await.len(), 1);
    assert_eq!(app.document_rows(), 1);
}

#[tokio::test]
async fn a_client_gone_mid_stream_leaves_nothing() {
    let app = spawn_app().await;
    let id = draft(&app).await;
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nbudget\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"budget.pdf\"\r\n\r\n"
    );
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(head.into_bytes()),
        Ok(PDF.to_vec()),
        Err(std::io::Error::other("the client went away")),
    ];
    let sent = app
        .client
        .post(app.url(&format!("/v1/dossiers/{id}/documents")))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    assert!(sent.is_err() || sent.is_ok_and(|r| !r.status().is_success()));
    // Whatever the server was doing with it is over once it answers the next request.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.get(&format!("/v1/dossiers/{id}/documents"))
            .await
            .status,
        200
    );
    assert!(app.stored_keys().await.is_empty());
    assert_eq!(app.document_rows(), 0);
}

#[tokio::test]
async fn client_names_are_sanitised_for_display_and_never_reach_the_storage() {
    let app = spawn_app().await;
    let id = draft(&app).await;
    let long = format!("{}.pdf", "n".repeat(300));
    let names: [(&[u8], &str); 5] = [
        (b"../../etc/passwd", "passwd"),
        // A backslash escapes the next character in a quoted `filename` (RFC 7230).
        (b"..\\..\\windows\\win.ini", "windowswin.ini"),
        ("facture\u{202E}fdp.exe".as_bytes(), "facturefdp.exe"),
        (long.as_bytes(), ""),
        (b"/", "document"),
    ];
    for (sent, kept) in names {
        let made = created(
            &app.upload_with(
                &app.client,
                &id,
                &[
                    Part::Text("kind", "other"),
                    Part::File("file", Some(sent), "application/pdf", PDF),
                ],
            )
            .await,
        );
        let name = made["file_name"].as_str().unwrap();
        if kept.is_empty() {
            assert_eq!(name.chars().count(), 120);
            assert!(name.ends_with(".pdf"));
        } else {
            assert_eq!(name, kept);
        }
    }
    // A NUL travels percent-encoded in `filename*`; one raw in a header is a bad body.
    let made = created(
        &app.upload_with(
            &app.client,
            &id,
            &[
                Part::Text("kind", "other"),
                Part::FileStar("file", "rib%00.pdf", PDF),
            ],
        )
        .await,
    );
    assert_eq!(made["file_name"], "rib.pdf");
    let raw_nul = app
        .upload_with(
            &app.client,
            &id,
            &[
                Part::Text("kind", "other"),
                Part::File("file", Some(b"rib\0.pdf"), "application/pdf", PDF),
            ],
        )
        .await;
    assert!(
        [201, 422].contains(&raw_nul.status),
        "{}",
        String::from_utf8_lossy(&raw_nul.bytes)
    );
    if raw_nul.status == 201 {
        assert_eq!(raw_nul.json()["file_name"], "rib.pdf");
    }
    // No file name at all is a document all the same.
    let unnamed = created(
        &app.upload_with(
            &app.client,
            &id,
            &[
                Part::Text("kind", "other"),
                Part::File("file", None, "application/pdf", PDF),
            ],
        )
        .await,
    );
    assert_eq!(unnamed["file_name"], "document");
    // Every object is under the dossier, named by the document's id.
    let list = app
        .get(&format!("/v1/dossiers/{id}/documents"))
        .await
        .json();
    let mut expected: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("dossiers/{id}/{}", d["id"].as_str().unwrap()))
        .collect();
    expected.sort();
    assert_eq!(app.stored_keys().await, expected);
}

#[tokio::test]
async fn bad_forms_name_their_fields() {
    let app = spawn_app().await;
    let id = draft(&app).await;
    let missing = app
        .upload_with(&app.client, &id, &[Part::Text("note", "x")])
        .await;
    assert_eq!(missing.status, 422);
    let mut fields = missing.error_fields();
    fields.sort();
    assert_eq!(fields, ["file", "kind", "note"]);
    let bad_kind = app
        .upload_with(
            &app.client,
            &id,
            &[
                Part::Text("kind", "passport\u{0}"),
                Part::File("file", Some(b"a.pdf"), "application/pdf", PDF),
            ],
        )
        .await;
    assert_eq!(bad_kind.status, 422);
    assert_eq!(bad_kind.error_fields(), ["kind"]);
    let huge_kind = "k".repeat(100_000);
    let reply = app
        .upload_with(
            &app.client,
            &id,
            &[
                Part::Text("kind", &huge_kind),
                Part::File("file", Some(b"a.pdf"), "application/pdf", PDF),
            ],
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["kind"]);
    let json = app
        .post_json(
            &format!("/v1/dossiers/{id}/documents"),
            &json!({"kind": "other"}),
        )
        .await;
    assert_eq!(json.status, 415);
    assert_eq!(json.json()["code"], "unsupported_media_type");
    let broken = app
        .send(
            app.client
                .post(app.url(&format!("/v1/dossiers/{id}/documents")))
                .header("content-type", "multipart/form-data; boundary=nowhere")
                .body("not a multipart body"),
        )
        .await;
    assert!([400, 422].contains(&broken.status), "{}", broken.status);
    assert_eq!(
        broken.header("content-type"),
        Some("application/problem+json")
    );
    assert!(app.stored_keys().await.is_empty());
    assert_eq!(app.document_rows(), 0);
}

#[tokio::test]
async fn documents_are_removed_only_while_the_applicant_edits_the_dossier() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let id = draft(&app).await;
    let first = created(&app.upload(&id, "budget", "budget.pdf", PDF).await);
    let second = created(&app.upload(&id, "other", "autre.png", PNG).await);
    let path = |d: &Value| format!("/v1/dossiers/{id}/documents/{}", d["id"].as_str().unwrap());

    let removed = app.send(app.client.delete(app.url(&path(&first)))).await;
    assert_eq!(removed.status, 204);
    assert_eq!(app.get(&path(&first)).await.status, 404);
    assert_eq!(
        app.get(&format!("{}/content", path(&first))).await.status,
        404
    );
    let again = app.send(app.client.delete(app.url(&path(&first)))).await;
    assert_eq!(again.status, 404);
    assert_eq!(
        app.stored_keys().await,
        [format!("dossiers/{id}/{}", second["id"].as_str().unwrap())]
    );
    // Staff instruct; they do not remove the applicant's documents.
    let by_staff = app.send(staff.delete(app.url(&path(&second)))).await;
    assert_eq!(by_staff.status, 403);

    // Submitted: neither upload nor removal, until changes are requested.
    let submitted = app
        .post_json(&format!("/v1/dossiers/{id}/submit"), &json!({}))
        .await;
    assert_eq!(
        submitted.status,
        200,
        "{}",
        String::from_utf8_lossy(&submitted.bytes)
    );
    let late = app.send(app.client.delete(app.url(&path(&second)))).await;
    assert_eq!(late.status, 409);
    assert_eq!(late.json()["code"], "dossier_not_editable");
    let late_upload = app.upload(&id, "other", "x.pdf", PDF).await;
    assert_eq!(late_upload.status, 409);
    // Staff still read and download them.
    let read = app
        .send(staff.get(app.url(&format!("{}/content", path(&second)))))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.bytes, PNG);

    let asked = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{id}/request-changes")))
                .json(&json!({"reason": "RIB manquant"})),
        )
        .await;
    assert_eq!(
        asked.status,
        200,
        "{}",
        String::from_utf8_lossy(&asked.bytes)
    );
    created(&app.upload(&id, "bank_details", "rib.pdf", PDF).await);
    let now_removed = app.send(app.client.delete(app.url(&path(&second)))).await;
    assert_eq!(now_removed.status, 204);

    // The history keeps every document, with when it came and went.
    let mut conn = app.pool.get().unwrap();
    let history = persistence::grants::documents::history(&mut conn, id.parse().unwrap()).unwrap();
    assert_eq!(history.len(), 3);
    assert!(history[0].deleted_at.is_some() && history[1].deleted_at.is_some());
    assert!(history[2].deleted_at.is_none());
    assert!(
        history
            .windows(2)
            .all(|w| w[0].uploaded_at <= w[1].uploaded_at)
    );
}

#[tokio::test]
async fn only_those_who_read_the_dossier_see_its_documents_and_only_filers_upload() {
    let app = spawn_app().await;
    let id = draft(&app).await;
    let doc = created(&app.upload(&id, "budget", "budget.pdf", PDF).await);
    let doc_path = format!(
        "/v1/dossiers/{id}/documents/{}",
        doc["id"].as_str().unwrap()
    );
    let structure = app.get(&format!("/v1/dossiers/{id}")).await.json()["applicant_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another structure's member: the dossier does not exist for it.
    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    for path in [
        format!("/v1/dossiers/{id}/documents"),
        doc_path.clone(),
        format!("{doc_path}/content"),
    ] {
        assert_eq!(
            app.send(stranger.get(app.url(&path))).await.status,
            404,
            "{path}"
        );
    }
    assert_eq!(
        app.upload_with(&stranger, &id, &[Part::Text("kind", "other")])
            .await
            .status,
        404
    );
    assert_eq!(
        app.send(stranger.delete(app.url(&doc_path))).await.status,
        404
    );
    // A document id of another dossier is not found under this one.
    let other = draft(&app).await;
    let elsewhere = format!(
        "/v1/dossiers/{other}/documents/{}",
        doc["id"].as_str().unwrap()
    );
    assert_eq!(app.get(&elsewhere).await.status, 404);
    assert_eq!(app.get(&format!("{elsewhere}/content")).await.status, 404);

    // A viewer of the applicant downloads but does not upload or remove.
    let viewer_token = app.sign_up("viewer@example.org").await;
    let viewer = client_with(Some(&viewer_token));
    app.add_member(
        &app.client,
        &structure,
        &viewer,
        "viewer@example.org",
        "viewer",
    )
    .await;
    let read = app
        .send(viewer.get(app.url(&format!("{doc_path}/content"))))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.bytes, PDF);
    let refused = app
        .upload_with(
            &viewer,
            &id,
            &[
                Part::Text("kind", "other"),
                Part::File("file", Some(b"a.pdf"), "application/pdf", PDF),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    // Refused before its body is read: even a bad body is a 403.
    let refused = app
        .upload_with(&viewer, &id, &[Part::Text("nothing", "")])
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        app.send(viewer.delete(app.url(&doc_path))).await.status,
        403
    );
    let anonymous = app
        .send(app.anonymous.get(app.url(&format!("{doc_path}/content"))))
        .await;
    assert_eq!(anonymous.status, 401);

    // An API client of the applicant with `dossiers:write` files documents; with `read`,
    // it reads them.
    let filer = partner(&app, &app.client, &structure, &["dossiers:write"]).await;
    created(
        &app.upload_with(
            &filer,
            &id,
            &[
                Part::Text("kind", "other"),
                Part::File("file", Some(b"b.png"), "image/png", PNG),
            ],
        )
        .await,
    );
    let reader = partner(&app, &app.client, &structure, &["read"]).await;
    let listed = app
        .send(reader.get(app.url(&format!("/v1/dossiers/{id}/documents"))))
        .await;
    assert_eq!(listed.json()["data"].as_array().unwrap().len(), 2);
    assert_eq!(app.stored_keys().await.len(), 2);
}

#[tokio::test]
async fn concurrent_uploads_are_all_kept_once() {
    let app = spawn_app().await;
    let id = draft(&app).await;
    let replies = futures_util::future::join_all((0..12).map(|i| {
        let app = &app;
        let id = &id;
        async move {
            let mut content = PDF.to_vec();
            content.extend_from_slice(format!("% {i}\n").as_bytes());
            app.upload(id, "other", &format!("piece-{i}.pdf"), &content)
                .await
        }
    }))
    .await;
    for reply in &replies {
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.bytes)
        );
    }
    let list = app
        .get(&format!("/v1/dossiers/{id}/documents"))
        .await
        .json();
    assert_eq!(list["data"].as_array().unwrap().len(), 12);
    assert_eq!(app.stored_keys().await.len(), 12);
    assert_eq!(app.document_rows(), 12);

    // The same Idempotency-Key sent at once: one document, the same answer for all.
    let replies = futures_util::future::join_all((0..6).map(|_| {
        app.send(
            app.client
                .post(app.url(&format!("/v1/dossiers/{id}/documents")))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .header("idempotency-key", "rib-upload-1")
                .body(multipart(&[
                    Part::Text("kind", "bank_details"),
                    Part::File("file", Some(b"rib.pdf"), "application/pdf", PDF),
                ])),
        )
    }))
    .await;
    let ids: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.bytes));
            r.json()["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(app.document_rows(), 13);
    assert_eq!(app.stored_keys().await.len(), 13);
}

#[tokio::test]
async fn concurrent_removals_of_one_document_remove_it_once() {
    let app = spawn_app().await;
    let id = draft(&app).await;
    let doc = created(&app.upload(&id, "budget", "budget.pdf", PDF).await);
    let path = format!(
        "/v1/dossiers/{id}/documents/{}",
        doc["id"].as_str().unwrap()
    );
    let replies =
        futures_util::future::join_all((0..8).map(|_| app.send(app.client.delete(app.url(&path)))))
            .await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [204, 404, 404, 404, 404, 404, 404, 404]);
    assert!(app.stored_keys().await.is_empty());
}

#[tokio::test]
async fn required_documents_are_checked_at_submission() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    // The Occitanie scheme's documents (a cession contract and bank details), without
    // its yearly caps.
    let mut body = programme("PIECES");
    body["rules"]["amounts"]["yearly_caps"] = json!([]);
    let made = app.create_with(&staff, "/v1/programmes", &body).await;
    let call = app
        .create_with(
            &staff,
            "/v1/calls",
            &open_call(made["id"].as_str().unwrap(), 10_000_000),
        )
        .await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let id = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(
                call["id"].as_str().unwrap(),
                &structure,
                &[&performance],
                100_000,
            ),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing = |check: &Value| -> Vec<String> {
        check["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["code"] == "document_missing")
            .map(|p| p.to_string())
            .collect()
    };
    let check = app
        .post_json(&format!("/v1/dossiers/{id}/check"), &json!({}))
        .await
        .json();
    assert_eq!(missing(&check).len(), 2, "{check}");
    created(
        &app.upload(&id, "cession_contract", "contrat.pdf", PDF)
            .await,
    );
    let check = app
        .post_json(&format!("/v1/dossiers/{id}/check"), &json!({}))
        .await
        .json();
    assert_eq!(missing(&check).len(), 1, "{check}");
    let refused = app
        .post_json(&format!("/v1/dossiers/{id}/submit"), &json!({}))
        .await;
    assert_eq!(refused.status, 422);
    let rib = created(&app.upload(&id, "bank_details", "rib.png", PNG).await);
    let check = app
        .post_json(&format!("/v1/dossiers/{id}/check"), &json!({}))
        .await
        .json();
    assert!(missing(&check).is_empty(), "{check}");
    assert_eq!(check["submittable"], true, "{check}");
    // Removed, it is missing again.
    let path = format!(
        "/v1/dossiers/{id}/documents/{}",
        rib["id"].as_str().unwrap()
    );
    assert_eq!(
        app.send(app.client.delete(app.url(&path))).await.status,
        204
    );
    let check = app
        .post_json(&format!("/v1/dossiers/{id}/check"), &json!({}))
        .await
        .json();
    assert_eq!(missing(&check).len(), 1, "{check}");
    created(&app.upload(&id, "bank_details", "rib.png", PNG).await);
    let submitted = app
        .post_json(&format!("/v1/dossiers/{id}/submit"), &json!({}))
        .await;
    assert_eq!(
        submitted.status,
        200,
        "{}",
        String::from_utf8_lossy(&submitted.bytes)
    );
}

#[tokio::test]
async fn orphan_contents_are_swept_and_live_ones_kept() {
    let app = spawn_app().await;
    let id = draft(&app).await;
    let kept = created(&app.upload(&id, "budget", "budget.pdf", PDF).await);
    // What a crash between the object and its row leaves behind.
    let orphan = format!("dossiers/{id}/{}", uuid::Uuid::now_v7());
    app.storage
        .put(&orphan, bytes_of(PDF))
        .await
        .expect("orphan stored");
    assert_eq!(app.stored_keys().await.len(), 2);
    // Young objects are left alone: an upload may be between its object and its row.
    let swept = app
        .storage
        .sweep(&app.pool, std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(swept, 0);
    let swept = app
        .storage
        .sweep(&app.pool, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(swept, 1);
    assert_eq!(
        app.stored_keys().await,
        [format!("dossiers/{id}/{}", kept["id"].as_str().unwrap())]
    );
}

fn bytes_of(content: &[u8]) -> actix_web::web::Bytes {
    actix_web::web::Bytes::copy_from_slice(content)
}
