mod sql;

use std::sync::atomic::{AtomicUsize, Ordering};

use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;
use spin_sdk::key_value::Store;

static SERVED: AtomicUsize = AtomicUsize::new(0);

fn query(req: &Request, name: &str) -> String {
    req.uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let served = SERVED.fetch_add(1, Ordering::SeqCst) + 1;
    let path = req.uri().path().to_string();
    let op = path.rsplit('/').next().unwrap_or("").to_string();
    if op == "sql" || op == "sql-sync" {
        let label = match query(&req, "label") {
            label if label.is_empty() => "default".to_string(),
            label => label,
        };
        let params = sql::parameters(req.uri().query().unwrap_or(""));
        let statement = match req.into_body().bytes().await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => return (StatusCode::BAD_REQUEST, format!("body: {e:?}")),
        };
        let answer = if op == "sql" {
            sql::run_async(&label, &statement, params).await
        } else {
            sql::run_sync(&label, &statement, params)
        };
        return (StatusCode::OK, answer);
    }
    let body = match op.as_str() {
        "var" => match spin_sdk::variables::get(query(&req, "name")).await {
            Ok(v) => format!("ok:{v}"),
            Err(e) => format!("err:{e:?}"),
        },
        // The benchmarks' baseline: one variable read, one key-value write.
        "minimal" => match spin_sdk::variables::get("greeting").await {
            Ok(v) => match Store::open_default().await {
                Ok(s) => match s.set("minimal", v.as_bytes()).await {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("err:{e:?}"),
                },
                Err(e) => format!("err:{e:?}"),
            },
            Err(e) => format!("err:{e:?}"),
        },
        "kv-set" => {
            let store = Store::open(query(&req, "label")).await;
            match store {
                Ok(s) => match s.set(query(&req, "k"), query(&req, "v").as_bytes()).await {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("err:{e:?}"),
                },
                Err(e) => format!("err:{e:?}"),
            }
        }
        "kv-get" => match Store::open(query(&req, "label")).await {
            Ok(s) => {
                let got = s.get(query(&req, "k")).await;
                let exists = s.exists(query(&req, "k")).await;
                format!("{got:?} {exists:?}")
            }
            Err(e) => format!("err:{e:?}"),
        },
        "kv-del" => match Store::open(query(&req, "label")).await {
            Ok(s) => format!("{:?}", s.delete(query(&req, "k")).await),
            Err(e) => format!("err:{e:?}"),
        },
        "kv-keys" => match Store::open(query(&req, "label")).await {
            Ok(s) => format!("{:?}", s.get_keys().await.collect().await),
            Err(e) => format!("err:{e:?}"),
        },
        "out" => match spin_sdk::http::get(query(&req, "url")).await {
            Ok(resp) => format!("status:{}", resp.status().as_u16()),
            Err(e) => format!("err:{e:?}"),
        },
        "headers" => {
            let mut lines: Vec<String> = req
                .headers()
                .iter()
                .filter(|(n, _)| n.as_str().starts_with("spin-") || n.as_str() == "host" || n.as_str() == "x-test")
                .map(|(n, v)| format!("{}={}", n, v.to_str().unwrap_or("?")))
                .collect();
            lines.sort();
            lines.push(format!("uri={}", req.uri()));
            lines.join("\n")
        }
        "count" => format!("{served}"),
        "sleep" => {
            let ms: u64 = query(&req, "ms").parse().unwrap_or(0);
            let start = std::time::Instant::now();
            spin_sdk::time::sleep(std::time::Duration::from_millis(ms)).await;
            format!("slept:{}", start.elapsed().as_millis() >= u128::from(ms))
        }
        "env" => std::env::var("PROBE_ENV").unwrap_or_default(),
        "slow" => {
            // Yield to the host a few times by hitting the kv store.
            if let Ok(s) = Store::open("default").await {
                for _ in 0..3 {
                    let _ = s.get("x").await;
                }
            }
            format!("{served}")
        }
        "trap" => panic!("probe trap"),
        "print" => {
            println!("probe stdout line");
            eprintln!("probe stderr line");
            "printed".to_string()
        }
        _ => return (StatusCode::NOT_FOUND, format!("unknown op {op}")),
    };
    (StatusCode::OK, body)
}
