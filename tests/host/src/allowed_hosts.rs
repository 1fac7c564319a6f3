//! `allowed_outbound_hosts` entries and how Spin matches URLs against them.
//!
//! An entry is `<scheme>://<host>[:<port>]` where
//! - the scheme is a name or `*` (any scheme);
//! - the host is a name, an IP address, a CIDR block (`127.0.0.0/24`), `*`
//!   (any host), `*.example.com` (any subdomain, not the bare domain), or
//!   `self` (requests to the application itself);
//! - the port is a number, a range `8000..9000` (end excluded), or `*`; when
//!   it is left out the scheme's well-known port is meant (`https` → 443,
//!   `http` → 80), so `https://api.example.com` does not allow port 8443.
//!
//! An entry may not carry a path (a single trailing `/` is tolerated).
//! Templated entries (`"{{ crm_api_url }}"`) are rendered first; one that
//! renders to `""`, `"http://"` or `"https://"` is skipped, as in Spin.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;

use anyhow::{Context as _, bail, ensure};
use url::Host;

use crate::template::Template;

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    original: String,
    scheme: SchemePattern,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemePattern {
    Any,
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// Stored with its leading dot: `.example.com`.
    AnySubdomain(String),
    ToSelf,
    Literal(Host),
    Cidr {
        network: IpAddr,
        prefix: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Port(u16),
    Range(Range<u16>),
}

impl AllowedHost {
    /// Parses one literal (already rendered) entry, with Spin's rules and errors.
    pub fn parse(entry: &str) -> anyhow::Result<Self> {
        let url = entry.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            if matches!(url, "*" | ":" | "" | "?") {
                bail!(
                    "{url:?} is not an allowed outbound host format. Hosts must be in the form \
                     <scheme>://<host>[:<port>], with '*' wildcards allowed for each. To allow all \
                     outbound networking use '*://*:*'."
                );
            }
            bail!("{url:?} does not contain a scheme (e.g., 'http://' or '*://')");
        };
        let (host, port) = match rest.rsplit_once(':') {
            None => (rest, ""),
            Some((h, "")) => (h, ""),
            Some((h, tail)) => {
                if HostPattern::parse(rest).is_ok() {
                    (rest, "")
                } else {
                    let port = match tail.split_once('/') {
                        Some((port, path)) => {
                            ensure!(path.is_empty(), "{url:?} has a path but is not allowed to");
                            port
                        }
                        None => tail,
                    };
                    (h, port)
                }
            }
        };
        let port = PortPattern::parse(port, scheme)
            .with_context(|| format!("Invalid allowed host port {port:?}"))?;
        let scheme = SchemePattern::parse(scheme)
            .with_context(|| format!("Invalid allowed host scheme {scheme:?}"))?;
        let host =
            HostPattern::parse(host).with_context(|| format!("Invalid allowed host {host:?}"))?;
        Ok(Self {
            original: entry.to_string(),
            scheme,
            host,
            port,
        })
    }

    /// True if a request to `scheme://host[:port]` is allowed by this entry.
    /// `port` is `None` when the URL does not name one (the scheme's default).
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.scheme.allows(scheme) && self.host.allows(host) && self.port.allows(port, scheme)
    }

    /// True if this entry allows relative ("self") requests with one of `schemes`.
    pub fn allows_relative(&self, schemes: &[&str]) -> bool {
        schemes.iter().any(|s| self.scheme.allows(s))
            && matches!(self.host, HostPattern::Any | HostPattern::ToSelf)
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl SchemePattern {
    fn parse(scheme: &str) -> anyhow::Result<Self> {
        if scheme == "*" {
            return Ok(Self::Any);
        }
        ensure!(!scheme.starts_with('{'), "scheme lists are not supported");
        ensure!(
            scheme.chars().all(char::is_alphabetic),
            "only alphabetic characters are allowed"
        );
        Ok(Self::Exact(scheme.to_string()))
    }

    fn allows(&self, scheme: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(s) => s == scheme,
        }
    }
}

