//! End-to-end tests of the test host itself, against a real spin-sdk 7
//! component: the probe in `tests/probe`, built on first use with
//! `cargo build --target wasm32-wasip2 --release` into
//! `<target>/test-host-probe`. The SQLite tests are in `host_probe/sqlite.rs`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use pipeline_guard_test_host::{
    DeniedRequest, FakeCrm, Host, HostBuilder, InstanceReuse, KvBackend, imports_outside_world,
};

#[path = "host_probe/sqlite.rs"]
mod sqlite;

const MANIFEST: &str = r#"
spin_manifest_version = 2

[application]
name = "probe-app"

[variables]
who = { default = "world" }
secret_token = { required = true, secret = true }
crm_url = { default = "http://127.0.0.1:9" }

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.http]]
route = "/other/..."
component = "other"

[[trigger.http]]
route = "/named/:id/..."
component = "other"

[component.probe]
source = "target/wasm32-wasip2/release/test_host_probe.wasm"
key_value_stores = ["default"]
sqlite_databases = ["default"]
allowed_outbound_hosts = ["{{ crm_url }}"]
environment = { PROBE_ENV = "from-manifest" }
[component.probe.variables]
greeting = "hello {{ who }}"
token = "{{ secret_token }}"

[component.other]
source = "target/wasm32-wasip2/release/test_host_probe.wasm"
[component.other.build]
command = "cargo build --target wasm32-wasip2 --release"
"#;

/// Builds the probe once per test process; returns the target dir.
fn probe() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| pipeline_guard_test_host::probe::build().expect("the probe builds"))
}

struct App {
    _dir: tempfile::TempDir,
    manifest: PathBuf,
}

fn app(manifest: &str) -> App {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, manifest).expect("write spin.toml");
    App {
        _dir: dir,
        manifest: path,
    }
}

fn builder(app: &App) -> HostBuilder {
    Host::builder(&app.manifest)
        .target_dir(probe())
        .variable("secret_token", "t0ken")
}

async fn get(host: &Host, uri: &str) -> (StatusCode, String) {
    let request = http::Request::get(uri).body(Bytes::new()).expect("request");
    let response = host.request(request).await.expect("host answers");
    let status = response.status();
    (
        status,
        String::from_utf8_lossy(response.body()).into_owned(),
    )
}

#[tokio::test]
async fn variables_are_per_component_and_templated() {
    let app = app(MANIFEST);
    let host = builder(&app)
        .variable("who", "tests")
        .build()
        .expect("starts");
    assert_eq!(
        get(&host, "/probe/var?name=greeting").await.1,
        "ok:hello tests"
    );
    assert_eq!(get(&host, "/probe/var?name=token").await.1, "ok:t0ken");
    let invalid = get(&host, "/probe/var?name=Bad-Name").await.1;
    assert!(invalid.starts_with("err:Error::InvalidName"), "{invalid}");
    assert_eq!(
        get(&host, "/probe/var?name=nope").await.1,
        r#"err:Error::Undefined("no variable for \"probe\".\"nope\"")"#
    );
    // Another component does not see the probe's variables.
    assert!(
        get(&host, "/other/var?name=greeting")
            .await
            .1
            .starts_with("err:Error::Undefined")
    );
    assert_eq!(get(&host, "/probe/env").await.1, "from-manifest");
}

#[tokio::test]
async fn required_variables_and_kv_labels_are_checked_at_start() {
    let app1 = app(MANIFEST);
    let err = Host::builder(&app1.manifest)
        .target_dir(probe())
        .build()
        .err()
        .expect("a required variable is missing");
    assert!(format!("{err:#}").contains("secret_token"), "{err:#}");

    let app2 = app(&MANIFEST.replace(
        "key_value_stores = [\"default\"]",
        "key_value_stores = [\"default\", \"cache\"]",
    ));
    let err = builder(&app2).build().err().expect("undefined store label");
    assert!(
        format!("{err:#}").contains("unknown key_value_stores label \"cache\""),
        "{err:#}"
    );
    assert!(builder(&app2).key_value_label("cache").build().is_ok());
}

