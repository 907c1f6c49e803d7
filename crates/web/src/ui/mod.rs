//! The web interface: server-rendered HTML over the same application services as the API.
//!
//! Every page works without JavaScript; `app.js` only adds conveniences. Forms post
//! `application/x-www-form-urlencoded` with the session's CSRF token as `_csrf` (checked
//! in [`crate::auth`]); a successful change answers `303 See Other` to the page that shows
//! it, a refused one renders the form again with the errors beside their fields.
//! Markup is built with `maud`, which escapes every interpolated value.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup, DOCTYPE};

use custodian_app::{AppError, Ctx};
use custodian_domain::access::{Principal, Role, Via};
use custodian_domain::account::User;
use custodian_domain::FieldError;

use crate::auth::SessionCookie;
use crate::problem::Problem;
use crate::AppState;

pub(crate) mod accounts;
mod admin;
mod assets;
mod audit;
mod cases;
mod compliance;
mod home;
mod labels;
mod people;
mod record;
mod reference;
mod reports;
mod stocktakes;
mod workflows;

/// The stylesheet.
const CSS: &str = include_str!("../../static/app.css");
/// Progressive enhancements.
const JS: &str = include_str!("../../static/app.js");

/// The pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route(
            "/sign-in",
            get(accounts::sign_in_page).post(accounts::sign_in),
        )
        .route("/sign-out", post(accounts::sign_out))
        .route(
            "/setup/{token}",
            get(accounts::setup_page).post(accounts::complete_setup),
        )
        .route("/account", get(accounts::account_page))
        .route("/account/password", post(accounts::change_password))
        .route("/account/totp", post(accounts::enrol_totp))
        .route("/account/totp/confirm", post(accounts::confirm_totp))
        .route("/assets", get(assets::list))
        .route("/assets/export.csv", get(assets::export_csv))
        .route("/assets/new", get(assets::new_form).post(assets::create))
        .route("/assets/{id}", get(assets::show))
        .route(
            "/assets/{id}/edit",
            get(assets::edit_form).post(assets::update),
        )
        .route("/assets/{id}/transition", post(assets::transition))
        .route("/assets/{id}/reveal", post(assets::reveal))
        .route("/assets/{id}/review", post(assets::review))
        .route("/assets/{id}/dispose", get(assets::dispose_form))
        .route("/people", get(people::list))
        .route("/people/new", get(people::new_form).post(people::create))
        .route("/people/{id}", get(people::show))
        .route(
            "/people/{id}/edit",
            get(people::edit_form).post(people::update),
        )
        .route(
            "/locations",
            get(reference::locations).post(reference::create_location),
        )
        .route("/classifications", get(reference::classifications))
        .route(
            "/custom-fields",
            get(reference::custom_fields).post(admin::create_custom_field),
        )
        .route("/users", get(accounts::users).post(accounts::create_user))
        .route("/users/{id}", get(admin::user).post(admin::update_user))
        .route("/users/{id}/sessions/end", post(admin::end_sessions))
        .route("/users/{id}/totp/reset", post(admin::reset_totp))
        .route(
            "/classifications/new",
            get(admin::new_level).post(admin::create_level),
        )
        .route(
            "/classifications/{key}/edit",
            get(admin::edit_level).post(admin::update_level),
        )
        .route(
            "/tokens",
            get(accounts::tokens).post(accounts::create_token),
        )
        .route("/tokens/{id}/revoke", post(accounts::revoke_token))
        .route("/audit", get(audit::audit))
        .route("/audit/export", get(audit::export))
        .route(
            "/acceptable-use",
            get(workflows::acceptable_use).post(workflows::acknowledge),
        )
        .route("/policies", get(workflows::policies))
        .route("/policies/rules", post(workflows::update_rules))
        .route("/policies/draft", post(workflows::draft_policy))
        .route(
            "/policies/new",
            get(workflows::new_policy).post(workflows::create_policy),
        )
        .route("/policies/{id}", get(record::show::<workflows::PolicyPage>))
        .route(
            "/policies/{id}/edit",
            get(workflows::edit_policy).post(workflows::update_policy),
        )
        .route("/policies/{id}/approve", post(workflows::approve_policy))
        .route("/policies/{id}/reviews", post(workflows::review_policy))
        .route("/assets/{id}/issue", post(assets::issue))
        .route("/assets/{id}/report", post(assets::report))
        .route("/assets/{id}/incident", post(assets::add_incident_ref))
        .route(
            "/assignments/{id}/return",
            get(assets::assignment_home).post(assets::take_back),
        )
        .route("/off-premises", get(workflows::off_premises))
        .route("/offboardings", get(cases::offboardings))
        .route("/offboardings/{id}", get(record::show::<cases::CasePage>))
        .route("/offboardings/{id}/close", post(cases::close))
        .route("/offboardings/{id}/refresh", post(cases::refresh))
        .route("/offboardings/{id}/edit", post(cases::edit))
        .route(
            "/offboardings/{id}/items/{item_id}/settle",
            post(cases::settle),
        )
        .route(
            "/attestations",
            get(cases::attestations).post(cases::open_attestation),
        )
        .route(
            "/attestations/{id}",
            get(record::show::<cases::CampaignPage>),
        )
        .route("/attestations/{id}/answer", post(cases::answer))
        .route("/attestations/{id}/close", post(cases::close_attestation))
        .route("/exceptions", get(workflows::exceptions))
        .route(
            "/exceptions/new",
            get(workflows::new_exception).post(workflows::create_exception),
        )
        .route(
            "/exceptions/{id}",
            get(record::show::<workflows::ExceptionPage>),
        )
        .route("/exceptions/{id}/decide", post(workflows::decide))
        .route("/labels", get(labels::sheet))
        .route("/compliance", get(compliance::overview))
        .route("/compliance/run", post(compliance::run))
        .route("/reports", get(reports::overview))
        .route("/reports/sample", post(reports::sample))
        .merge(stocktakes::routes())
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, ty: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

