//! The URL a request's signature is checked against: HubSpot's v3 and v2 signatures cover it,
//! the generic signature its path.
//!
//! It never comes from a header a client can set. Spin passes the URL it received in
//! `spin-full-url`, but it appends its own `spin-*` headers after any the client sent, so only
//! the last `spin-full-url` is Spin's: a client sending its own could otherwise have a request
//! signed for one route checked as if it had come for that route.
//!
//! Behind a TLS-terminating ingress (SpinKube, a load balancer) Spin receives
//! `http://<pod address>/…` while the CRM signed `https://hooks.example.com/…`. The admin then
//! sets `public_base_url` to what the CRM calls, and the URL checked is that base followed by the
//! request's path and query as Spin received them.

use pipeline_guard_core::Error;
use spin_sdk::http::Request;

use crate::config;

/// The variable naming the scheme, host (and port, and a path prefix the ingress strips) CRMs
/// call: `https://hooks.example.com`. Empty: the URL Spin received.
pub const PUBLIC_BASE_URL_VARIABLE: &str = "public_base_url";

/// The URL `request`'s signature is checked against.
pub async fn of(request: &Request) -> Result<String, Error> {
    let configured = config::public_base_url().await?;
    let spins = request
        .headers()
        .get_all("spin-full-url")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok());
    let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    Ok(signed_url(public_base(&configured)?, path_and_query, spins)
        .unwrap_or_else(|| request.uri().to_string()))
}

/// The public base followed by the request's path and query when a base is configured, else
/// Spin's own `spin-full-url`; `None` when there is neither (outside Spin).
fn signed_url(
    public_base: Option<&str>,
    path_and_query: &str,
    spins_full_url: Option<&str>,
) -> Option<String> {
    match public_base {
        Some(base) => Some(format!("{base}{path_and_query}")),
        None => spins_full_url.map(str::to_owned),
    }
}

/// `public_base_url` checked: `None` when empty, else `http(s)://host[:port][/prefix]` without
/// its trailing slash. Anything else (no scheme, a query, spaces) is a configuration error
/// naming the variable: a wrong base would refuse every signed request.
pub(crate) fn public_base(text: &str) -> Result<Option<&str>, Error> {
    let base = text.trim().trim_end_matches('/');
    if base.is_empty() {
        return Ok(None);
    }
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|scheme| {
            base.get(..scheme.len())
                .filter(|s| s.eq_ignore_ascii_case(scheme))
                .map(|_| &base[scheme.len()..])
        })
        .unwrap_or_default();
    let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host_ok = !authority.is_empty()
        && !authority.starts_with(':')
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    let prefix_ok = prefix
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"?#\\".contains(&b));
    if host_ok && prefix_ok {
        Ok(Some(base))
    } else {
        Err(Error::Config(format!(
            "variable `{PUBLIC_BASE_URL_VARIABLE}` is {text:?}: set the scheme://host[:port] CRMs \
             call (https://hooks.example.com, with the path prefix your ingress strips if any, no \
             query), or leave it empty to check signatures against the URL Spin received"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spins_own_url_is_used_unless_a_public_base_is_set() {
        let spins = Some("http://10.0.0.7:80/score-lead/hubspot?object=deal");
        assert_eq!(
            signed_url(None, "/score-lead/hubspot?object=deal", spins).as_deref(),
            spins
        );
        assert_eq!(
            signed_url(
                Some("https://hooks.example.com"),
                "/score-lead/hubspot?object=deal",
                spins
            )
            .as_deref(),
            Some("https://hooks.example.com/score-lead/hubspot?object=deal")
        );
        assert_eq!(signed_url(None, "/x", None), None);
    }

    #[test]
    fn a_public_base_is_a_scheme_and_host_with_an_optional_prefix() {
        for (text, base) in [
            ("", None),
            ("  ", None),
            (
                "https://hooks.example.com",
                Some("https://hooks.example.com"),
            ),
            (
                "https://hooks.example.com/",
                Some("https://hooks.example.com"),
            ),
            (
                " HTTPS://hooks.example.com:8443/pg/ ",
                Some("HTTPS://hooks.example.com:8443/pg"),
            ),
            ("http://[::1]:3000", Some("http://[::1]:3000")),
        ] {
            assert_eq!(public_base(text).ok(), Some(base), "{text:?}");
        }
    }

    #[test]
    fn a_malformed_public_base_is_refused_naming_the_variable() {
        for text in [
            "hooks.example.com",
            "ftp://hooks.example.com",
            "https://",
            "https://:443",
            "https://user@hooks.example.com",
            "https://hooks.example.com/pg?x=1",
            "https://hooks.example.com/p g",
            "https://hooks.example.com#top",
        ] {
            let Err(Error::Config(message)) = public_base(text) else {
                panic!("{text:?} was taken")
            };
            assert!(message.contains("`public_base_url`"), "{message}");
        }
    }
}
