//! Shared credentials, for CRMs that do not sign their webhooks: HTTP Basic credentials
//! (Pipedrive) and a shared token (Salesforce outbound messages), which may be one of two while
//! it is rotated.
//!
//! Values are compared as SHA-256 digests in constant time, so neither the content nor the length
//! of the expected value leaks through timing.

use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Error;

/// The header HTTP Basic credentials come in.
pub const AUTHORIZATION_HEADER: &str = "authorization";

/// Whether `presented` equals `expected`, in constant time.
fn same(presented: &[u8], expected: &[u8]) -> subtle::Choice {
    Sha256::digest(presented).ct_eq(&Sha256::digest(expected))
}

/// Check an `Authorization: Basic …` header against the configured user and password.
pub fn verify_basic(header: Option<&str>, user: &str, password: &str) -> Result<(), Error> {
    let missing = Error::MissingSignature {
        header: "Authorization",
    };
    let header = header.ok_or(missing.clone())?;
    let (scheme, encoded) = header.trim().split_once(' ').ok_or(missing.clone())?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(missing);
    }
    let bad = Error::BadCredentials {
        what: "the HTTP Basic user or password",
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad.clone())?;
    let colon = decoded.iter().position(|&b| b == b':').ok_or(bad.clone())?;
    let (given_user, given_password) = (&decoded[..colon], &decoded[colon + 1..]);
    // Both compared, always: which one was wrong is not told by timing either.
    let matches = same(given_user, user.as_bytes()) & same(given_password, password.as_bytes());
    if bool::from(matches) {
        Ok(())
    } else {
        Err(bad)
    }
}

/// Check a shared token against the configured one; `header` names where it was looked for.
pub fn verify_token(
    presented: Option<&str>,
    expected: &str,
    header: &'static str,
) -> Result<(), Error> {
    verify_tokens(presented, &[expected], header)
}

/// Check a shared token against each of the configured ones (the current token and, during a
/// rotation, the next): every one is compared, so timing does not tell which matched.
pub fn verify_tokens(
    presented: Option<&str>,
    expected: &[&str],
    header: &'static str,
) -> Result<(), Error> {
    let presented = presented.ok_or(Error::MissingSignature { header })?;
    let presented = presented.trim().as_bytes();
    let matches = expected.iter().fold(subtle::Choice::from(0), |any, token| {
        any | same(presented, token.as_bytes())
    });
    if bool::from(matches) && !expected.is_empty() {
        Ok(())
    } else {
        Err(Error::BadCredentials {
            what: "the shared token",
        })
    }
}

/// Check an `Authorization: Bearer …` header against the configured token (the admin routes).
pub fn verify_bearer(header: Option<&str>, expected: &str) -> Result<(), Error> {
    let token = header
        .map(str::trim)
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token);
    verify_token(token, expected, "Authorization: Bearer")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
    }

    #[test]
    fn the_configured_user_and_password_pass() {
        let header = basic("pipedrive", "s3cret:with-colon");
        assert!(verify_basic(Some(&header), "pipedrive", "s3cret:with-colon").is_ok());
    }

    #[test]
    fn a_wrong_password_or_user_is_refused_with_401() {
        for header in [basic("pipedrive", "guess"), basic("admin", "s3cret")] {
            let err = verify_basic(Some(&header), "pipedrive", "s3cret").unwrap_err();
            assert_eq!(err.code(), "bad_credentials");
            assert_eq!(err.status(), 401);
        }
    }

    #[test]
    fn missing_or_other_schemes_are_missing_credentials() {
        for header in [None, Some("Bearer abc"), Some("Basic")] {
            let err = verify_basic(header, "u", "p").unwrap_err();
            assert_eq!(err.code(), "missing_signature", "{header:?}");
        }
        let err = verify_basic(Some("Basic !!!"), "u", "p").unwrap_err();
        assert_eq!(err.code(), "bad_credentials");
    }

    #[test]
    fn tokens_must_match_exactly() {
        assert!(verify_token(Some("tok-1"), "tok-1", "x").is_ok());
        assert_eq!(
            verify_token(Some("tok-2"), "tok-1", "x")
                .unwrap_err()
                .status(),
            401
        );
        assert_eq!(
            verify_token(None, "tok-1", "x").unwrap_err().code(),
            "missing_signature"
        );
    }

    #[test]
    fn during_a_rotation_either_token_passes_and_no_other() {
        let both = ["tok-current", "tok-next"];
        assert!(verify_tokens(Some("tok-current"), &both, "x").is_ok());
        assert!(verify_tokens(Some(" tok-next "), &both, "x").is_ok());
        for wrong in ["tok-", "tok-current tok-next", ""] {
            let err = verify_tokens(Some(wrong), &both, "x").unwrap_err();
            assert_eq!(err.code(), "bad_credentials", "{wrong:?}");
        }
        assert!(verify_tokens(Some("tok-current"), &[], "x").is_err());
    }
}
