//! One log line per call, with `tracing`: request id, method, network, caller, duration and
//! status. The id is the client's `x-request-id` when it sends a usable one, else one made
//! here; it is returned in the response's `x-request-id` metadata. Tokens are never
//! logged: the caller is the name given to its token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tonic::{Request, Response, Status};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A call being served.
#[derive(Clone, Debug)]
pub struct Call {
    pub id: String,
    pub method: &'static str,
    pub network: String,
    /// Name of the caller's token, `anonymous` without authentication, `-` before it.
    pub caller: String,
    start: Instant,
}

impl Call {
    pub fn begin<T>(method: &'static str, req: &Request<T>, network: String) -> Call {
        let id = req
            .metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                !v.is_empty()
                    && v.len() <= 64
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
            })
            .map(str::to_string)
            .unwrap_or_else(|| format!("gt-{:06}", NEXT_ID.fetch_add(1, Ordering::Relaxed)));
        Call {
            id,
            method,
            network,
            caller: "-".into(),
            start: Instant::now(),
        }
    }

    /// Log the call's end and return its result with the request id attached.
    pub fn end<T>(self, result: Result<Response<T>, Status>) -> Result<Response<T>, Status> {
        let streaming = self.method == "SolveStream";
        match &result {
            // A stream's end is logged when its last message is sent.
            Ok(_) if streaming => tracing::debug!(
                request_id = %self.id, method = self.method, network = %self.network,
                caller = %self.caller, "stream opened"
            ),
            Ok(_) => self.log_end(None),
            Err(e) => self.log_end(Some(e)),
        }
        let id = self.id.parse().ok();
        match result {
            Ok(mut r) => {
                if let Some(id) = id {
                    r.metadata_mut().insert("x-request-id", id);
                }
                Ok(r)
            }
            Err(mut e) => {
                if let Some(id) = id {
                    e.metadata_mut().insert("x-request-id", id);
                }
                Err(e)
            }
        }
    }

    /// One line: INFO when it succeeded, WARN for a client error, ERROR for a server error.
    pub fn log_end(&self, error: Option<&Status>) {
        let ms = self.start.elapsed().as_secs_f64() * 1e3;
        match error {
            None => tracing::info!(
                request_id = %self.id, method = self.method, network = %self.network,
                caller = %self.caller, duration_ms = format!("{ms:.1}"), status = "OK", "call"
            ),
            Some(e) if e.code() == tonic::Code::Internal || e.code() == tonic::Code::Unknown => {
                tracing::error!(
                    request_id = %self.id, method = self.method, network = %self.network,
                    caller = %self.caller, duration_ms = format!("{ms:.1}"),
                    status = ?e.code(), message = e.message(), "call"
                )
            }
            Some(e) => tracing::warn!(
                request_id = %self.id, method = self.method, network = %self.network,
                caller = %self.caller, duration_ms = format!("{ms:.1}"),
                status = ?e.code(), message = e.message(), "call"
            ),
        }
    }
}
