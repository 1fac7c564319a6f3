//! Reads Pipedrive's API v2 from its official SDK (npm `pipedrive`, `dist/versions/v2`), which
//! holds the v2 models and operations Pipedrive generated from its v2 OpenAPI description (the
//! description itself is not published in a package).
//!
//! - `api/<tag>-api.js`: each operation's request builder: its path (`localVarPath`), method,
//!   query parameters (`localVarQueryParameter['…']`) and body (`serializeDataIfNeeded(Body, …)`).
//! - `api/<tag>-api.d.ts`: the body's and the answer's model names.
//! - `models/*.d.ts`: the models ([`typescript`](crate::typescript)).

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::LoadError;
use crate::operation::{Api, Operation, template};
use crate::shape::{Schemas, Shape};
use crate::typescript;

/// Reads `dist/versions/v2` of the SDK at `root`, mounting its paths under `mount` (`/api/v2`).
pub(crate) fn load(root: &Path, mount: &str) -> Result<Api, LoadError> {
    let v2 = root.join("dist/versions/v2");
    let mut schemas = Schemas::default();
    for file in files(&v2.join("models"), ".d.ts")? {
        schemas.0.extend(typescript::declarations(&read(&file)?));
    }
    let mut operations = Vec::new();
    for script in files(&v2.join("api"), ".js")? {
        let declarations = read(&script.with_extension("d.ts"))?;
        operations.extend(
            builders(&read(&script)?)
                .into_iter()
                .map(|builder| builder.operation(&declarations, mount)),
        );
    }
    if operations.is_empty() || schemas.0.is_empty() {
        return Err(LoadError::Sdk {
            path: v2,
            reason: "no operations or models found".into(),
        });
    }
    Ok(Api {
        title: "Pipedrive API v2".into(),
        operations,
        schemas,
    })
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })
}

fn files(dir: &Path, suffix: &str) -> Result<Vec<std::path::PathBuf>, LoadError> {
    let read_error = |source| LoadError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| {
                name.ends_with(suffix) && (suffix != ".js" || !name.ends_with(".d.js"))
            })
        {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// One request builder in an `api/*.js` file.
#[derive(Debug, Default)]
struct Builder {
    name: String,
    path: String,
    method: String,
    query: BTreeSet<String>,
    body: Option<String>,
}

/// Text between `start` and the next `end` after it in `line`.
fn between<'a>(line: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &line[line.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

fn builders(script: &str) -> Vec<Builder> {
    let mut found: Vec<Builder> = Vec::new();
    for line in script.lines() {
        let trimmed = line.trim_start();
        if trimmed.contains(") => __awaiter(") {
            if let Some((name, _)) = trimmed.split_once(": (") {
                found.push(Builder {
                    name: name.to_owned(),
                    ..Builder::default()
                });
            }
            continue;
        }
        let Some(builder) = found.last_mut() else {
            continue;
        };
        if let Some(path) = between(trimmed, "const localVarPath = `", "`") {
            builder.path = path.to_owned();
        } else if let Some(method) = between(trimmed, "{ method: '", "'") {
            builder.method = method.to_owned();
        } else if let Some(name) = between(trimmed, "localVarQueryParameter['", "']") {
            builder.query.insert(name.to_owned());
        } else if let Some(body) = between(trimmed, "serializeDataIfNeeded)(", ",") {
            builder.body = Some(body.to_owned());
        }
    }
    found.retain(|builder| !builder.path.is_empty() && !builder.method.is_empty());
    found
}

impl Builder {
    fn operation(self, declarations: &str, mount: &str) -> Operation {
        // `updateDeal: (id: number, UpdateDealRequest?: UpdateDealRequest) => Promise<RequestArgs>;`
        let request = self.body.as_ref().and_then(|body| {
            declarations
                .lines()
                .map(str::trim_start)
                .find(|line| line.starts_with(&format!("{}: (", self.name)))
                .and_then(|line| {
                    between(line, &format!("{body}?: "), ")")
                        .or_else(|| between(line, &format!("{body}: "), ")"))
                })
                .map(|model| Shape::Ref(model.split(',').next().unwrap_or(model).trim().to_owned()))
        });
        // `updateDeal(…): Promise<(axios?: AxiosInstance, basePath?: string) => Promise<UpsertDealResponse>>;`
        let response = declarations
            .lines()
            .map(str::trim_start)
            .find(|line| {
                line.starts_with(&format!("{}(", self.name)) && line.contains("=> Promise<")
            })
            .and_then(|line| line.rsplit_once("=> Promise<"))
            .map(|(_, model)| model.trim_end_matches(">>;").to_owned())
            .filter(|model| model.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .map(Shape::Ref);
        Operation {
            template: template(&format!("{mount}{}", self.path)),
            id: self.name,
            method: self.method,
            query: self.query,
            request,
            response,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "        updateDeal: (id, UpdateDealRequest) => __awaiter(this, void 0, void 0, function* () {
            const localVarPath = `/deals/{id}`
            const localVarRequestOptions = Object.assign({ method: 'PATCH' }, baseOptions);
            localVarRequestOptions.data = (0, common_1.serializeDataIfNeeded)(UpdateDealRequest, localVarRequestOptions, configuration);
        }),
        getDeals: (ids, limit) => __awaiter(this, void 0, void 0, function* () {
            const localVarPath = `/deals`;
            const localVarRequestOptions = Object.assign({ method: 'GET' }, baseOptions);
                localVarQueryParameter['ids'] = ids;
                localVarQueryParameter['limit'] = limit;
        }),";

    const DECLARATIONS: &str = "    updateDeal: (id: number, UpdateDealRequest?: UpdateDealRequest) => Promise<RequestArgs>;
    updateDeal(id: number, UpdateDealRequest?: UpdateDealRequest): Promise<(axios?: AxiosInstance, basePath?: string) => Promise<UpsertDealResponse>>;
    getDeals(ids?: string, limit?: number): Promise<(axios?: AxiosInstance, basePath?: string) => Promise<GetDealsResponse>>;";

    #[test]
    fn reads_request_builders_and_their_models() {
        let operations: Vec<Operation> = builders(SCRIPT)
            .into_iter()
            .map(|builder| builder.operation(DECLARATIONS, "/api/v2"))
            .collect();
        assert_eq!(operations[0].id, "updateDeal");
        assert_eq!(operations[0].method, "PATCH");
        assert_eq!(operations[0].template, template("/api/v2/deals/{id}"));
        assert_eq!(
            operations[0].request,
            Some(Shape::Ref("UpdateDealRequest".into()))
        );
        assert_eq!(
            operations[0].response,
            Some(Shape::Ref("UpsertDealResponse".into()))
        );
        assert_eq!(
            operations[1].query,
            BTreeSet::from(["ids".to_owned(), "limit".to_owned()])
        );
        assert_eq!(
            operations[1].response,
            Some(Shape::Ref("GetDealsResponse".into()))
        );
    }
}
