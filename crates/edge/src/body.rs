//! Reading a request body without ever holding more than the limit, nor waiting longer than
//! the deadline.

use http_body_util::{BodyExt, LengthLimitError, Limited};
use pipeline_guard_core::{
    Error,
    inbound::{BODY_DEADLINE, BODY_LIMIT},
};
use spin_sdk::http::Request;

/// Read the whole body of `request`, refusing it as soon as it passes [`BODY_LIMIT`] or has not
/// arrived within [`BODY_DEADLINE`].
pub async fn read_limited(request: Request) -> Result<(http::request::Parts, Vec<u8>), Error> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT) {
        return Err(Error::BodyTooLarge { limit: BODY_LIMIT });
    }
    let read = Limited::new(body, BODY_LIMIT).collect();
    let timer = spin_sdk::time::sleep(BODY_DEADLINE);
    let read = match futures::future::select(std::pin::pin!(read), std::pin::pin!(timer)).await {
        futures::future::Either::Left((read, _)) => read,
        futures::future::Either::Right(((), _)) => {
            return Err(Error::BodyTimeout {
                seconds: BODY_DEADLINE.as_secs(),
            });
        }
    };
    match read {
        Ok(collected) => Ok((parts, collected.to_bytes().to_vec())),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Error::BodyTooLarge { limit: BODY_LIMIT })
        }
        Err(e) => Err(Error::InvalidBody {
            path: ".".into(),
            message: format!("the request body could not be read: {e}"),
        }),
    }
}
