//! The generic webhook's signature.
//!
//! An HMAC-SHA256 keyed with the `generic_webhook_secret`, over a signing string that binds the
//! request's time, method, path and body, its four parts joined by line feeds (`\n`):
//!
//! ```text
//! <timestamp>\n<METHOD>\n<path>\n<raw body>
//! ```
//!
//! - `timestamp`: the [`GENERIC_TIMESTAMP_HEADER`] value, seconds since the Unix epoch, in
//!   decimal (`1763726400`);
//! - `METHOD`: the HTTP method, upper case (`POST`);
//! - `path`: the request's path exactly as sent (percent-escapes kept), function route included,
//!   followed by `?` and the query when the URL has one: `/score-lead/generic`;
//! - the body's raw bytes, as sent.
//!
//! [`GENERIC_SIGNATURE_HEADER`] carries `sha256=<lower-case hex of the HMAC>`.
//!
//! What each part protects: a changed body is refused; a request signed for one function (or
//! method) is refused by the others, so a captured request cannot be replayed to another
//! route; the timestamp bounds a replay to the same route to the replay window, inside which the
//! ledger answers a copy as a duplicate. A method or a path as sent holds no line feed, so two
//! different requests never share a signing string.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::Error;
use crate::signature::within_window;

type HmacSha256 = Hmac<Sha256>;

/// The header carrying the signing time, in seconds since the Unix epoch.
pub const GENERIC_TIMESTAMP_HEADER: &str = "x-pipeline-guard-timestamp";
/// The header carrying `sha256=<hex HMAC-SHA256(secret, signing string)>` (see the module doc).
pub const GENERIC_SIGNATURE_HEADER: &str = "x-pipeline-guard-signature";

/// What a generic signature covers besides its time: the request's method, path and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedRequest<'a> {
    /// The HTTP method (`POST`).
    pub method: &'a str,
    /// The path as sent, with `?query` when there is one: [`path_of`] a URL.
    pub path: &'a str,
    /// The raw body.
    pub body: &'a [u8],
}

/// The path, with its query, of an absolute URL (`https://host/score-lead/generic?x=1` →
/// `/score-lead/generic?x=1`): what the generic signature covers. A fragment is no part of it.
pub fn path_of(url: &str) -> &str {
    let url = url.split_once('#').map_or(url, |(url, _)| url);
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    match after_scheme.find(['/', '?']) {
        Some(at) if after_scheme[at..].starts_with('/') => &after_scheme[at..],
        // `https://host`: the path is `/`, which the URL leaves out.
        _ => "/",
    }
}

/// Sign a generic webhook request: the value of [`GENERIC_SIGNATURE_HEADER`] for `timestamp`.
pub fn sign_generic(secret: &str, timestamp: i64, request: SignedRequest<'_>) -> String {
    format!(
        "sha256={}",
        hex::encode(
            generic_mac(secret, &timestamp.to_string(), request)
                .finalize()
                .into_bytes()
        )
    )
}

/// Verify a generic webhook's signature headers against the request at time `now`.
pub fn verify_generic(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    request: SignedRequest<'_>,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let timestamp = timestamp.ok_or(Error::MissingSignature {
        header: GENERIC_TIMESTAMP_HEADER,
    })?;
    let signature = signature.ok_or(Error::MissingSignature {
        header: GENERIC_SIGNATURE_HEADER,
    })?;
    // The signature covers the header's text as sent: `+1763726400` or `01763726400` is not the
    // `1763726400` that was signed, even though it reads as the same time.
    let timestamp = timestamp.trim();
    let seconds: i64 = timestamp.parse().map_err(|_| Error::BadSignature)?;
    within_window(seconds, now)?;
    let given = signature
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Error::BadSignature)?;
    // `verify_slice` compares in constant time.
    generic_mac(secret, timestamp, request)
        .verify_slice(&given)
        .map_err(|_| Error::BadSignature)
}

