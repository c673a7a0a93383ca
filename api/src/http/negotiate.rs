//! Content negotiation (RFC 9110 §12.5.1): which of the representations an operation
//! offers the client's `Accept` header prefers.

use actix_web::HttpRequest;
use actix_web::http::header;

pub const JSON: &str = "application/json";
/// JSON-LD (schema.org vocabulary).
pub const JSON_LD: &str = "application/ld+json";

/// The index in `offered` (the server's order of preference) of the representation the
/// client prefers: the highest quality wins, the most specific range giving each
/// representation its quality (`application/ld+json;q=0.5, */*` rates JSON-LD 0.5), and
/// ties go to the server's order. With no `Accept` header, or one that accepts none of
/// them, the first: this API answers its default rather than a 406.
pub fn preferred(req: &HttpRequest, offered: &[&str]) -> usize {
    let ranges: Vec<(String, u16)> = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(range)
        .collect();
    if ranges.is_empty() {
        return 0;
    }
    let mut best = (0, 0);
    for (index, media) in offered.iter().enumerate() {
        let quality = quality(&ranges, media);
        if quality > best.1 {
            best = (index, quality);
        }
    }
    best.0
}

/// A media range and its quality in thousandths; `None` for what is not one.
fn range(item: &str) -> Option<(String, u16)> {
    let mut parts = item.split(';').map(str::trim);
    let media = parts.next()?.to_ascii_lowercase();
    let (kind, subtype) = media.split_once('/')?;
    if kind.is_empty() || subtype.is_empty() {
        return None;
    }
    let mut quality = 1000;
    for parameter in parts {
        if let Some((name, value)) = parameter.split_once('=')
            && name.trim().eq_ignore_ascii_case("q")
        {
            let value: f32 = value.trim().parse().ok()?;
            if !(0.0..=1.0).contains(&value) {
                return None;
            }
            // Three decimals at most (RFC 9110 §12.4.2).
            quality = (value * 1000.0).round() as u16;
        }
    }
    Some((media, quality))
}

/// The quality `ranges` give `media`: that of the most specific range matching it.
fn quality(ranges: &[(String, u16)], media: &str) -> u16 {
    let kind = media.split('/').next().unwrap_or_default();
    let specificity = |range: &str| {
        if range == media {
            Some(2)
        } else if range.strip_suffix("/*") == Some(kind) {
            Some(1)
        } else if range == "*/*" {
            Some(0)
        } else {
            None
        }
    };
    ranges
        .iter()
        .filter_map(|(range, quality)| specificity(range).map(|s| (s, *quality)))
        .max_by_key(|(specificity, _)| *specificity)
        .map_or(0, |(_, quality)| quality)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn choice(accept: Option<&str>) -> usize {
        let mut req = TestRequest::default();
        if let Some(accept) = accept {
            req = req.insert_header((header::ACCEPT, accept));
        }
        preferred(&req.to_http_request(), &[JSON, JSON_LD])
    }

    #[test]
    fn the_client_preference_picks_the_representation() {
        for (accept, expected) in [
            (None, 0),
            (Some("*/*"), 0),
            (Some("application/json"), 0),
            (Some("application/ld+json"), 1),
            (Some("Application/LD+JSON; charset=utf-8"), 1),
            (Some("application/json;q=0.5, application/ld+json"), 1),
            (Some("application/ld+json;q=0.5, */*"), 0),
            (Some("application/ld+json;q=0.9, application/*;q=0.5"), 1),
            (Some("application/ld+json;q=0"), 0),
            (Some("text/html"), 0),
            (Some("text/html, application/ld+json;q=0.1"), 1),
            (Some("garbage, application/ld+json;q=2"), 0),
            (Some(""), 0),
        ] {
            assert_eq!(choice(accept), expected, "{accept:?}");
        }
    }
}
