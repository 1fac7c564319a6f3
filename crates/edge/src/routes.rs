//! A function's routes.
//!
//! Spin gives each function the wildcard route `/<function>/...` and passes the part after it in
//! the `spin-path-info` header:
//! - `GET /<function>`: health (version, mode, playbook).
//! - `POST /<function>/<crm>`: a webhook from that CRM (`generic`, …).

use pipeline_guard_core::{
    Error,
    crm::Crm,
    function::FunctionKind,
    inbound::InboundRequest,
    pipeline::{self, DeliveryOutcome},
};
use spin_sdk::http::{Request, Response};
use time::OffsetDateTime;

use crate::{body, config, crm_client::HttpCrm, kv::KvStore, respond};

/// Answer one request for `function`.
pub async fn serve(function: FunctionKind, request: Request) -> Response<String> {
    match route(function, request).await {
        Ok(response) => response,
        Err(err) => respond::error(&err),
    }
}

async fn route(function: FunctionKind, request: Request) -> Result<Response<String>, Error> {
    let path = request
        .headers()
        .get("spin-path-info")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| request.uri().path())
        .trim_end_matches('/')
        .to_owned();
    let method = request.method().clone();
    let allowed = |allowed| Error::MethodNotAllowed {
        method: method.to_string(),
        allowed,
    };
    if path.is_empty() {
        return match method {
            http::Method::GET => health(function).await,
            _ => Err(allowed("GET")),
        };
    }
    match path.strip_prefix('/').and_then(Crm::from_name) {
        Some(crm) if method == http::Method::POST => {
            let content_type = request
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let result = webhook(function, crm, request).await;
            if let Err(err) = &result {
                respond::log(err);
            }
            Ok(respond::reply(crm.reply(content_type.as_deref(), &result)))
        }
        Some(_) => Err(allowed("POST")),
        None => Err(not_found(function, &path)),
    }
}

fn not_found(function: FunctionKind, path: &str) -> Error {
    let endpoints: Vec<String> = std::iter::once(format!("GET /{}", function.name()))
        .chain(
            Crm::ALL
                .iter()
                .map(|crm| format!("POST /{}/{}", function.name(), crm.name())),
        )
        .collect();
    Error::NotFound {
        path: format!("/{}{path}", function.name()),
        hint: endpoints.join(", "),
    }
}

async fn health(function: FunctionKind) -> Result<Response<String>, Error> {
    let settings = config::settings().await?;
    let playbook = &settings.playbook;
    Ok(respond::json(
        200,
        &serde_json::json!({
            "function": function.name(),
            "version": env!("CARGO_PKG_VERSION"),
            "mode": settings.mode,
            "playbook": {
                "name": playbook.name,
                "version": playbook.version,
                "content_hash": playbook.content_hash,
            },
            "crms": Crm::ALL.iter().map(|crm| crm.name()).collect::<Vec<_>>(),
        }),
    ))
}

async fn webhook(
    function: FunctionKind,
    crm: Crm,
    request: Request,
) -> Result<DeliveryOutcome, Error> {
    let now = OffsetDateTime::now_utc();
    let url = request
        .headers()
        .get("spin-full-url")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| request.uri().to_string());
    let (parts, body) = body::read_limited(request).await?;
    let secrets = config::secrets(crm).await?;
    let inbound = InboundRequest {
        method: parts.method.as_str(),
        url: &url,
        headers: &parts.headers,
        body: &body,
    };
    let delivery = crm.accept(&inbound, &secrets, now)?;
    let settings = config::settings().await?;
    let store = KvStore::open_default().await?;
    let client = HttpCrm::new(crm, config::crm_api(crm).await?, &store);
    pipeline::run(function, crm, delivery, &settings, &store, &client, now).await
}