fn generic_mac(secret: &str, timestamp: &str, request: SignedRequest<'_>) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key size");
    for part in [
        timestamp.as_bytes(),
        request.method.as_bytes(),
        request.path.as_bytes(),
    ] {
        mac.update(part);
        mac.update(b"\n");
    }
    mac.update(request.body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::REPLAY_WINDOW_SECONDS;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

    fn post<'a>(path: &'a str, body: &'a [u8]) -> SignedRequest<'a> {
        SignedRequest {
            method: "POST",
            path,
            body,
        }
    }

    fn verify(signature: &str, request: SignedRequest<'_>) -> Result<(), Error> {
        let ts = NOW.unix_timestamp().to_string();
        verify_generic("s3cret", Some(&ts), Some(signature), request, NOW)
    }

    #[test]
    fn a_timestamp_header_written_otherwise_than_signed_is_refused() {
        let ts = NOW.unix_timestamp();
        let signed = post("/score-lead/generic", b"{}");
        let sig = sign_generic("s3cret", ts, signed);
        for sent in [format!("+{ts}"), format!("0{ts}"), format!("{ts}.0")] {
            assert_eq!(
                verify_generic("s3cret", Some(&sent), Some(&sig), signed, NOW),
                Err(Error::BadSignature),
                "{sent}"
            );
        }
        let sent = format!(" {ts} ");
        assert_eq!(
            verify_generic("s3cret", Some(&sent), Some(&sig), signed, NOW),
            Ok(())
        );
    }

    #[test]
    fn a_signed_request_verifies_and_a_tampered_body_or_other_secret_does_not() {
        let ts = NOW.unix_timestamp();
        let signed = post("/score-lead/generic", b"{\"a\":1}");
        let sig = sign_generic("s3cret", ts, signed);
        assert_eq!(verify(&sig, signed), Ok(()));
        assert_eq!(
            verify(&sig, post("/score-lead/generic", b"{\"a\":2}")),
            Err(Error::BadSignature)
        );
        assert_eq!(
            verify(&sign_generic("other", ts, signed), signed),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn a_request_signed_for_one_route_or_method_is_refused_on_another() {
        let body = b"{\"a\":1}";
        let sig = sign_generic(
            "s3cret",
            NOW.unix_timestamp(),
            post("/score-lead/generic", body),
        );
        for other in [
            post("/gate-handoff/generic", body),
            post("/flag-stale-deals/generic", body),
            post("/score-lead/generic?replayed=1", body),
            post("/score-lead/generic/", body),
            SignedRequest {
                method: "PUT",
                ..post("/score-lead/generic", body)
            },
        ] {
            assert_eq!(verify(&sig, other), Err(Error::BadSignature), "{other:?}");
        }
    }

    #[test]
    fn known_vector() {
        // printf '1700000000\nPOST\n/score-lead/generic\n{}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            sign_generic("secret", 1_700_000_000, post("/score-lead/generic", b"{}")),
            "sha256=8e0321e82e1a251e23cc9e5cfe9f836be87c0755ea5d7310eb401fd856b65d8b"
        );
    }

    #[test]
    fn the_path_is_taken_from_the_url_as_sent() {
        for (url, path) in [
            (
                "https://hooks.example.com/score-lead/generic",
                "/score-lead/generic",
            ),
            (
                "http://127.0.0.1:3000/gate-handoff/generic?a=%2F#frag",
                "/gate-handoff/generic?a=%2F",
            ),
            ("https://hooks.example.com", "/"),
            ("/score-lead/generic", "/score-lead/generic"),
        ] {
            assert_eq!(path_of(url), path, "{url}");
        }
    }

    #[test]
    fn old_timestamps_and_missing_headers_are_refused() {
        let request = post("/score-lead/generic", b"{}");
        let old = (NOW.unix_timestamp() - 301).to_string();
        let sig = sign_generic("s", NOW.unix_timestamp() - 301, request);
        assert!(matches!(
            verify_generic("s", Some(&old), Some(&sig), request, NOW),
            Err(Error::StaleTimestamp {
                skew_seconds: 301,
                window_seconds: REPLAY_WINDOW_SECONDS,
                ..
            })
        ));
        assert_eq!(
            verify_generic("s", None, Some(&sig), request, NOW),
            Err(Error::MissingSignature {
                header: GENERIC_TIMESTAMP_HEADER
            })
        );
    }
}
