//! On both hosts: a request without credentials is refused before its body is read, and a body
//! trickling in past the deadline is refused.

mod both;
mod util;

use anyhow::Context as _;
use both::*;
use bytes::Bytes;
use util::*;

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_request_without_credentials_is_refused_before_its_body_is_read()
-> anyhow::Result<()> {
    on_every_host("no credentials, body unread", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        // Larger than the body limit: a host that read it would answer 413, not 401.
        let oversized = Bytes::from(vec![b'x'; 2 * 1024 * 1024]);
        for (path, header) in [
            ("/score-lead/generic", "x-pipeline-guard-signature"),
            ("/gate-handoff/hubspot", "x-hubspot-signature-v3"),
            ("/gate-handoff/pipedrive", "authorization"),
            ("/gate-handoff/salesforce", "x-pipeline-guard-token"),
        ] {
            let request = http::Request::post(format!("http://pipeline-guard.test{path}"))
                .header("content-type", "application/json")
                .body(oversized.clone())?;
            let answer = node.request(request).await?;
            assert_eq!(answer.status(), 401, "{path}");
            let message = String::from_utf8_lossy(answer.body()).into_owned();
            assert!(message.contains(header), "{path}: {message}");
        }
        assert!(crm.requests().is_empty());
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_body_trickling_in_past_the_deadline_is_refused() -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    on_every_host("body deadline", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let addr = node.tcp_addr().await?;
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let ts = now().to_string();
        // Signed headers, a declared body of 100 bytes, and only ten of them sent.
        let head = format!(
            "POST /score-lead/generic HTTP/1.1\r\nhost: pipeline-guard.test\r\n\
             content-type: application/json\r\ncontent-length: 100\r\n\
             x-pipeline-guard-timestamp: {ts}\r\nx-pipeline-guard-signature: sha256=00\r\n\
             connection: close\r\n\r\n{{\"events\":"
        );
        stream.write_all(head.as_bytes()).await?;
        let started = std::time::Instant::now();
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(20),
            stream.read_to_end(&mut answer),
        )
        .await
        .context("no answer while the body trickles")??;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("body_timeout"), "{answer}");
        let waited = started.elapsed();
        assert!(
            waited >= std::time::Duration::from_secs(2),
            "answered after {waited:?}, before the deadline"
        );
        assert!(crm.requests().is_empty());
        Ok(())
    })
    .await
}
