//! HubSpot's request signatures, and what each protects.
//!
//! | version | header | covers | a captured request can be |
//! | --- | --- | --- | --- |
//! | v1 | `X-HubSpot-Signature` (`X-HubSpot-Signature-Version: v1`) | hex(SHA-256(client secret + body)): the body | replayed at any time, to any URL |
//! | v2 | same, `v2` | hex(SHA-256(secret + method + URL + body)): also the method and the URL | replayed at any time, to the same URL only |
//! | v3 | `X-HubSpot-Signature-v3` + `X-HubSpot-Request-Timestamp` (ms) | base64(HMAC-SHA256(secret, method + URI + body + timestamp)): also the time | replayed to the same URL within 5 minutes ([`crate::signature::REPLAY_WINDOW_SECONDS`]) only |
//!
//! v3's URI is the full URL HubSpot called with a fixed set of escapes decoded ([`v3_uri`]).
//! HubSpot signs its requests with v3, and adds v1 (Webhooks API) or v2 (workflow actions, CRM
//! cards) beside it for older receivers. Which version is accepted where is the adapter's policy
//! ([`crate::crm::hubspot`]): v3 for the Webhooks API, v1 and v2 only for workflow actions
//! when enabled, where the ledger answers a replayed body as a duplicate.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::Error;
use crate::signature::within_window;

/// The v3 signature header.
pub const SIGNATURE_V3_HEADER: &str = "x-hubspot-signature-v3";
/// The v1/v2 signature header.
pub const SIGNATURE_HEADER: &str = "x-hubspot-signature";
/// Which scheme `x-hubspot-signature` uses (`v1`, `v2`).
pub const SIGNATURE_VERSION_HEADER: &str = "x-hubspot-signature-version";
/// The v3 signing time, in milliseconds since the epoch.
pub const TIMESTAMP_HEADER: &str = "x-hubspot-request-timestamp";

/// The escapes HubSpot decodes in the URI before signing it (v3).
const DECODED_ESCAPES: &[(&str, &str)] = &[
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
];

/// The URI as HubSpot signs it in v3: the given escapes decoded, every other one kept.
pub fn v3_uri(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        match DECODED_ESCAPES
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(escape))
        {
            Some((_, decoded)) => out.push_str(decoded),
            None => out.push_str(escape),
        }
        rest = &rest[at + escape.len()..];
    }
    out.push_str(rest);
    out
}

fn v3_mac(secret: &str, method: &str, url: &str, body: &[u8], timestamp_ms: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key size");
    mac.update(method.as_bytes());
    mac.update(v3_uri(url).as_bytes());
    mac.update(body);
    mac.update(timestamp_ms.as_bytes());
    mac
}

/// The v3 signature of a request.
pub fn sign_v3(secret: &str, method: &str, url: &str, body: &[u8], timestamp_ms: &str) -> String {
    STANDARD.encode(
        v3_mac(secret, method, url, body, timestamp_ms)
            .finalize()
            .into_bytes(),
    )
}

/// Verify a v3 signature at time `now`.
pub fn verify_v3(
    secret: &str,
    method: &str,
    url: &str,
    body: &[u8],
    timestamp_ms: Option<&str>,
    signature: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let signature = signature.ok_or(Error::MissingSignature {
        header: SIGNATURE_V3_HEADER,
    })?;
    let timestamp_ms = timestamp_ms.ok_or(Error::MissingSignature {
        header: TIMESTAMP_HEADER,
    })?;
    let millis: i64 = timestamp_ms
        .trim()
        .parse()
        .map_err(|_| Error::BadSignature)?;
    within_window(millis.div_euclid(1000), now)?;
    let given = STANDARD
        .decode(signature.trim())
        .map_err(|_| Error::BadSignature)?;
    // `verify_slice` compares in constant time.
    v3_mac(secret, method, url, body, timestamp_ms.trim())
        .verify_slice(&given)
        .map_err(|_| Error::BadSignature)
}

/// The v1 signature of a body.
pub fn sign_v1(secret: &str, body: &[u8]) -> String {
    hex::encode(
        Sha256::new()
            .chain_update(secret)
            .chain_update(body)
            .finalize(),
    )
}

/// The v2 signature of a request.
pub fn sign_v2(secret: &str, method: &str, url: &str, body: &[u8]) -> String {
    hex::encode(
        Sha256::new()
            .chain_update(secret)
            .chain_update(method)
            .chain_update(url)
            .chain_update(body)
            .finalize(),
    )
}

/// The older signature versions, which carry no timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyVersion {
    /// The body alone.
    V1,
    /// The method, the URL and the body.
    V2,
}