impl HostPattern {
    fn parse(host: &str) -> anyhow::Result<Self> {
        let mut host = host.trim();
        if host == "*" {
            return Ok(Self::Any);
        }
        if host == "self" || host == "self.alt" {
            return Ok(Self::ToSelf);
        }
        if host.starts_with('{') {
            bail!("host lists are not yet supported");
        }
        if let Some(cidr) = parse_cidr(host) {
            return Ok(cidr);
        }
        host = host.strip_suffix('/').unwrap_or(host);
        ensure!(!host.contains('/'), "must not include a path");
        if let Some(domain) = host.strip_prefix("*.") {
            ensure!(
                !domain.contains('*'),
                "wildcards are allowed only as prefixes"
            );
            let parsed = Host::parse(domain)
                .with_context(|| format!("invalid wildcard host \"*.{domain}\""))?;
            let Host::Domain(domain) = parsed else {
                bail!("wildcard suffix must be a domain");
            };
            return Ok(Self::AnySubdomain(format!(".{domain}")));
        }
        ensure!(
            !host.contains('*'),
            "wildcards are allowed only as subdomains"
        );
        Ok(Self::Literal(Host::parse(host)?))
    }

    fn allows(&self, host: &str) -> bool {
        let Ok(host) = Host::parse(host) else {
            return false;
        };
        match (self, host) {
            (Self::Any, _) => true,
            (Self::AnySubdomain(suffix), Host::Domain(domain)) => domain.ends_with(suffix.as_str()),
            (Self::Literal(literal), host) => host == *literal,
            (Self::Cidr { network, prefix }, Host::Ipv4(ip)) => {
                cidr_contains(*network, *prefix, IpAddr::V4(ip))
            }
            (Self::Cidr { network, prefix }, Host::Ipv6(ip)) => {
                cidr_contains(*network, *prefix, IpAddr::V6(ip))
            }
            (Self::AnySubdomain(_) | Self::Cidr { .. } | Self::ToSelf, _) => false,
        }
    }
}

/// Parses `addr/prefix` (no brackets), truncating host bits like Spin does.
fn parse_cidr(text: &str) -> Option<HostPattern> {
    let (addr, prefix) = text.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return None;
    }
    Some(HostPattern::Cidr {
        network: mask(addr, prefix),
        prefix,
    })
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & m).into())
        }
    }
}

fn cidr_contains(network: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    network.is_ipv4() == ip.is_ipv4() && mask(ip, prefix) == network
}

impl PortPattern {
    fn parse(port: &str, scheme: &str) -> anyhow::Result<Self> {
        if port.is_empty() {
            return well_known_port(scheme).map(Self::Port).with_context(|| {
                format!(
                    "no port was provided and the scheme {scheme:?} does not have a known default port number"
                )
            });
        }
        if port == "*" {
            return Ok(Self::Any);
        }
        ensure!(!port.starts_with('{'), "port lists are not yet supported");
        if let Some((start, end)) = port.split_once("..") {
            let start = start
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            let end = end
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            return Ok(Self::Range(start..end));
        }
        Ok(Self::Port(port.parse().with_context(|| {
            format!("port {port:?} is not a number")
        })?))
    }

    fn allows(&self, port: Option<u16>, scheme: &str) -> bool {
        let port = match (self, port.or_else(|| well_known_port(scheme))) {
            (Self::Any, _) => return true,
            (_, None) => return false,
            (_, Some(p)) => p,
        };
        match self {
            Self::Any => true,
            Self::Port(p) => *p == port,
            Self::Range(r) => r.contains(&port),
        }
    }
}

fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn reject_allow_all(entries: &[String]) -> anyhow::Result<()> {
    ensure!(
        !(entries.len() == 1 && entries[0] == "insecure:allow-all"),
        "'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic"
    );
    Ok(())
}

