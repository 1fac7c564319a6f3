//! On both hosts: a request without credentials is refused before its body is read, and a body
//! trickling in past the deadline is refused.

use crate::both;
use crate::util;

use anyhow::Context as _;
use both::*;
use util::*;

/// Announce a 2 MiB body (larger than the limit) with `Expect: 100-continue`, as curl does for
/// large bodies, and send none of it: a host that wanted the body would answer `100 Continue`
/// (or `413` after reading it); one that refuses first answers at once. The answer's head and
/// body, as text.
async fn announce_a_large_body(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: pipeline-guard.test\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
        2 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut answer),
    )
    .await
    .context("no answer without the body")??;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_request_without_credentials_is_refused_before_its_body_is_read()
-> anyhow::Result<()> {
    on_every_host("no credentials, body unread", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let addr = node.tcp_addr().await?;
        for (path, header) in [
            ("/score-lead/generic", "x-pipeline-guard-signature"),
            ("/gate-handoff/hubspot", "x-hubspot-signature-v3"),
            ("/gate-handoff/pipedrive", "authorization"),
            ("/gate-handoff/salesforce", "x-pipeline-guard-token"),
        ] {
            let answer = announce_a_large_body(addr, path).await?;
            assert!(answer.starts_with("HTTP/1.1 401"), "{path}: {answer}");
            assert!(answer.contains(header), "{path}: {answer}");
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
