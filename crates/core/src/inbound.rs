//! Request-level checks made before any adapter reads a body.

use crate::Error;

/// The largest webhook body accepted, in bytes. HubSpot's 100-event batches stay well below it.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// How long a sender has to send the whole body: [`BODY_LIMIT`] arrives well within it on any
/// working link, and a sender trickling bytes cannot hold an instance for longer.
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);

/// A request as an adapter sees it: already read, within [`BODY_LIMIT`].
#[derive(Debug, Clone, Copy)]
pub struct InboundRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The URL signatures are checked against: `public_base_url` and the path Spin received, or
    /// Spin's own `spin-full-url` (never a value the client sent).
    pub url: &'a str,
    /// The request headers.
    pub headers: &'a http::HeaderMap,
    /// The raw body.
    pub body: &'a [u8],
}

impl InboundRequest<'_> {
    /// A header's value as text, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter of the request's URL, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let (_, query) = self.url.split_once('?')?;
        let query = query.split_once('#').map_or(query, |(query, _)| query);
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// Refuse the request unless its content type is `expected` (parameters such as `charset`
    /// are allowed).
    pub fn require_content_type(&self, expected: &'static str) -> Result<(), Error> {
        let found = self.header("content-type");
        if content_type_is(found, expected) {
            Ok(())
        } else {
            Err(Error::UnsupportedContentType {
                found: found.unwrap_or("").to_owned(),
                expected,
            })
        }
    }
}

/// Whether a `Content-Type` value is `expected`, parameters (`charset`) aside.
pub fn content_type_is(content_type: Option<&str>, expected: &str) -> bool {
    content_type
        .and_then(|t| t.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &http::HeaderMap) -> InboundRequest<'_> {
        InboundRequest {
            method: "POST",
            url: "http://x/",
            headers,
            body: b"{}",
        }
    }

    #[test]
    fn query_parameters_are_decoded() {
        let headers = http::HeaderMap::new();
        let request = InboundRequest {
            url: "https://x.example/score-lead/hubspot?object=deal&token=a%2Bb",
            ..request(&headers)
        };
        assert_eq!(request.query("token").as_deref(), Some("a+b"));
        assert_eq!(request.query("object").as_deref(), Some("deal"));
        assert_eq!(request.query("other"), None);
    }

    #[test]
    fn content_type_parameters_are_allowed_and_others_refused() {
        let mut json = http::HeaderMap::new();
        json.insert(
            "content-type",
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(
            request(&json)
                .require_content_type("application/json")
                .is_ok()
        );
        let mut plain = http::HeaderMap::new();
        plain.insert("content-type", "text/plain".parse().unwrap());
        let err = request(&plain)
            .require_content_type("application/json")
            .unwrap_err();
        assert_eq!(err.status(), 415);
        assert!(err.to_string().contains("\"text/plain\""), "{err}");
    }
}