/// Parses a rendered template; `None` for the "optional endpoint" renderings
/// Spin skips (`""`, `"http://"`, `"https://"`).
fn parse_rendered(entry: &str, rendered: &str) -> anyhow::Result<Option<AllowedHost>> {
    if rendered.is_empty() || rendered == "http://" || rendered == "https://" {
        return Ok(None);
    }
    AllowedHost::parse(rendered).map(Some).with_context(|| {
        format!("allowed_outbound_hosts entry {entry:?} renders to an invalid host {rendered:?}")
    })
}

/// The resolved `allowed_outbound_hosts` of one component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    hosts: Vec<AllowedHost>,
}

impl AllowedHosts {
    /// Renders and parses the manifest entries, with `values` holding every
    /// application variable's value.
    /// (Spin, at run time, denies every request of a component whose
    /// entries fail to resolve.)
    pub fn resolve(entries: &[String], values: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        reject_allow_all(entries)?;
        let mut hosts = Vec::with_capacity(entries.len());
        for entry in entries {
            let template = Template::parse(entry)?;
            if template.is_literal() {
                hosts.push(AllowedHost::parse(entry)?);
                continue;
            }
            let rendered = template.render(values)?;
            if let Some(host) = parse_rendered(entry, &rendered)? {
                hosts.push(host);
            }
        }
        Ok(Self { hosts })
    }

    /// Spin's load-time check: literal entries must parse, and so must
    /// templated ones whose variables all have defaults (given in `defaults`)
    /// once rendered with them.
    pub fn validate(entries: &[String], defaults: &BTreeMap<String, String>) -> anyhow::Result<()> {
        reject_allow_all(entries)?;
        for entry in entries {
            let template = Template::parse(entry)?;
            if template.is_literal() {
                AllowedHost::parse(entry)?;
            } else if let Ok(rendered) = template.render(defaults) {
                parse_rendered(entry, &rendered)?;
            }
        }
        Ok(())
    }

    /// Checks an absolute URL such as `http://127.0.0.1:8080/path?q`.
    /// `default_scheme` is assumed when the URL has none (Spin uses `https`).
    /// URLs that cannot be parsed are refused.
    pub fn allows_url(&self, url: &str, default_scheme: &str) -> bool {
        let parsed = match url::Url::parse(url) {
            Ok(u) if u.has_host() => Some(u),
            _ => url::Url::parse(&format!("{default_scheme}://{url}")).ok(),
        };
        let Some(parsed) = parsed else {
            return false;
        };
        let Some(host) = parsed.host_str() else {
            return false;
        };
        self.hosts
            .iter()
            .any(|h| h.allows(parsed.scheme(), host, parsed.port()))
    }

    /// Checks a relative ("self") request.
    pub fn allows_relative(&self, schemes: &[&str]) -> bool {
        self.hosts.iter().any(|h| h.allows_relative(schemes))
    }