/// A signed-in person looking at a page.
pub struct Viewer {
    /// The request's context (for the services).
    pub ctx: Ctx,
    /// Who they are.
    pub principal: Principal,
    /// Their account.
    pub user: User,
    /// The CSRF token their forms carry.
    pub csrf: String,
    /// What the action that led here did (`?done=…` after a form).
    pub done: Option<Done>,
}

/// What a successful form did, said on the page it leads to. A fixed vocabulary named in
/// the address (`?done=saved`), so that a link cannot make a page say anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    /// A record was created.
    Created,
    /// Changes were saved.
    Saved,
    /// An asset moved along its lifecycle.
    Moved,
    /// A review was recorded.
    Reviewed,
    /// A holder's loss or theft report was recorded.
    Reported,
    /// The incident reference was added.
    Referenced,
    /// An asset or seat was issued.
    Issued,
    /// An asset or seat came back.
    Returned,
    /// The acceptable-use policy was acknowledged.
    Acknowledged,
    /// A policy version was approved.
    Approved,
    /// A decision on an exception was recorded.
    Decided,
    /// An answer was recorded.
    Answered,
    /// An item was settled.
    Settled,
    /// A case, campaign or stocktake was closed.
    Closed,
    /// The password was changed.
    Password,
    /// A token was revoked.
    Revoked,
    /// Sessions were ended.
    Ended,
    /// The compliance checks were evaluated.
    Evaluated,
}

impl Done {
    const ALL: [Done; 18] = [
        Done::Created,
        Done::Saved,
        Done::Moved,
        Done::Reviewed,
        Done::Reported,
        Done::Referenced,
        Done::Issued,
        Done::Returned,
        Done::Acknowledged,
        Done::Approved,
        Done::Decided,
        Done::Answered,
        Done::Settled,
        Done::Closed,
        Done::Password,
        Done::Revoked,
        Done::Ended,
        Done::Evaluated,
    ];

