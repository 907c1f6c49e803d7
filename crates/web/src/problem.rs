//! RFC 9457 problem documents: every error the API answers, mapped in one place.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use custodian_app::AppError;
use custodian_domain::FieldError;

/// An error answered as `application/problem+json`.
#[derive(Debug)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// A short slug naming the kind of problem (`validation`, `not-found`, …).
    pub kind: &'static str,
    /// A short, human-readable summary of the kind.
    pub title: &'static str,
    /// What happened this time.
    pub detail: String,
    /// The fields concerned.
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// A problem without field errors.
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.into(),
            errors: vec![],
        }
    }

    /// 400: the request itself is malformed (bad JSON, a bad parameter).
    pub fn bad_request(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let mut p = Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request is malformed",
            detail.clone(),
        );
        if !field.is_empty() {
            p.errors.push(FieldError::new(field, detail));
        }
        p
    }

    /// 404 for a path no route serves.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "no-route",
            "No such resource",
            format!("nothing is served at {path}"),
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "type": format!("/problems/{}", self.kind),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "errors": self.errors,
        })
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, detail = %self.detail, "request failed");
        }
        let mut r = (self.status, axum::Json(self.body())).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        r
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(p) => {
                let detail = if p.0.len() == 1 {
                    format!("{} {}", p.0[0].field, p.0[0].message)
                } else {
                    format!("{} fields are missing or invalid", p.0.len())
                };
                Problem {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    kind: "validation",
                    title: "The input is invalid",
                    detail,
                    errors: p.0,
                }
            }
            AppError::NotFound { entity, id } => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("{entity} {id} does not exist"),
            ),
            e @ AppError::PreconditionFailed { .. } => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "stale-version",
                "The record has changed",
                e.to_string(),
            ),
            AppError::Conflict { message, field } => {
                let mut p = Problem::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "The change conflicts with the register",
                    message.clone(),
                );
                if let Some(f) = field {
                    p.errors.push(FieldError::new(f, message));
                }
                p
            }
            AppError::Unauthorized(m) => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                m,
            ),
            AppError::Forbidden(m) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", m)
            }
            AppError::TooManyRequests { message, .. } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many attempts",
                message,
            ),
            AppError::Store(custodian_store::StoreError::Unavailable(m)) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The database is unavailable",
                m,
            ),
            AppError::Store(custodian_store::StoreError::Integrity(m)) => {
                tracing::error!("a change was refused: the audit trail cannot be extended: {m}");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "integrity",
                    "The audit trail cannot be extended",
                    "changes are refused until an administrator checks the audit trail (custodian audit verify)",
                )
            }
            AppError::Store(e) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                e.to_string(),
            ),
        }
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, Problem>;
