//! `GET /score-lead/me?crm=…&rep=…&expires=…&sig=…`: a rep's own page, opened with the signed
//! link every notice to the rep carries ([`pipeline_guard_core::rep_page`]); as JSON, or, for
//! `Accept: text/html`, one page for a phone. `POST` to the same link, with the form's `token`
//! (the link's signature: a page from elsewhere cannot post it) and a `share` per section,
//! changes what the rep shares with their manager, at once.
//!
//! A missing, expired, altered or other rep's link answers `401` and says nothing about anyone.
//! The key is the `rep_link_secret` variable: while it is empty no notice carries a link and
//! this route answers `500` naming it.
//!
//! Where the link points: `public_base_url` when it is set (behind an ingress, the address reps
//! reach), else the scheme and host of the URL Spin received the request that wrote the notice
//! on (a CRM's webhook, a scheduler's call): set `public_base_url` whenever those reach the app
//! by an address a rep's phone cannot.

use std::sync::Arc;

use pipeline_guard_core::{
    Error,
    function::Settings,
    rep_page::{
        html,
        link::{RepLinks, SECRET_VARIABLE},
        page,
        sharing::{self, Section},
    },
    secret::Secret,
};
use spin_sdk::http::{Request, Response};
use time::OffsetDateTime;

use crate::{body, config, database, report::wants_html, respond, signed_url};

/// The key links are signed with; `None` while `rep_link_secret` is empty.
async fn secret() -> Result<Option<Secret>, Error> {
    let secret = config::variable(SECRET_VARIABLE).await?.trim().to_owned();
    Ok((!secret.is_empty()).then(|| Secret::new(secret)))
}

/// How notices written while answering `request` link to the reps' pages: `None` while
/// `rep_link_secret` is empty, or when the app's address is unknown (no `public_base_url`, and
/// no URL from Spin: outside Spin).
pub async fn links(request: &Request) -> Result<Option<RepLinks>, Error> {
    let Some(secret) = secret().await? else {
        return Ok(None);
    };
    let configured = config::public_base_url().await?;
    if let Some(base) = signed_url::public_base(&configured)? {
        return Ok(Some(RepLinks::new(secret, base)));
    }
    let spins = request
        .headers()
        .get_all("spin-full-url")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|url| url.parse::<http::Uri>().ok());
    Ok(spins.and_then(|uri| {
        let (scheme, authority) = (uri.scheme_str()?, uri.authority()?);
        Some(RepLinks::new(secret, &format!("{scheme}://{authority}")))
    }))
}

/// `settings` whose notices link to the reps' pages, as [`links`] finds them for `request`.
pub async fn with_links(
    settings: Arc<Settings>,
    request: &Request,
) -> Result<Arc<Settings>, Error> {
    let Some(links) = links(request).await? else {
        return Ok(settings);
    };
    let mut settings = (*settings).clone();
    settings.rep_links = Some(links);
    Ok(Arc::new(settings))
}

/// The rep's page (`GET`) or their sharing choice (`POST`).
pub async fn page(request: Request) -> Result<Response<String>, Error> {
    let Some(secret) = secret().await? else {
        return Err(Error::Config(format!(
            "variable `{SECRET_VARIABLE}` is empty: set it to a long random string to give reps \
             their own page (notices then carry a signed link to it)"
        )));
    };
    let now = OffsetDateTime::now_utc();
    let query = request.uri().query().map(str::to_owned);
    let link = RepLinks::new(secret, "").verify(query.as_deref(), now)?;
    let db = database::rep_pages().await?;
    if request.method() == http::Method::POST {
        let (_, body) = body::read_limited(request).await?;
        let (token, sections) = form(&body)?;
        if !link.carries(token.as_deref()) {
            return Err(Error::RepLinkRefused);
        }
        sharing::choose(&db, link.crm, &link.rep, &sections, now).await?;
        // Back to the page, by the link it was posted to (relative: right behind any ingress).
        return Ok(http::Response::builder()
            .status(303)
            .header(
                http::header::LOCATION,
                format!("?{}", query.unwrap_or_default()),
            )
            .header(http::header::CACHE_CONTROL, "no-store")
            .body(String::new())
            .unwrap_or_else(|_| http::Response::new(String::new())));
    }
    let settings = config::settings().await?;
    let page = page::gather(&db, &link, &settings.playbook, now).await?;
    let mut response = if wants_html(&request) {
        respond::html(200, html::render(&page, &link.token))
    } else {
        respond::json(
            200,
            &serde_json::to_value(&page).map_err(|e| Error::Store(e.to_string()))?,
        )
    };
    // The link is the rep's credential: kept out of caches and of other sites' referrers.
    let headers = response.headers_mut();
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        http::header::REFERRER_POLICY,
        http::HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// The sharing form: its `token` and the sections ticked; an unknown section is refused.
fn form(body: &[u8]) -> Result<(Option<String>, Vec<Section>), Error> {
    let (mut token, mut sections) = (None, Vec::new());
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "token" => token = Some(value.into_owned()),
            "share" => sections.push(Section::from_key(&value).ok_or_else(|| {
                Error::invalid_body(
                    "share",
                    format!(
                        "{value:?} is not a section; use {}",
                        Section::ALL.map(Section::key).join(", ")
                    ),
                )
            })?),
            _ => {}
        }
    }
    Ok((token, sections))
}