    /// Its name in the address.
    pub fn key(self) -> &'static str {
        match self {
            Done::Created => "created",
            Done::Saved => "saved",
            Done::Moved => "moved",
            Done::Reviewed => "reviewed",
            Done::Reported => "reported",
            Done::Referenced => "referenced",
            Done::Issued => "issued",
            Done::Returned => "returned",
            Done::Acknowledged => "acknowledged",
            Done::Approved => "approved",
            Done::Decided => "decided",
            Done::Answered => "answered",
            Done::Settled => "settled",
            Done::Closed => "closed",
            Done::Password => "password",
            Done::Revoked => "revoked",
            Done::Ended => "ended",
            Done::Evaluated => "evaluated",
        }
    }

    /// What the page says.
    pub fn message(self) -> &'static str {
        match self {
            Done::Created => "Created.",
            Done::Saved => "Your changes are saved.",
            Done::Moved => "The asset's status is changed.",
            Done::Reviewed => "The review is recorded; the next review date moved on.",
            Done::Reported => "Your report is recorded: the asset is marked lost or stolen and is no longer among what you hold. Your IT team adds the incident reference.",
            Done::Referenced => "The incident reference is added.",
            Done::Issued => "It is issued.",
            Done::Returned => "It is taken back.",
            Done::Acknowledged => "Your acknowledgement is recorded.",
            Done::Approved => "The version is approved and now in force.",
            Done::Decided => "Your decision is recorded.",
            Done::Answered => "Your answer is recorded.",
            Done::Settled => "The item is settled.",
            Done::Closed => "It is closed.",
            Done::Password => "Your password is changed. Sign in with the new one.",
            Done::Revoked => "The token is revoked.",
            Done::Ended => "Those sessions are ended.",
            Done::Evaluated => "Every check is evaluated: the figures below are current.",
        }
    }

    fn from_query(query: Option<&str>) -> Option<Done> {
        let key = query?
            .split('&')
            .find_map(|pair| pair.strip_prefix("done="))?;
        Done::ALL.into_iter().find(|d| d.key() == key)
    }
}

/// `303 See Other` to `to`, saying there what was done.
pub fn done(to: &str, what: Done) -> Response {
    let (path, fragment) = match to.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (to, None),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut target = format!("{path}{sep}done={}", what.key());
    if let Some(f) = fragment {
        target.push('#');
        target.push_str(f);
    }
    see_other(&target)
}

impl Viewer {
    /// Whether the viewer has this role or a more trusted one for the register
    /// (admin, manager).
    pub fn manages(&self) -> bool {
        matches!(self.principal.role, Role::Admin | Role::Manager)
    }

    /// Whether the viewer reads everything (admin, manager, auditor).
    pub fn reads_all(&self) -> bool {
        self.principal.role != Role::Member
    }

    /// An admin.
    pub fn admin(&self) -> bool {
        self.principal.role == Role::Admin
    }

    /// Reads the audit trail and accounts (admins and auditors).
    pub fn audits(&self) -> bool {
        matches!(self.principal.role, Role::Admin | Role::Auditor)
    }

    /// Whether the viewer changes anything at all (everyone but auditors).
    pub fn writes(&self) -> bool {
        self.principal.role != Role::Auditor
    }

    /// The page for a form the viewer's role cannot use: not the form, which would only be
    /// refused once filled in.
    pub fn refuse(&self, what: &str) -> Response {
        error_page(
            Some(self),
            AppError::Forbidden(format!("the {} role cannot {what}", self.principal.role)),
        )
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let to_sign_in = || {
            let here = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            Redirect::to(&format!("/sign-in?return_to={}", encode(&here))).into_response()
        };
        let Some(ctx) = parts.extensions.get::<Ctx>().cloned() else {
            return Err(to_sign_in());
        };
        let Some(principal) = ctx.principal().cloned() else {
            return Err(to_sign_in());
        };
        let csrf = match (&principal.via, parts.extensions.get::<SessionCookie>()) {
            (Via::Session, Some(c)) => c.csrf.clone(),
            // Pages are for browsers: a token in a browser is not a session.
            _ => return Err(to_sign_in()),
        };
        let user = match s.app.me(&ctx).await {
            Ok(u) => u,
            Err(_) => return Err(to_sign_in()),
        };
        Ok(Viewer {
            ctx,
            principal,
            user,
            csrf,
            done: Done::from_query(parts.uri.query()),
        })
    }
}

/// A record's id from the path; anything that is not one is a page that does not exist.
pub struct PageId(pub uuid::Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PageId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        uuid::Uuid::parse_str(&raw)
            .map(PageId)
            .map_err(|_| error_page(None, AppError::not_found("record", raw)))
    }
}

/// An HTML form's fields (`application/x-www-form-urlencoded`), several values per name
/// kept in order.
pub struct Form(pub Vec<(String, String)>);

