//! The generic webhook's signature.
//!
//! Signed like Stripe and Twenty sign theirs: an HMAC-SHA256 over the timestamp and the raw body,
//! with a replay window, so a captured request cannot be replayed later and a changed body is
//! refused.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use super::within_window;
use crate::Error;

type HmacSha256 = Hmac<Sha256>;

/// The header carrying the signing time, in seconds since the Unix epoch.
pub const GENERIC_TIMESTAMP_HEADER: &str = "x-pipeline-guard-timestamp";
/// The header carrying `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
pub const GENERIC_SIGNATURE_HEADER: &str = "x-pipeline-guard-signature";

/// Sign a generic webhook body: the value of [`GENERIC_SIGNATURE_HEADER`] for `timestamp`.
pub fn sign_generic(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(generic_mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Verify a generic webhook's signature headers against its body at time `now`.
pub fn verify_generic(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(), Error> {
    let timestamp = timestamp.ok_or(Error::MissingSignature {
        header: GENERIC_TIMESTAMP_HEADER,
    })?;
    let signature = signature.ok_or(Error::MissingSignature {
        header: GENERIC_SIGNATURE_HEADER,
    })?;
    let timestamp: i64 = timestamp.trim().parse().map_err(|_| Error::BadSignature)?;
    within_window(timestamp, now)?;
    let given = signature
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Error::BadSignature)?;
    // `verify_slice` compares in constant time.
    generic_mac(secret, timestamp, body)
        .verify_slice(&given)
        .map_err(|_| Error::BadSignature)
}

fn generic_mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key size");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::REPLAY_WINDOW_SECONDS;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

    #[test]
    fn a_signed_body_verifies_and_a_tampered_one_does_not() {
        let ts = NOW.unix_timestamp();
        let sig = sign_generic("s3cret", ts, b"{\"a\":1}");
        let ts_text = ts.to_string();
        assert_eq!(
            verify_generic("s3cret", Some(&ts_text), Some(&sig), b"{\"a\":1}", NOW),
            Ok(())
        );
        assert_eq!(
            verify_generic("s3cret", Some(&ts_text), Some(&sig), b"{\"a\":2}", NOW),
            Err(Error::BadSignature)
        );
        assert_eq!(
            verify_generic("other", Some(&ts_text), Some(&sig), b"{\"a\":1}", NOW),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn known_vector() {
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            sign_generic("secret", 1_700_000_000, b"{}"),
            "sha256=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }

    #[test]
    fn old_timestamps_and_missing_headers_are_refused() {
        let old = (NOW.unix_timestamp() - 301).to_string();
        let sig = sign_generic("s", NOW.unix_timestamp() - 301, b"{}");
        assert!(matches!(
            verify_generic("s", Some(&old), Some(&sig), b"{}", NOW),
            Err(Error::StaleTimestamp {
                skew_seconds: 301,
                window_seconds: REPLAY_WINDOW_SECONDS,
                ..
            })
        ));
        assert_eq!(
            verify_generic("s", None, Some(&sig), b"{}", NOW),
            Err(Error::MissingSignature {
                header: GENERIC_TIMESTAMP_HEADER
            })
        );
    }
}
