//! OAuth 2.0 client credentials (RFC 6749 §4.4), for CRMs whose API tokens expire (Salesforce's
//! access tokens last as long as a session, hours by default).
//!
//! The pure half: the token request's form body and the access token in the answer. The edge
//! sends the request, keeps the token in the key-value store for the next requests, and asks for
//! a new one when the API answers `401`.

use serde::Deserialize;

use crate::Error;

/// The Spin variables holding a CRM app's client credentials, and where its token endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OAuthVariables {
    /// The client (consumer) id.
    pub client_id: &'static str,
    /// The client (consumer) secret.
    pub client_secret: &'static str,
    /// The token endpoint's path on the API origin (`/services/oauth2/token`).
    pub token_path: &'static str,
}

/// The `application/x-www-form-urlencoded` body asking for a token with client credentials.
pub fn token_request_body(client_id: &str, client_secret: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client_id)
        .append_pair("client_secret", client_secret)
        .finish()
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// The access token in the token endpoint's answer (`status` is its HTTP status). A refusal
/// (`invalid_client`, say) is a configuration error naming what the endpoint said and which
/// variables to check.
pub fn access_token(status: u16, body: &[u8], variables: OAuthVariables) -> Result<String, Error> {
    let answer: Option<TokenAnswer> = serde_json::from_slice(body).ok();
    let token = answer
        .as_ref()
        .and_then(|a| a.access_token.as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty());
    match token {
        Some(token) if (200..300).contains(&status) => Ok(token.to_owned()),
        _ => {
            let said = match answer {
                Some(TokenAnswer {
                    error: Some(error),
                    error_description,
                    ..
                }) => format!(
                    "{error}{}",
                    error_description
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
                // Never the body itself: an answer in an unexpected shape may hold the token.
                Some(_) => "an answer without `access_token` or `error`".to_owned(),
                None => "an answer that is not JSON".to_owned(),
            };
            Err(Error::Config(format!(
                "the CRM's token endpoint answered {status} ({said}): check `{}` and `{}`, and that \
                 the app allows the client credentials flow",
                variables.client_id, variables.client_secret
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARIABLES: OAuthVariables = OAuthVariables {
        client_id: "x_client_id",
        client_secret: "x_client_secret",
        token_path: "/token",
    };

    #[test]
    fn the_request_body_is_form_encoded() {
        assert_eq!(
            token_request_body("3MVG9&id", "s3cr=t +"),
            "grant_type=client_credentials&client_id=3MVG9%26id&client_secret=s3cr%3Dt+%2B"
        );
    }

    #[test]
    fn the_token_is_read_and_refusals_name_the_variables() {
        let ok = br#"{"access_token":"00D5g!AQ4AQ","instance_url":"https://acme.my.salesforce.com","token_type":"Bearer"}"#;
        assert_eq!(access_token(200, ok, VARIABLES).unwrap(), "00D5g!AQ4AQ");

        let refused =
            br#"{"error":"invalid_client","error_description":"invalid client credentials"}"#;
        let err = access_token(400, refused, VARIABLES).unwrap_err();
        assert_eq!(err.status(), 500);
        let message = err.to_string();
        assert!(
            message.contains("invalid_client: invalid client credentials"),
            "{message}"
        );
        assert!(message.contains("`x_client_secret`"), "{message}");

        let garbled = access_token(200, b"<html>", VARIABLES).unwrap_err();
        assert!(garbled.to_string().contains("not JSON"), "{garbled}");
        // An answer in an unexpected shape is never quoted: it may carry the token.
        let odd = br#"{"token":"00D5g!SECRET","instance_url":"x"}"#;
        let err = access_token(200, odd, VARIABLES).unwrap_err().to_string();
        assert!(!err.contains("SECRET"), "{err}");
    }
}
