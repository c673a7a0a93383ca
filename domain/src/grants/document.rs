//! Documents (pièces justificatives) attached to a dossier: what their content is, and
//! the name they are shown under.
//!
//! A document's format is decided by its content (the caller that reads the bytes says
//! which of these it found); the name a client sends is kept for display only, made
//! safe here, and never used to find the file.

use super::rules::DocumentKind;
use crate::{DocumentId, DossierId, FieldProblem};
use chrono::{DateTime, Utc};

string_enum!(
    /// The formats a document may have, decided by its content: PDF, PNG, JPEG,
    /// OpenDocument (text, spreadsheet, presentation) and Office Open XML (Word, Excel,
    /// PowerPoint).
    DocumentFormat {
        Pdf = "pdf",
        Png = "png",
        Jpeg = "jpeg",
        Odt = "odt",
        Ods = "ods",
        Odp = "odp",
        Docx = "docx",
        Xlsx = "xlsx",
        Pptx = "pptx",
    }
);

impl DocumentFormat {
    /// The media type a download is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Self::Odp => "application/vnd.oasis.opendocument.presentation",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
        }
    }
}

/// Longest file name kept, in characters (most file systems stop at 255 bytes).
pub const FILE_NAME_MAX_CHARS: usize = 120;

/// A file name made safe to show and to put in a `Content-Disposition`: no path (only
/// what follows the last `/` or `\`), no control, format (bidirectional overrides,
/// zero-width) or NUL characters, none of the names or characters Windows reserves, at
/// most [`FILE_NAME_MAX_CHARS`] characters with the extension kept, and never empty
/// (`document` then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFileName(String);

impl DocumentFileName {
    pub fn sanitize(sent: &str) -> Self {
        let last = sent.rsplit(['/', '\\']).next().unwrap_or_default();
        let visible: String = last
            .chars()
            .filter(|c| !c.is_control() && !is_invisible(*c))
            .collect();
        let options = sanitize_filename::Options {
            windows: true,
            truncate: false,
            replacement: "_",
        };
        // Leading and trailing dots go first: `..` is no name (the crate would make `_`
        // of it), and a name ending in a dot is not one Windows keeps.
        let trimmed = visible.trim_matches(|c: char| c == '.' || c.is_whitespace());
        let cleaned = sanitize_filename::sanitize_with_options(trimmed, options);
        let cleaned = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
        let bounded = bound(cleaned, FILE_NAME_MAX_CHARS);
        if bounded.is_empty() {
            Self("document".into())
        } else {
            Self(bounded)
        }
    }

    /// A stored name, if it keeps what every sanitized name keeps (no path, no control or
    /// invisible character, not empty, not too long): a later change of the rules does
    /// not make earlier names unreadable.
    pub fn stored(name: String) -> Option<Self> {
        let safe = !name.is_empty()
            && name.chars().count() <= FILE_NAME_MAX_CHARS
            && !name
                .chars()
                .any(|c| c == '/' || c == '\\' || c.is_control() || is_invisible(c));
        safe.then_some(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DocumentFileName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters that change how a name reads without showing: bidirectional embeddings,
/// overrides and isolates (an RTL override turns `gpj.exe` into `exe.jpg` on screen),
/// zero-width characters and the byte order mark.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
    )
}

/// At most `max` characters, the extension (up to 10 characters after the last dot)
/// kept at the end.
fn bound(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_owned();
    }
    let extension = name
        .rfind('.')
        .map(|dot| &name[dot..])
        .filter(|ext| ext.chars().count() <= 11)
        .unwrap_or("");
    let keep = max - extension.chars().count();
    let stem: String = name.chars().take(keep).collect();
    format!("{}{extension}", stem.trim_end())
}

/// A document attached to a dossier. `deleted_at` is set when the applicant removed
/// it: the row stays for the dossier's history, the file goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: DocumentId,
    pub dossier_id: DossierId,
    pub kind: DocumentKind,
    pub file_name: DocumentFileName,
    pub format: DocumentFormat,
    pub size_bytes: i64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// Where the content is stored: made by the server, never from what a client sent.
    pub storage_key: String,
    /// `account` or `client`, and its id.
    pub uploaded_by_kind: String,
    pub uploaded_by_id: Option<String>,
    pub uploaded_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Document {
    /// The storage key of a document: the dossier's folder and the document's own id.
    pub fn storage_key_for(dossier: DossierId, document: DocumentId) -> String {
        format!("dossiers/{dossier}/{document}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(sent: &str) -> String {
        DocumentFileName::sanitize(sent).as_str().to_owned()
    }

    #[test]
    fn a_plain_name_is_kept() {
        assert_eq!(
            clean("Contrat de cession 2027.pdf"),
            "Contrat de cession 2027.pdf"
        );
        assert_eq!(
            clean("Relevé d'identité bancaire.png"),
            "Relevé d'identité bancaire.png"
        );
    }

    #[test]
    fn paths_are_cut_to_their_last_part() {
        assert_eq!(clean("../../etc/passwd"), "passwd");
        assert_eq!(clean("..\\..\\windows\\system.ini"), "system.ini");
        assert_eq!(clean("/"), "document");
        assert_eq!(clean(".."), "document");
        assert_eq!(clean("..."), "document");
        assert_eq!(clean(""), "document");
    }

    #[test]
    fn control_invisible_and_reserved_characters_go() {
        assert_eq!(clean("rib\0.pdf"), "rib.pdf");
        assert_eq!(clean("fac\u{202E}fdp.exe"), "facfdp.exe");
        assert_eq!(clean("a\u{200B}b\u{FEFF}.pdf"), "ab.pdf");
        assert_eq!(clean("a<b>c:d\"e|f?g*.pdf"), "a_b_c_d_e_f_g_.pdf");
        assert_eq!(clean("CON"), "_");
        assert_eq!(clean("line\nbreak.pdf"), "linebreak.pdf");
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.pdf", "x".repeat(300));
        let kept = clean(&long);
        assert_eq!(kept.chars().count(), FILE_NAME_MAX_CHARS);
        assert!(kept.ends_with("xx.pdf"));
        let accented = "é".repeat(400);
        assert_eq!(clean(&accented).chars().count(), FILE_NAME_MAX_CHARS);
    }

    #[test]
    fn a_sanitized_name_is_stable() {
        for sent in [
            "../../etc/passwd",
            "rib\0.pdf",
            "a<b>.pdf",
            &"y".repeat(500),
        ] {
            let once = clean(sent);
            assert_eq!(clean(&once), once, "{sent:?}");
            assert!(DocumentFileName::stored(once).is_some());
        }
        assert!(DocumentFileName::stored("../x".into()).is_none());
    }

    #[test]
    fn every_format_has_a_media_type() {
        for format in DocumentFormat::ALL {
            assert!(format.media_type().contains('/'));
        }
    }
}
