//! A record's own page, written once for every kind whose page also carries the forms that
//! change it (offboarding cases, attestation campaigns, policies, exceptions): the page is
//! read and drawn by the kind, and the GET handler, the answer to a form and the page again
//! with a refusal's errors are the same for all.

use std::future::Future;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::Markup;
use uuid::Uuid;

use custodian_app::AppError;

use super::{error_page, html_response, page, Done, Errors, Nav, PageId, Viewer};
use crate::AppState;

/// What a kind's page is made of.
pub struct Drawn {
    /// The page's title.
    pub title: String,
    /// Where it sits in the navigation.
    pub nav: Nav,
    /// Its content.
    pub body: Markup,
}

/// A page as drawn, or why it cannot be.
pub type Drawing = Result<Drawn, AppError>;

/// A kind of record with a page of its own.
pub trait RecordPage {
    /// Where its pages live: the record's page is `{PATH}/{id}`.
    const PATH: &'static str;

    /// The page of record `id`, as the viewer may see it, with the errors of a refused
    /// change shown beside their fields.
    fn draw(
        s: &AppState,
        v: &Viewer,
        id: Uuid,
        errors: &Errors,
    ) -> impl Future<Output = Drawing> + Send;
}

/// `GET {PATH}/{id}`.
pub async fn show<P: RecordPage>(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
) -> Response {
    render::<P>(&s, &v, id, &Errors::none(), StatusCode::OK).await
}

/// The record's page with `errors`, answered with `status`; a record the viewer may not
/// read is its error page.
async fn render<P: RecordPage>(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    match P::draw(s, v, id, errors).await {
        Ok(d) => html_response(status, page(Some(v), &d.title, d.nav, d.body)),
        Err(e) => error_page(Some(v), e),
    }
}

/// The answer to a form posted from the record's page: back to the page saying `what`
/// when the change is taken; the page again with the refusal's errors when the change is
/// invalid (422), stale (412) or against the record's state (409); any other failure as its
/// error page.
pub async fn after_change<P: RecordPage, T>(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    result: Result<T, AppError>,
    what: Done,
) -> Response {
    let e = match result {
        Ok(_) => return super::done(&format!("{}/{id}", P::PATH), what),
        Err(e) => e,
    };
    let status = match e {
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        _ => return error_page(Some(v), e),
    };
    render::<P>(s, v, id, &Errors::from_app(&e), status).await
}