impl Form {
    /// The first value of a field, trimmed; `None` when absent or blank.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every value of a field.
    pub fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The fields as a map of first values (blank ones included, for re-rendering).
    pub fn values(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        for (k, v) in &self.0 {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
        m
    }
}

/// The refusal of a form posted from another site.
fn cross_site() -> Response {
    Problem::new(
        StatusCode::FORBIDDEN,
        "cross-site",
        "Cross-site form",
        "this form was posted from another site",
    )
    .into_response()
}

impl FromRequest<AppState> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        // A form posted from another site is refused even before its CSRF token is looked
        // at: this also covers the sign-in form, which has no session yet. The origin must
        // be the public URL's, or the host the request was sent to (a proxy in front may
        // rewrite the latter).
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        let fetch_site = req
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok());
        if fetch_site == Some("cross-site") {
            return Err(cross_site());
        }
        if let Some(origin) = origin {
            let authority = origin.split("://").nth(1).unwrap_or("");
            let same_host = host.is_some_and(|h| authority.eq_ignore_ascii_case(h));
            let public: String = state
                .app
                .settings()
                .public_url
                .split('/')
                .take(3)
                .collect::<Vec<_>>()
                .join("/");
            if origin == "null" || !(same_host || origin.eq_ignore_ascii_case(&public)) {
                return Err(cross_site());
            }
        }
        if !crate::auth::is_form(req.headers()) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The body must be a form",
                "send the body as application/x-www-form-urlencoded",
            )
            .into_response());
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too-large",
                        "The form is too large",
                        format!("a form may hold at most {} MiB", crate::BODY_LIMIT >> 20),
                    )
                    .into_response()
                } else {
                    e.into_response()
                }
            })?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Problem::bad_request("", "the form is not UTF-8 text").into_response())?;
        crate::extract::form_urlencoded(text)
            .map(Form)
            .map_err(IntoResponse::into_response)
    }
}

/// The page that holds the form posted to `path`: where a GET of an address that only
/// takes forms goes (a reload after a refused form, a bookmark, a link shared from the
/// address bar) — the record's page, else the list's, else home.
pub fn form_home(path: &str) -> String {
    const RECORDS: &[&str] = &[
        "assets",
        "people",
        "users",
        "policies",
        "offboardings",
        "attestations",
        "exceptions",
        "stocktakes",
    ];
    const LISTS: &[&str] = &[
        "account",
        "acceptable-use",
        "assets",
        "attestations",
        "classifications",
        "custom-fields",
        "exceptions",
        "locations",
        "offboardings",
        "people",
        "policies",
        "stocktakes",
        "tokens",
        "users",
    ];
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        [c, id, ..] if RECORDS.contains(c) && uuid::Uuid::parse_str(id).is_ok() => {
            format!("/{c}/{id}")
        }
        [c, ..] if LISTS.contains(c) => format!("/{c}"),
        _ => "/".into(),
    }
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query string from pairs, leaving out empty values.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Where a page sits in the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Assets,
    People,
    Locations,
    Classifications,
    CustomFields,
    Users,
    Tokens,
    Audit,
    Account,
    Policies,
    Exceptions,
    OffPremises,
    Offboarding,
    Attestation,
    Stocktakes,
    Compliance,
    Reports,
    None,
}

