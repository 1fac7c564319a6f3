//! HTTP routing as Spin's HTTP trigger does it, and the `spin-*` headers it
//! adds to the request a component receives.
//!
//! Routes are exact (`/health`), with named segments (`/leads/:id`) or with a
//! trailing wildcard (`/score-lead/...`). When several match, exact segments
//! beat named ones, which beat wildcards, segment by segment (so the longest
//! wildcard prefix wins). A route listed twice goes to the last component
//! listing it; `route = { private = true }` is not routable.

use std::net::SocketAddr;

use anyhow::anyhow;

use crate::manifest::HttpTrigger;

/// The routes of an application.
#[derive(Debug)]
pub struct Router {
    finder: routefinder::Router<RouteEntry>,
}

#[derive(Debug, Clone)]
struct RouteEntry {
    component: String,
    /// The route as written in the manifest.
    raw_route: String,
    /// The route with the (always empty) base path applied.
    based_route: String,
}

/// A successful routing decision for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The component that handles the request.
    pub component: String,
    /// The route as written in the manifest (`spin-raw-component-route`).
    pub raw_route: String,
    /// The route with the base applied (`spin-matched-route`).
    pub based_route: String,
    /// The part of the path matched by a trailing `/...` (`spin-path-info`).
    pub path_info: String,
    /// `:name` segments and what they matched.
    pub named: Vec<(String, String)>,
}

impl Router {
    /// Builds the router from the manifest's `[[trigger.http]]` entries.
    pub fn build(triggers: &[HttpTrigger]) -> anyhow::Result<Self> {
        let mut entries: Vec<RouteEntry> = Vec::new();
        for trigger in triggers {
            let Some(raw_route) = &trigger.route else {
                continue;
            };
            let entry = RouteEntry {
                component: trigger.component.clone(),
                raw_route: raw_route.clone(),
                based_route: with_base(raw_route),
            };
            match entries.iter_mut().find(|e| e.raw_route == *raw_route) {
                Some(existing) => *existing = entry,
                None => entries.push(entry),
            }
        }
        let mut finder = routefinder::Router::new();
        for entry in entries {
            let spec = match entry.based_route.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => entry.based_route.clone(),
            };
            finder.add(spec, entry.clone()).map_err(|e| {
                anyhow!(
                    "Error parsing route {} associated with component {}: {e}",
                    entry.based_route,
                    entry.component
                )
            })?;
        }
        Ok(Self { finder })
    }

    /// The route for `path` (without query), if any.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let found = self.finder.best_match(path)?;
        let entry = found.handler();
        let captures = found.captures();
        let path_info = match captures.wildcard() {
            None => String::new(),
            // Spin keeps a trailing slash, which routefinder drops.
            Some(w) => match (w.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_string(),
                (false, false) => format!("/{w}"),
                (false, true) => format!("/{w}/"),
            },
        };
        Some(RouteMatch {
            component: entry.component.clone(),
            raw_route: entry.raw_route.clone(),
            based_route: entry.based_route.clone(),
            path_info,
            named: captures
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
    }
}

/// Applies Spin's (always `/`) base: make absolute, drop one trailing slash.
fn with_base(route: &str) -> String {
    let absolute = if route.starts_with('/') {
        route.to_string()
    } else {
        format!("/{route}")
    };
    absolute
        .strip_suffix('/')
        .map(str::to_string)
        .unwrap_or(absolute)
}

impl RouteMatch {
    /// The `spin-*` headers Spin adds for this match. `full_url` is
    /// `scheme://host/path?query` of the incoming request.
    pub fn spin_headers(&self, full_url: &str, client_addr: SocketAddr) -> Vec<(String, String)> {
        let component_route = self
            .raw_route
            .strip_suffix("/...")
            .unwrap_or(&self.raw_route);
        let mut headers = vec![
            ("spin-path-info".to_string(), self.path_info.clone()),
            ("spin-full-url".to_string(), full_url.to_string()),
            ("spin-matched-route".to_string(), self.based_route.clone()),
            ("spin-base-path".to_string(), "/".to_string()),
            (
                "spin-raw-component-route".to_string(),
                self.raw_route.clone(),
            ),
            (
                "spin-component-route".to_string(),
                component_route.to_string(),
            ),
            ("spin-client-addr".to_string(), client_addr.to_string()),
        ];
        for (name, value) in &self.named {
            headers.push((
                format!("spin-path-match-{}", name.to_ascii_lowercase()),
                value.clone(),
            ));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let triggers: Vec<HttpTrigger> = routes
            .iter()
            .map(|(component, route)| HttpTrigger {
                id: None,
                route: Some(route.to_string()),
                component: component.to_string(),
            })
            .collect();
        Router::build(&triggers).expect("valid routes")
    }

    fn component(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.component)
    }