    /// The parsed entries.
    pub fn entries(&self) -> &[AllowedHost] {
        &self.hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str]) -> AllowedHosts {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowedHosts::resolve(&entries, &BTreeMap::new()).expect("valid entries")
    }

    #[test]
    fn default_ports_come_from_the_scheme() {
        let a = allowed(&["https://api.example.com", "http://127.0.0.1:8080"]);
        assert!(a.allows_url("https://api.example.com/v1/x?y=1", "https"));
        assert!(a.allows_url("https://api.example.com:443/", "https"));
        assert!(!a.allows_url("https://api.example.com:8443/", "https"));
        assert!(!a.allows_url("http://api.example.com/", "https"));
        assert!(a.allows_url("http://127.0.0.1:8080/crm", "https"));
        assert!(!a.allows_url("http://127.0.0.1:8081/crm", "https"));
        assert!(!a.allows_url("http://127.0.0.1/crm", "https"));
        assert!(!a.allows_url("http://localhost:8080/crm", "https"));
        assert!(!a.allows_url("https://evil.example.org/", "https"));
    }

    #[test]
    fn wildcards() {
        let a = allowed(&[
            "http://*.example.com",
            "*://db.local:*",
            "https://x.dev:8000..9000",
        ]);
        assert!(a.allows_url("http://a.example.com/", "https"));
        assert!(a.allows_url("http://a.b.example.com/", "https"));
        assert!(!a.allows_url("http://example.com/", "https"));
        assert!(!a.allows_url("http://myexample.com/", "https"));
        assert!(!a.allows_url("http://a.example.com:8080/", "https"));
        assert!(a.allows_url("postgres://db.local:1234", "https"));
        assert!(a.allows_url("http://db.local/", "https"));
        assert!(a.allows_url("https://x.dev:8000/", "https"));
        assert!(!a.allows_url("https://x.dev:9000/", "https"));
        let all = allowed(&["*://*:*"]);
        assert!(all.allows_url("http://anything:1/", "https"));
        assert!(all.allows_relative(&["http"]));
    }

    #[test]
    fn ip_addresses_and_cidr() {
        let a = allowed(&["*://127.0.0.1/24:80", "http://[::1]:8001"]);
        assert!(a.allows_url("http://127.0.0.99/", "https"));
        assert!(!a.allows_url("http://127.0.1.1/", "https"));
        assert!(a.allows_url("http://[::1]:8001/x", "https"));
        assert!(!a.allows_url("http://[::2]:8001/x", "https"));
        assert!(AllowedHost::parse("*://127.0.0.0/24").is_err());
    }

    #[test]
    fn rejects_what_spin_rejects() {
        for bad in [
            "example.com",
            "example.com:8080",
            "*",
            "http://example.com/a",
            "http://example.com:80/a",
            "http://*.example.com/p",
            "http://exa*mple.com",
            "http://*.127.0.0.1",
            "http://example.com:99999",
            "http://example.com//",
            "{http,https}://x.com",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad} should be rejected");
        }
        for good in [
            "http://example.com/",
            "http://example.com:4444/",
            "http://self",
            "http://localhost:3001",
            "*://ff00::/8:80",
        ] {
            assert!(
                AllowedHost::parse(good).is_ok(),
                "{good} should be accepted"
            );
        }
        let entries = vec!["insecure:allow-all".to_string()];
        assert!(AllowedHosts::resolve(&entries, &BTreeMap::new()).is_err());
    }

    #[test]
    fn templates_are_rendered_and_empty_results_skipped() {
        let values = BTreeMap::from([
            (
                "crm_api_url".to_string(),
                "http://127.0.0.1:4000".to_string(),
            ),
            ("optional".to_string(), String::new()),
        ]);
        let entries = vec![
            "{{ crm_api_url }}".to_string(),
            "https://{{ optional }}".to_string(),
        ];
        let a = AllowedHosts::resolve(&entries, &values).expect("resolves");
        assert_eq!(a.entries().len(), 1);
        assert!(a.allows_url("http://127.0.0.1:4000/crm/v3/objects", "https"));
        assert!(!a.allows_url("http://127.0.0.1:4001/", "https"));
        let bad = BTreeMap::from([("crm_api_url".to_string(), "not a url".to_string())]);
        assert!(AllowedHosts::resolve(&entries[..1], &bad).is_err());
    }

    #[test]
    fn validation_uses_defaults_only() {
        let entries = vec!["{{ url }}".to_string(), "{{ required }}".to_string()];
        let good = BTreeMap::from([("url".to_string(), "http://127.0.0.1:1".to_string())]);
        assert!(AllowedHosts::validate(&entries, &good).is_ok());
        let bad = BTreeMap::from([("url".to_string(), "https://x.com/api".to_string())]);
        assert!(AllowedHosts::validate(&entries, &bad).is_err());
        assert!(AllowedHosts::validate(&["nope".to_string()], &BTreeMap::new()).is_err());
    }

    #[test]
    fn relative_requests_need_self() {
        assert!(allowed(&["http://self"]).allows_relative(&["http", "https"]));
        assert!(!allowed(&["http://example.com"]).allows_relative(&["http", "https"]));
    }
}