#[tokio::test]
async fn key_value_follows_spin() {
    let app = app(MANIFEST);
    let host = builder(&app).build().expect("starts");
    assert_eq!(
        get(&host, "/probe/kv-set?label=default&k=a&v=1").await.1,
        "ok"
    );
    assert_eq!(
        get(&host, "/probe/kv-set?label=default&k=b&v=2").await.1,
        "ok"
    );
    assert_eq!(
        get(&host, "/probe/kv-get?label=default&k=a").await.1,
        "Ok(Some([49])) Ok(true)"
    );
    assert_eq!(
        get(&host, "/probe/kv-get?label=default&k=z").await.1,
        "Ok(None) Ok(false)"
    );
    assert_eq!(
        get(&host, "/probe/kv-keys?label=default").await.1,
        r#"Ok(["a", "b"])"#
    );
    assert_eq!(
        get(&host, "/probe/kv-del?label=default&k=a").await.1,
        "Ok(())"
    );
    assert_eq!(
        get(&host, "/probe/kv-del?label=default&k=a").await.1,
        "Ok(())"
    );
    // Not granted (whether or not the store exists): access-denied.
    assert_eq!(
        get(&host, "/probe/kv-get?label=nope&k=a").await.1,
        "err:Error::AccessDenied"
    );
    assert_eq!(
        get(&host, "/other/kv-get?label=default&k=b").await.1,
        "err:Error::AccessDenied"
    );

    let data = host.kv("default");
    assert_eq!(data.len(), 1);
    assert_eq!(data["b"], b"2");
    host.kv_set("default", "seeded", "x").expect("seed");
    assert_eq!(
        get(&host, "/probe/kv-get?label=default&k=seeded").await.1,
        "Ok(Some([120])) Ok(true)"
    );
}

#[tokio::test]
async fn file_backed_kv_survives_a_host_restart() {
    let app = app(MANIFEST);
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let host = builder(&app)
            .key_value(KvBackend::Dir(dir.path().to_path_buf()))
            .build()
            .expect("starts");
        assert_eq!(
            get(&host, "/probe/kv-set?label=default&k=kept&v=yes")
                .await
                .1,
            "ok"
        );
    }
    let host = builder(&app)
        .key_value(KvBackend::Dir(dir.path().to_path_buf()))
        .build()
        .expect("restarts");
    assert_eq!(host.kv("default")["kept"], b"yes");
    assert_eq!(
        get(&host, "/probe/kv-keys?label=default").await.1,
        r#"Ok(["kept"])"#
    );
}

#[tokio::test]
async fn outbound_http_is_sandboxed() {
    let crm = FakeCrm::start().await.expect("fake crm");
    let elsewhere = FakeCrm::start().await.expect("second server");
    crm.respond("GET", "/sandbox/", 201, serde_json::json!({"id": 1}));
    let app = app(MANIFEST);
    let host = builder(&app)
        .variable("crm_url", crm.url())
        .build()
        .expect("starts");

    let url = format!("{}/sandbox/v3?x=1", crm.url());
    assert_eq!(
        get(&host, &format!("/probe/out?url={url}")).await.1,
        "status:201"
    );
    let seen = crm.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, http::Method::GET);
    assert_eq!(seen[0].path_and_query, "/sandbox/v3?x=1");

    let denied_url = format!("{}/sandbox/v3", elsewhere.url());
    let answer = get(&host, &format!("/probe/out?url={denied_url}")).await.1;
    assert_eq!(answer, "err:ErrorCode::HttpRequestDenied");
    let answer = get(&host, &format!("/other/out?url={url}")).await.1;
    assert_eq!(answer, "err:ErrorCode::HttpRequestDenied");
    assert!(elsewhere.requests().is_empty());
    assert_eq!(crm.requests().len(), 1);
    assert_eq!(
        host.denied_outbound(),
        vec![
            DeniedRequest {
                component: "probe".into(),
                method: "GET".into(),
                url: denied_url,
            },
            DeniedRequest {
                component: "other".into(),
                method: "GET".into(),
                url,
            },
        ]
    );
}

