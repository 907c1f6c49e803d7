//! `/api/v1/session`, `/api/v1/setup`, `/api/v1/users` and `/api/v1/tokens`.

use axum::extract::{Extension, State};
use axum::http::HeaderValue;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use custodian_app::accounts::{raw_text, SignedIn};
use custodian_app::AppError;
use custodian_domain::access::Scope;
use custodian_domain::account::{TokenView, UserView, SESSION_ABSOLUTE};
use custodian_domain::value::Timestamp;

use super::wire::{Body, Created, Done, Key, Listing, New, One, Query, SetCookie, Status};
use super::PageParams;
use crate::auth::{
    cookie, Limited, Password, SessionCookie, Setup, SignIn, Tokens, Totp, SESSION_COOKIE,
};
use crate::extract::{Anyone, Caller, IfMatch, RecordId};
use crate::openapi::shapes::{
    FirstAdmin, PasswordChange, SecuritySettingsPatch, SetPassword, SignIn as SignInInput,
    TokenInput, TotpCode, UserInput, UserPatch,
};
use crate::problem::ApiResult;
use crate::AppState;

/// A session just begun.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "SignedIn")]
pub struct SignedInView {
    /// The account signed in.
    pub user: UserView,
    /// Send it back as `X-CSRF-Token` with every unsafe request made with the cookie.
    pub csrf_token: String,
    /// When the session ends, whatever happens.
    pub expires_at: Timestamp,
}

/// Who is calling.
#[derive(Serialize, JsonSchema)]
pub struct Me {
    /// The account.
    pub user: UserView,
    /// `session` or `token`.
    pub via: Option<&'static str>,
    /// What the credential may do.
    pub scope: Option<Scope>,
    /// The session's CSRF token (sessions only).
    pub csrf_token: Option<String>,
}

/// A new account with its one-time setup link.
#[derive(Serialize, JsonSchema)]
pub struct NewUser {
    #[serde(flatten)]
    pub user: UserView,
    /// Where the new user sets their password, once.
    pub setup_url: String,
}

/// A new token with its secret, shown in this answer only.
#[derive(Serialize, JsonSchema)]
pub struct IssuedToken {
    #[serde(flatten)]
    pub token_record: TokenView,
    /// The secret: send it as `Authorization: Bearer …`. It is never shown again.
    pub token: String,
}

/// A second factor being enrolled.
#[derive(Serialize, JsonSchema)]
pub struct TotpEnrolment {
    /// The shared secret, in base32.
    pub secret: String,
    /// The `otpauth://` address an authenticator app reads (as a QR code).
    pub otpauth_uri: String,
}

/// The filters of the token list.
#[derive(JsonSchema)]
pub struct TokenFilters {
    /// Whose tokens (admins and auditors).
    pub user_id: Option<Uuid>,
}

/// A required field taken exactly as sent.
fn text(body: &Map<String, Value>, k: &str) -> Result<String, AppError> {
    match body.get(k) {
        None | Some(Value::Null) => Err(AppError::invalid(k, "is required")),
        Some(v) => raw_text(v).map_err(|m| AppError::invalid(k, m)),
    }
}

/// A `Set-Cookie` value: HttpOnly, `SameSite=Lax` (a provider's redirect back is a
/// top-level navigation from another site), `Secure` behind HTTPS.
pub(crate) fn set_cookie(
    s: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if s.app.settings().https() {
        "; Secure"
    } else {
        ""
    };
    let v =
        format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static(""))
}

pub(crate) fn session_cookie(s: &AppState, value: &str, max_age: i64) -> HeaderValue {
    set_cookie(s, SESSION_COOKIE, value, "/", max_age)
}

fn signed_in(si: &SignedIn) -> SignedInView {
    SignedInView {
        user: si.user.view(),
        csrf_token: si.session.csrf_token.clone(),
        expires_at: (&(si.session.created_at + SESSION_ABSOLUTE)).into(),
    }
}

/// `POST /session`: signs in with `{email, password}`; sets the session cookie.
pub async fn sign_in(
    State(s): State<AppState>,
    Anyone(ctx): Anyone,
    _: Limited<SignIn>,
    headers: axum::http::HeaderMap,
    Body(body, _): Body<SignInInput>,
) -> ApiResult<SetCookie<Status<SignedInView, 201>>> {
    let mut r = custodian_domain::input::Input::new(&body);
    r.reject_unknown(&["email", "password", "totp"], &[], "a sign-in");
    let email = r.required("email", raw_text);
    let password = r.required("password", raw_text);
    let totp = r.optional("totp", raw_text).flatten();
    let (Some(email), Some(password)) = (email, password) else {
        return Err(AppError::Invalid(r.problems).into());
    };
    if !r.problems.is_empty() {
        return Err(AppError::Invalid(r.problems).into());
    }
    let previous = cookie(&headers, SESSION_COOKIE);
    let si = s
        .app
        .sign_in(
            &ctx,
            &email,
            &password,
            totp.as_deref(),
            previous.as_deref(),
        )
        .await?;
    Ok(SetCookie(
        session_cookie(&s, &si.cookie, SESSION_ABSOLUTE.num_seconds()),
        Status(signed_in(&si)),
    ))
}

/// `GET /session`: who is signed in, and the CSRF token for their unsafe requests.
pub async fn me(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    session: Option<Extension<SessionCookie>>,
) -> ApiResult<Json<Me>> {
    let user = s.app.me(&ctx).await?;
    let csrf = session.map(|Extension(c)| c.csrf);
    let via = ctx.principal().map(|p| match p.via {
        custodian_domain::access::Via::Token(_) => "token",
        _ => "session",
    });
    Ok(Json(Me {
        user: user.view(),
        via,
        scope: ctx.principal().map(|p| p.scope),
        csrf_token: csrf,
    }))
}