/// Verify a v1 or v2 signature (`version` from [`SIGNATURE_VERSION_HEADER`]; v2 when absent),
/// and say which it was.
pub fn verify_v1_v2(
    secret: &str,
    version: Option<&str>,
    method: &str,
    url: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<LegacyVersion, Error> {
    let signature = signature.ok_or(Error::MissingSignature {
        header: SIGNATURE_HEADER,
    })?;
    let (version, expected) = match version.map(str::trim) {
        Some("v1") => (LegacyVersion::V1, sign_v1(secret, body)),
        Some("v2") | None => (LegacyVersion::V2, sign_v2(secret, method, url, body)),
        Some(_) => return Err(Error::BadSignature),
    };
    let given = signature.trim().to_ascii_lowercase();
    if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        Ok(version)
    } else {
        Err(Error::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    // HubSpot's public test vectors (docs and the official Python SDK's signature tests).
    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const DOCS_BODY: &[u8] = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
    const SDK_BODY: &[u8] = b"{'example_field':'example_value'}";
    const URL: &str = "https://www.example.com/webhook_uri";

    #[test]
    fn v1_docs_vector() {
        assert_eq!(
            sign_v1(SECRET, DOCS_BODY),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
        let sig = sign_v1(SECRET, DOCS_BODY);
        assert_eq!(
            verify_v1_v2(SECRET, Some("v1"), "POST", URL, DOCS_BODY, Some(&sig)),
            Ok(LegacyVersion::V1)
        );
        // v1 covers the body alone: the same signature holds for any URL.
        assert_eq!(
            verify_v1_v2(
                SECRET,
                Some("v1"),
                "GET",
                "https://x.test/",
                DOCS_BODY,
                Some(&sig)
            ),
            Ok(LegacyVersion::V1)
        );
    }

    #[test]
    fn v2_covers_the_method_and_the_url() {
        let body = br#"{"example_field":"example_value"}"#;
        let sig = sign_v2(SECRET, "POST", URL, body);
        let verify = |method: &str, url: &str| {
            verify_v1_v2(SECRET, Some("v2"), method, url, body, Some(&sig))
        };
        assert_eq!(verify("POST", URL), Ok(LegacyVersion::V2));
        assert_eq!(
            verify("POST", "https://www.example.com/other_uri"),
            Err(Error::BadSignature)
        );
        assert_eq!(verify("PUT", URL), Err(Error::BadSignature));
        assert_eq!(
            verify_v1_v2(SECRET, Some("v9"), "POST", URL, body, Some(&sig)),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn v2_docs_vectors() {
        assert_eq!(
            sign_v2(SECRET, "GET", URL, b""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
        );
        assert_eq!(
            sign_v2(SECRET, "POST", URL, br#"{"example_field":"example_value"}"#),
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
        );
    }

    #[test]
    fn sdk_vectors() {
        assert_eq!(
            sign_v1(SECRET, SDK_BODY),
            "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
        );
        assert_eq!(
            sign_v2(SECRET, "POST", URL, SDK_BODY),
            "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
        );
        assert_eq!(
            sign_v3(SECRET, "POST", URL, SDK_BODY, "15000000"),
            "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="
        );
    }

    #[test]
    fn v3_verifies_within_the_window_and_refuses_tampering_and_replays() {
        let now = datetime!(2026-11-21 12:00 UTC);
        let ts = (now.unix_timestamp() * 1000).to_string();
        let url = "https://hooks.example.com/score-lead/hubspot?portal=62515";
        let sig = sign_v3(SECRET, "POST", url, DOCS_BODY, &ts);
        let verify = |body: &[u8], ts: &str, sig: &str| {
            verify_v3(SECRET, "POST", url, body, Some(ts), Some(sig), now)
        };
        assert_eq!(verify(DOCS_BODY, &ts, &sig), Ok(()));
        assert_eq!(verify(b"[]", &ts, &sig), Err(Error::BadSignature));
        let other_route = "https://hooks.example.com/gate-handoff/hubspot?portal=62515";
        assert_eq!(
            verify_v3(
                SECRET,
                "POST",
                other_route,
                DOCS_BODY,
                Some(&ts),
                Some(&sig),
                now
            ),
            Err(Error::BadSignature)
        );
        let old = ((now.unix_timestamp() - 301) * 1000).to_string();
        let old_sig = sign_v3(SECRET, "POST", url, DOCS_BODY, &old);
        assert!(matches!(
            verify(DOCS_BODY, &old, &old_sig),
            Err(Error::StaleTimestamp { .. })
        ));
        assert_eq!(
            verify_v3(SECRET, "POST", url, DOCS_BODY, None, Some(&sig), now),
            Err(Error::MissingSignature {
                header: TIMESTAMP_HEADER
            })
        );
    }

    #[test]
    fn v3_uri_decodes_only_hubspots_escapes() {
        assert_eq!(
            v3_uri("https://x.test/a%3Ab%2fc?q=%40me%20you%2A%25"),
            "https://x.test/a:b/c?q=@me%20you*%25"
        );
    }
}