#[tokio::test]
async fn an_unresolvable_allowed_host_denies_everything_like_spin() {
    let crm = FakeCrm::start().await.expect("fake crm");
    let app = app(MANIFEST);
    // A path is not allowed in an allowed_outbound_hosts entry.
    let host = builder(&app)
        .variable("crm_url", format!("{}/api", crm.url()))
        .build()
        .expect("starts: Spin only finds out at request time");
    let answer = get(&host, &format!("/probe/out?url={}/api/x", crm.url()))
        .await
        .1;
    assert_eq!(answer, "err:ErrorCode::HttpRequestDenied");
    assert!(crm.requests().is_empty());
    assert_eq!(host.denied_outbound().len(), 1);
}

#[tokio::test]
async fn fake_crm_faults_reach_the_guest() {
    let crm = FakeCrm::start().await.expect("fake crm");
    let app = app(MANIFEST);
    let host = builder(&app)
        .variable("crm_url", crm.url())
        .build()
        .expect("starts");
    let out = format!("/probe/out?url={}/deals", crm.url());
    crm.fail_next(2, 503);
    assert_eq!(get(&host, &out).await.1, "status:503");
    assert_eq!(get(&host, &out).await.1, "status:503");
    assert_eq!(get(&host, &out).await.1, "status:200");
    crm.inject(1, pipeline_guard_test_host::Fault::Disconnect);
    assert!(get(&host, &out).await.1.starts_with("err:"));
    assert_eq!(crm.requests().len(), 4);
    crm.clear();
    assert!(crm.requests().is_empty());
}

#[tokio::test]
async fn routing_headers_and_errors() {
    let app = app(MANIFEST);
    let host = builder(&app).build().expect("starts");
    let (status, body) = get(&host, "/probe/a/headers?q=1").await;
    assert_eq!(status, StatusCode::OK);
    let expected = [
        "host=localhost",
        "spin-base-path=/",
        "spin-client-addr=127.0.0.1:0",
        "spin-component-route=/probe",
        "spin-full-url=http://localhost/probe/a/headers?q=1",
        "spin-matched-route=/probe/...",
        "spin-path-info=/a/headers",
        "spin-raw-component-route=/probe/...",
        "uri=http://localhost/probe/a/headers?q=1",
    ];
    assert_eq!(body.lines().collect::<Vec<_>>(), expected);

    let (_, body) = get(&host, "/named/42/headers").await;
    assert!(body.contains("spin-path-match-id=42"), "{body}");
    assert!(body.contains("spin-path-info=/headers"), "{body}");

    assert_eq!(
        get(&host, "/.well-known/spin/health").await,
        (StatusCode::OK, "OK".to_string())
    );
    let (_, info) = get(&host, "/.well-known/spin/info").await;
    assert!(info.contains("\"name\":\"probe-app\""), "{info}");
    let (status, body) = get(&host, "/nowhere").await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, ""));
    let (status, body) = get(&host, "/probe/trap").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "")
    );
    assert_eq!(get(&host, "/probe/print").await.1, "printed");
}