    #[test]
    fn exact_and_wildcard_routes() {
        let r = router(&[
            ("score", "/score-lead/..."),
            ("gate", "/gate-handoff"),
            ("all", "/..."),
        ]);
        assert_eq!(component(&r, "/score-lead").as_deref(), Some("score"));
        assert_eq!(
            component(&r, "/score-lead/hubspot").as_deref(),
            Some("score")
        );
        assert_eq!(component(&r, "/gate-handoff").as_deref(), Some("gate"));
        assert_eq!(component(&r, "/gate-handoff/x").as_deref(), Some("all"));
        assert_eq!(component(&r, "/other").as_deref(), Some("all"));
        let no_catch_all = router(&[("gate", "/gate-handoff")]);
        assert_eq!(component(&no_catch_all, "/gate-handoffs"), None);
        assert_eq!(component(&no_catch_all, "/"), None);
    }

    #[test]
    fn longest_wildcard_and_exact_win() {
        let r = router(&[
            ("one", "/one/..."),
            ("two", "/one/two/..."),
            ("exact", "/one/two"),
        ]);
        assert_eq!(component(&r, "/one/two/three").as_deref(), Some("two"));
        assert_eq!(component(&r, "/one/two").as_deref(), Some("exact"));
        assert_eq!(component(&r, "/one/x").as_deref(), Some("one"));
    }

    #[test]
    fn duplicates_go_to_the_last_and_private_routes_are_skipped() {
        let mut triggers = vec![
            HttpTrigger {
                id: None,
                route: Some("/a".into()),
                component: "first".into(),
            },
            HttpTrigger {
                id: None,
                route: Some("/a".into()),
                component: "second".into(),
            },
        ];
        triggers.push(HttpTrigger {
            id: None,
            route: None,
            component: "private".into(),
        });
        let r = Router::build(&triggers).expect("valid");
        assert_eq!(component(&r, "/a").as_deref(), Some("second"));
    }

    #[test]
    fn path_info_keeps_trailing_slashes() {
        let r = router(&[("c", "/test/...")]);
        let info = |p: &str| r.route(p).map(|m| m.path_info);
        assert_eq!(info("/test").as_deref(), Some(""));
        assert_eq!(info("/test/").as_deref(), Some("/"));
        assert_eq!(info("/test/hello").as_deref(), Some("/hello"));
        assert_eq!(info("/test/hello/").as_deref(), Some("/hello/"));
        assert_eq!(info("/test/a/b").as_deref(), Some("/a/b"));
    }

    #[test]
    fn spin_headers_match_spin() {
        let r = router(&[("c", "/foo/:userid/...")]);
        let m = r.route("/foo/42/bar").expect("matches");
        let addr: SocketAddr = "127.0.0.1:8777".parse().expect("addr");
        let headers = m.spin_headers("https://fermyon.dev/foo/42/bar?k=v", addr);
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("spin-full-url"),
            Some("https://fermyon.dev/foo/42/bar?k=v")
        );
        assert_eq!(get("spin-path-info"), Some("/bar"));
        assert_eq!(get("spin-matched-route"), Some("/foo/:userid/..."));
        assert_eq!(get("spin-base-path"), Some("/"));
        assert_eq!(get("spin-raw-component-route"), Some("/foo/:userid/..."));
        assert_eq!(get("spin-component-route"), Some("/foo/:userid"));
        assert_eq!(get("spin-client-addr"), Some("127.0.0.1:8777"));
        assert_eq!(get("spin-path-match-userid"), Some("42"));
    }
}
