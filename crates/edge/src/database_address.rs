//! Where the shared database is: `database_url` (`postgres://user:password@host:port/db`, a
//! secret) and `database_host` (`postgres://host:port`), the one host `spin.toml` lets the
//! functions call. Spin's templates cannot take a host out of a URL, and
//! `allowed_outbound_hosts` refuses a URL with a user or a path, so the host is given twice;
//! a `database_url` whose host and port are not `database_host`'s is refused here, naming both,
//! rather than by Spin at connect time with a message that names neither.

use pipeline_guard_core::Error;

/// PostgreSQL's port when a URL names none.
const DEFAULT_PORT: u16 = 5432;

/// `url`, when its host and port are `allowed_host`'s.
pub fn checked_url<'a>(url: &'a str, allowed_host: &str) -> Result<&'a str, Error> {
    let url = url.trim();
    let database = host_and_port(url).ok_or_else(|| {
        Error::Config(
            "variable `database_url` is not a postgres://user:password@host:port/database URL"
                .into(),
        )
    })?;
    let allowed = host_and_port(allowed_host.trim())
        .filter(|_| !allowed_host.contains('@'))
        .ok_or_else(|| {
            Error::Config(format!(
                "variable `database_host` is {allowed_host:?}: set it to postgres://{}:{} \
                 (the host and port of `database_url`), which spin.toml lets the functions call",
                database.0, database.1
            ))
        })?;
    if database != allowed {
        return Err(Error::Config(format!(
            "variable `database_url` names the host {}:{} but `database_host` is {}:{}: \
             set `database_host` to postgres://{}:{} (Spin refuses any other host)",
            database.0, database.1, allowed.0, allowed.1, database.0, database.1
        )));
    }
    Ok(url)
}

/// The host (lowercase) and port of a `postgres://` or `postgresql://` URL.
fn host_and_port(url: &str) -> Option<(String, u16)> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(port) => port.parse().ok()?,
        None => DEFAULT_PORT,
    };
    Some((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_on_the_allowed_host_is_used_as_it_is() {
        let url = "postgres://guard:s3cret@db.internal:6543/pipeline?sslmode=require";
        assert_eq!(
            checked_url(url, "postgres://DB.internal:6543").unwrap(),
            url
        );
        assert!(checked_url("postgres://u:p@db/x", "postgres://db:5432").is_ok());
        assert!(checked_url("postgresql://u@[::1]:5433/x", "postgres://[::1]:5433").is_ok());
    }

    #[test]
    fn another_host_or_port_is_refused_naming_both() {
        let Err(Error::Config(message)) = checked_url(
            "postgres://u:p@db.internal:6543/x",
            "postgres://db.internal:5432",
        ) else {
            panic!("accepted")
        };
        assert!(message.contains("db.internal:6543"), "{message}");
        assert!(message.contains("db.internal:5432"), "{message}");
        let Err(Error::Config(message)) = checked_url("postgres://u:p@db:5432/x", "") else {
            panic!("accepted")
        };
        assert!(message.contains("`database_host`"), "{message}");
        assert!(checked_url("host=db dbname=x", "postgres://db:5432").is_err());
        assert!(checked_url("postgres://u:p@db/x", "postgres://u@db:5432").is_err());
    }
}