#[tokio::test]
async fn instances_are_reused_like_spin() {
    let app = app(MANIFEST);
    let host = builder(&app).build().expect("starts");
    for expected in ["1", "2", "3"] {
        assert_eq!(get(&host, "/probe/count").await.1, expected);
    }
    assert_eq!(host.instances_created("probe"), 1);

    let fresh = builder(&app)
        .instance_reuse(InstanceReuse::fresh_per_request())
        .build()
        .expect("starts");
    for _ in 0..3 {
        assert_eq!(get(&fresh, "/probe/count").await.1, "1");
    }
    assert_eq!(fresh.instances_created("probe"), 3);

    let two = builder(&app)
        .instance_reuse(InstanceReuse {
            max_requests: 2,
            ..InstanceReuse::default()
        })
        .build()
        .expect("starts");
    let mut counts = Vec::new();
    for _ in 0..5 {
        counts.push(get(&two, "/probe/count").await.1);
    }
    assert_eq!(counts, ["1", "2", "1", "2", "1"]);
    assert_eq!(two.instances_created("probe"), 3);
    let stats = two.instance_stats("probe");
    assert_eq!((stats.requests, stats.max_requests_per_instance), (5, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_reuse_every_request_of_a_burst_gets_its_own_instance() {
    let app = app(MANIFEST);
    let host = builder(&app)
        .instance_reuse(InstanceReuse::fresh_per_request())
        .build()
        .expect("starts");
    let burst = (0..24).map(|_| get(&host, "/probe/count"));
    for (status, body) in futures::future::join_all(burst).await {
        assert_eq!((status, body.as_str()), (StatusCode::OK, "1"));
    }
    let stats = host.instance_stats("probe");
    assert_eq!((stats.requests, stats.max_requests_per_instance), (24, 1));
    assert!(stats.instances >= 24, "{stats:?}");
}

/// Two overlapping requests, the second sent while the first waits on a slow
/// CRM: with `max_concurrent` 1 they need two instances, by default one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_requests_share_an_instance_up_to_max_concurrent() {
    let crm = FakeCrm::start().await.expect("fake crm");
    let app = app(MANIFEST);
    for (max_concurrent, instances) in [(1, 2), (16, 1)] {
        let host = builder(&app)
            .variable("crm_url", crm.url())
            .instance_reuse(InstanceReuse {
                max_concurrent,
                ..InstanceReuse::default()
            })
            .build()
            .expect("starts");
        crm.delay_next(2, Duration::from_millis(600));
        let out = format!("/probe/out?url={}/slow", crm.url());
        let first = get(&host, &out);
        let second = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            get(&host, &out).await
        };
        let (a, b) = tokio::join!(first, second);
        assert_eq!((a.1.as_str(), b.1.as_str()), ("status:200", "status:200"));
        assert_eq!(
            host.instances_created("probe"),
            instances,
            "max_concurrent {max_concurrent}"
        );
    }
}

/// `spin_sdk::time::sleep` (`wasi:clocks/monotonic-clock@0.3.0`) waits.
#[tokio::test]
async fn guests_can_sleep() {
    let app = app(MANIFEST);
    let host = builder(&app).build().expect("starts");
    let start = std::time::Instant::now();
    assert_eq!(get(&host, "/probe/sleep?ms=150").await.1, "slept:true");
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn serves_over_tcp() {
    let app = app(MANIFEST);
    let host = builder(&app).build().expect("starts");
    let addr = host
        .serve("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("listens");
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let local = stream.local_addr().expect("local addr");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let request = http::Request::get("/probe/headers")
        .header("host", addr.to_string())
        .header("x-test", "yes")
        .body(http_body_util::Empty::<Bytes>::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains(&format!("spin-client-addr={local}")),
        "{body}"
    );
    assert!(
        body.contains(&format!("spin-full-url=http://{addr}/probe/headers")),
        "{body}"
    );
    assert!(body.contains("x-test=yes"), "{body}");
}

#[tokio::test]
async fn probe_imports_are_checked_against_a_world() {
    let target = probe();
    let wasm = std::fs::read(target.join("wasm32-wasip2/release/test_host_probe.wasm"))
        .expect("probe wasm");
    let dir = tempfile::tempdir().expect("tempdir");
    let deps = dir.path().join("deps");
    std::fs::create_dir_all(&deps).expect("mkdir");
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
    for file in [
        "spin-key-value.wit",
        "spin-sqlite.wit",
        "spin-variables.wit",
    ] {
        std::fs::copy(wit.join(file), deps.join(file)).expect("copy wit");
    }
    std::fs::write(
        dir.path().join("world.wit"),
        "package test:probe;\nworld only-spin {\n  import spin:key-value/key-value@3.0.0;\n  import spin:sqlite/sqlite@3.1.0;\n  import spin:variables/variables@3.0.0;\n}\n",
    )
    .expect("write world");
    let outside = imports_outside_world(&wasm, dir.path(), "only-spin").expect("checks");
    assert!(
        outside.iter().any(|i| i == "wasi:http/types@0.3.0"),
        "{outside:?}"
    );
    assert!(
        !outside.iter().any(|i| i.starts_with("spin:")),
        "{outside:?}"
    );
}