/// A whole page: the shell around `body`.
pub fn page(v: Option<&Viewer>, title: &str, nav: Nav, body: Markup) -> Markup {
    let item = |n: Nav, href: &str, label: &str| {
        html! {
            li { a href=(href) aria-current=[(nav == n).then_some("page")] { (label) } }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Custodian" }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "Custodian" }
                    @if let Some(v) = v {
                        nav aria-label="Main" {
                            ul {
                                (item(Nav::Home, "/", "Home"))
                                (item(Nav::Assets, "/assets", "Assets"))
                                (item(Nav::People, "/people", "People"))
                                (item(Nav::Locations, "/locations", "Locations"))
                                (item(Nav::Classifications, "/classifications", "Classification"))
                                (item(Nav::CustomFields, "/custom-fields", "Custom fields"))
                                (item(Nav::Policies, "/policies", "Policies"))
                                (item(Nav::Exceptions, "/exceptions", "Exceptions"))
                                @if v.reads_all() {
                                    (item(Nav::Compliance, "/compliance", "Compliance"))
                                    (item(Nav::Reports, "/reports", "Reports"))
                                    (item(Nav::OffPremises, "/off-premises", "Off premises"))
                                    (item(Nav::Offboarding, "/offboardings", "Offboarding"))
                                    (item(Nav::Stocktakes, "/stocktakes", "Stocktakes"))
                                }
                                (item(Nav::Attestation, "/attestations", "Attestation"))
                                @if v.audits() {
                                    (item(Nav::Users, "/users", "Users"))
                                    (item(Nav::Audit, "/audit", "Audit trail"))
                                }
                                (item(Nav::Tokens, "/tokens", "Tokens"))
                            }
                        }
                        div.who {
                            a href="/account" aria-current=[(nav == Nav::Account).then_some("page")] {
                                (v.user.email) " (" (v.principal.role) ")"
                            }
                            form method="post" action="/sign-out" {
                                (csrf(v))
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    @if let Some(d) = v.and_then(|v| v.done) {
                        p.notice id="done" role="status" { (d.message()) }
                    }
                    (body)
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf(v: &Viewer) -> Markup {
    html! { input type="hidden" name="_csrf" value=(v.csrf); }
}

/// An HTML answer.
pub fn html_response(status: StatusCode, m: Markup) -> Response {
    let mut r = (status, m.into_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// 200 with a page.
pub fn ok(m: Markup) -> Response {
    html_response(StatusCode::OK, m)
}

/// `303 See Other` to `to`.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The page for an address that leads nowhere.
pub fn not_found_page() -> Response {
    let body = html! {
        h1 { "Not found" }
        p.error-detail { "There is no page at this address." }
        p { a href="/" { "Back to the home page" } }
    };
    html_response(
        StatusCode::NOT_FOUND,
        page(None, "Not found", Nav::None, body),
    )
}

/// What a form's POST answers once its service has spoken: `taken` when it did the work;
/// when it refused the input (422 with the fields named, or a conflict), `refused` with
/// the errors, which shows the form's page again; any other failure as a page of its own.
pub async fn settle<T>(
    v: &Viewer,
    result: Result<T, AppError>,
    taken: impl FnOnce(T) -> Response,
    refused: impl AsyncFnOnce(Errors) -> Response,
) -> Response {
    match result {
        Ok(t) => taken(t),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            refused(Errors::from_app(&e)).await
        }
        Err(e) => error_page(Some(v), e),
    }
}

/// An error as a page of its own.
pub fn error_page(v: Option<&Viewer>, e: AppError) -> Response {
    let p = Problem::from(e);
    let body = html! {
        h1 { (p.title) }
        p.error-detail { (p.detail) }
        @if !p.errors.is_empty() {
            ul { @for e in &p.errors { li { strong { (e.field) } " " (e.message) } } }
        }
        p { a href="/" { "Back to the home page" } }
    };
    html_response(p.status, page(v, p.title, Nav::None, body))
}

/// The assets named by number in a form field (one per line, or separated by commas or
/// semicolons), looked up within what the viewer may see: their ids as JSON, and an error on
/// `field` for each number that names nothing the viewer can see.
pub async fn asset_numbers(
    s: &AppState,
    v: &Viewer,
    text: &str,
    field: &str,
) -> Result<(Vec<serde_json::Value>, Vec<FieldError>), AppError> {
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    for n in text
        .split(['\n', ',', ';'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        match s.app.find_asset_by_number(&v.ctx, n).await? {
            Some(a) => ids.push(serde_json::json!(a)),
            None => errors.push(FieldError::new(
                field,
                format!("no asset you can see has the number {n}"),
            )),
        }
    }
    Ok((ids, errors))
}

/// Field errors by field name, for inline display.
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// None.
    pub fn none() -> Self {
        Errors(vec![])
    }

    /// From a refused change: the field errors, or one general error.
    pub fn from_app(e: &AppError) -> Self {
        match e {
            AppError::Invalid(p) => Errors(p.0.clone()),
            other => Errors(vec![FieldError::new("", other.to_string())]),
        }
    }

    /// The messages for a field (and its sub-fields, `field.x`, `field[0]`).
    pub fn of(&self, field: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|e| {
                e.field == field
                    || e.field.starts_with(&format!("{field}."))
                    || e.field.starts_with(&format!("{field}["))
            })
            .map(|e| e.message.as_str())
            .collect()
    }

    /// Whether there are any.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// The summary shown above a refused form: every error, each linking to its field.
    pub fn summary(&self) -> Markup {
        self.summary_with(|f| f.to_string())
    }

    /// [`Errors::summary`] naming each field by the label its form shows.
    pub fn summary_with(&self, label: impl Fn(&str) -> String) -> Markup {
        html! {
            @if self.any() {
                div.error-summary role="alert" tabindex="-1" id="errors" {
                    h2 { "The form needs correcting" }
                    ul {
                        @for e in &self.0 {
                            li {
                                @if e.field.is_empty() {
                                    (e.message)
                                } @else {
                                    a href={ "#f-" (field_anchor(&e.field)) } { (label(&e.field)) } " " (e.message)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The id of a field's control: the field name without an item index (`tags[2]` →
/// `tags`), other characters made safe (`disposal.method` → `disposal_method`).
pub fn field_anchor(field: &str) -> String {
    field.split('[').next().unwrap_or(field).replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-',
        "_",
    )
}

/// How a form control is drawn.
pub enum Control<'a> {
    /// A one-line text box of this input type (`text`, `date`, `email`, `url`, `number`).
    Input(&'a str),
    /// A text box of this type with an `autocomplete` purpose (`username`,
    /// `current-password`, `new-password`, `one-time-code`).
    Auto(&'a str, &'a str),
    /// A paragraph.
    TextArea,
    /// A choice among `(value, label)`; `allow_blank` adds an empty first option.
    Select(Vec<(String, String)>, bool),
    /// A checkbox (value `true`).
    Check,
}

/// A labelled control with its hint and errors.
pub fn field(
    name: &str,
    label: &str,
    hint: Option<&str>,
    control: Control<'_>,
    value: &str,
    required: bool,
    errors: &Errors,
) -> Markup {
    let id = format!("f-{}", field_anchor(name));
    let errs = errors.of(name);
    let described = if errs.is_empty() && hint.is_none() {
        None
    } else {
        Some(format!("{id}-help"))
    };
    html! {
        div.field.invalid[!errs.is_empty()] {
            @match &control {
                Control::Check => {
                    input type="checkbox" id=(id) name=(name) value="true" checked[value == "true"]
                        aria-describedby=[described.as_deref()];
                    label for=(id) { (label) }
                }
                _ => {
                    label for=(id) {
                        (label)
                        @if required { span.req aria-hidden="true" { " *" } }
                    }
                }
            }
            @if hint.is_some() || !errs.is_empty() {
                div id=[described.as_deref()] {
                    @if let Some(h) = hint { p.hint { (h) } }
                    @for e in &errs { p.field-error { span.visually-hidden { "Error: " } (e) } }
                }
            }
            @match control {
                Control::Input(ty) => {
                    input type=(ty) id=(id) name=(name) value=(value) required[required]
                        aria-invalid=[(!errs.is_empty()).then_some("true")]
                        aria-describedby=[described.as_deref()]
                        step=[(ty == "number").then_some("any")];
                }
                Control::Auto(ty, purpose) => {
                    input type=(ty) id=(id) name=(name) value=(value) required[required]
                        autocomplete=(purpose)
                        aria-invalid=[(!errs.is_empty()).then_some("true")]
                        aria-describedby=[described.as_deref()];
                }
                Control::TextArea => {
                    textarea id=(id) name=(name) rows="3" required[required]
                        aria-invalid=[(!errs.is_empty()).then_some("true")]
                        aria-describedby=[described.as_deref()] { (value) }
                }
                Control::Select(options, blank) => {
                    select id=(id) name=(name) required[required]
                        aria-invalid=[(!errs.is_empty()).then_some("true")]
                        aria-describedby=[described.as_deref()] {
                        @if blank { option value="" { "—" } }
                        // A stored value the options do not offer stays chosen, so that
                        // saving the form never clears it unasked.
                        @if !value.is_empty() && !options.iter().any(|(v, _)| v == value) {
                            option value=(value) selected { (value) }
                        }
                        @for (v, l) in &options {
                            option value=(v) selected[v == value] { (l) }
                        }
                    }
                }
                Control::Check => {}
            }
        }
    }
}

/// A CSV file to download, streamed, saved as `filename`.
pub(crate) fn csv_download(body: axum::body::Body, filename: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// A word from the wire made readable (`in_use` → `in use`).
pub fn words(s: &str) -> String {
    s.replace('_', " ")
}

/// A status badge.
pub fn badge(kind: &str, text: &str) -> Markup {
    html! { span class={ "badge badge-" (kind) } { (words(text)) } }
}

/// Shows a date-time as `YYYY-MM-DD HH:MM UTC`.
pub fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