/// `DELETE /session`: signs out.
pub async fn sign_out(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    session: Option<Extension<SessionCookie>>,
) -> ApiResult<SetCookie<Done>> {
    let Some(Extension(c)) = session else {
        return Err(
            AppError::invalid("", "this request was not made with a session cookie").into(),
        );
    };
    s.app.sign_out(&ctx, &c.cookie).await?;
    Ok(SetCookie(session_cookie(&s, "", 0), Done))
}

/// `POST /session/password`: `{current_password, new_password}`; ends every session.
pub async fn change_password(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    _: Limited<Password>,
    Body(body, _): Body<PasswordChange>,
) -> ApiResult<SetCookie<Done>> {
    // Authorise before reading the body, so that a refusal says nothing about it.
    s.app.may_change_password(&ctx).await?;
    let current = text(&body, "current_password")?;
    let new = text(&body, "new_password")?;
    s.app.change_password(&ctx, &current, &new).await?;
    Ok(SetCookie(session_cookie(&s, "", 0), Done))
}

/// `POST /setup`: the first admin, through the link printed on first start.
pub async fn bootstrap(
    State(s): State<AppState>,
    Anyone(ctx): Anyone,
    _: Limited<Setup>,
    Body(body, _): Body<FirstAdmin>,
) -> ApiResult<Created<UserView>> {
    let user = s.app.bootstrap(&ctx, &body).await?;
    Ok(Created::new(
        format!("/api/v1/users/{}", user.id),
        user.version,
        user.view(),
    ))
}

/// `POST /setup/{token}`: sets a new account's password through its one-time link.
pub async fn complete_setup(
    State(s): State<AppState>,
    Anyone(ctx): Anyone,
    _: Limited<Setup>,
    Key(token): Key,
    Body(body, _): Body<SetPassword>,
) -> ApiResult<One<UserView>> {
    let password = text(&body, "password")?;
    let user = s.app.complete_setup(&ctx, &token, &password).await?;
    Ok(One(user.version, user.view()))
}

pub async fn list_users(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<PageParams>,
) -> ApiResult<Json<Listing<UserView>>> {
    Ok(Listing::of(
        s.app.list_users(&ctx, p.limit()?, p.cursor()?).await?,
        |u| u.view(),
    ))
}

/// `POST /users`: the account and its one-time setup link.
pub async fn create_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: axum::http::HeaderMap,
    Body(body, _): Body<UserInput>,
) -> ApiResult<Created<NewUser>> {
    let (user, setup) = s.app.create_user(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/users/{}", user.id),
        user.version,
        NewUser {
            user: user.view(),
            setup_url: crate::ui::accounts::setup_link(&s, &headers, &setup),
        },
    ))
}

pub async fn get_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<UserView>> {
    let u = s.app.get_user(&ctx, id).await?;
    Ok(One(u.version, u.view()))
}

pub async fn update_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(v): IfMatch,
    Body(body, _): Body<UserPatch>,
) -> ApiResult<One<UserView>> {
    let u = s.app.update_user(&ctx, id, body, v).await?;
    Ok(One(u.version, u.view()))
}

/// `DELETE /users/{id}/sessions`: signs the user out everywhere.
pub async fn end_sessions(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Done> {
    s.app.end_sessions(&ctx, id).await?;
    Ok(Done)
}

pub async fn list_tokens(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<TokenFilters>,
) -> ApiResult<Json<Listing<TokenView>>> {
    let tokens = s.app.list_tokens(&ctx, p.id("user_id")?).await?;
    Ok(Listing::all(tokens.iter().map(|t| t.view()).collect()))
}

/// `POST /tokens`: the token's secret is in this answer only.
pub async fn create_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    _: Limited<Tokens>,
    Body(body, _): Body<TokenInput>,
) -> ApiResult<New<IssuedToken>> {
    let issued = s.app.create_token(&ctx, body).await?;
    Ok(New::new(
        format!("/api/v1/tokens/{}", issued.token.id),
        IssuedToken {
            token_record: issued.token.view(),
            token: issued.secret,
        },
    ))
}

/// `DELETE /tokens/{id}`: revokes a token.
pub async fn revoke_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Json<TokenView>> {
    let t = s.app.revoke_token(&ctx, id).await?;
    Ok(Json(t.view()))
}

/// `POST /session/totp`: starts enrolling a second factor.
pub async fn enrol_totp(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Status<TotpEnrolment, 201>> {
    let e = s.app.enrol_totp(&ctx).await?;
    Ok(Status(TotpEnrolment {
        secret: e.secret,
        otpauth_uri: e.uri,
    }))
}

/// `POST /session/totp/confirm`: `{code}` from the authenticator app turns it on.
pub async fn confirm_totp(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    _: Limited<Totp>,
    Body(body, _): Body<TotpCode>,
) -> ApiResult<One<UserView>> {
    let code = body.get("code").and_then(Value::as_str);
    let u = s.app.confirm_totp(&ctx, code).await?;
    Ok(One(u.version, u.view()))
}

/// `DELETE /users/{id}/totp`: removes a user's second factor (a lost device).
pub async fn reset_totp(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<UserView>> {
    let u = s.app.reset_totp(&ctx, id).await?;
    Ok(One(u.version, u.view()))
}

/// `GET /settings/security`.
pub async fn security_settings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<custodian_app::accounts::SecuritySettings>> {
    Ok(Json(s.app.security_settings(&ctx).await?))
}

/// `PATCH /settings/security`: `{"require_totp_for_admins": bool}`.
pub async fn update_security_settings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<SecuritySettingsPatch>,
) -> ApiResult<Json<custodian_app::accounts::SecuritySettings>> {
    Ok(Json(s.app.update_security_settings(&ctx, &body).await?))
}
