//! The REST API under `/api/v1`.

use aide::axum::ApiRouter;

use axum::extract::State;
use serde_json::Value;

use crate::AppState;

pub mod accounts;
pub mod assets;
pub mod audit;
pub mod cases;
pub mod compliance;
pub mod parties;
pub mod reference;
pub mod reports;
pub mod samples;
pub mod sso;
pub mod stocktakes;
pub mod wire;
pub mod workflows;

/// Every API route, each documented by its handler's types.
pub fn routes() -> ApiRouter<AppState> {
    use aide::axum::routing::{delete_with, get_with, post_with};
    ApiRouter::new()
        .api_route(
            "/assets",
            get_with(assets::list, |o| o.summary("List assets")).post_with(assets::create, |o| o.summary("Register an asset")),
        )
        .api_route("/assets/bulk", post_with(assets::bulk, |o| o.summary("Register up to 1,000 assets, with a result per item")))
        .api_route(
            "/assets/{id}",
            get_with(assets::get, |o| o.summary("One asset")).patch_with(assets::update, |o| o.summary("Change an asset (JSON merge patch; If-Match)")),
        )
        .api_route("/assets/{id}/transitions", post_with(assets::transition, |o| o.summary("Move an asset along its lifecycle")))
        .api_route("/assets/{id}/history", get_with(assets::history, |o| o.summary("The asset's audit events")))
        .api_route("/assets/{id}/reveal", post_with(assets::reveal, |o| o.summary("Reveal a secret field (an audited read; admins and the asset's owner)")))
        .api_route("/assets/{id}/incident", post_with(assets::incident, |o| o.summary("Add the incident reference a holder's own loss or theft report awaits (managers)")))
        .api_route(
            "/assets/{id}/relations",
            get_with(assets::relations, |o| o.summary("The asset's links to other assets")).post_with(assets::link, |o| o.summary("Link the asset to another")),
        )
        .api_route("/assets/{id}/relations/{relation_id}", delete_with(assets::unlink, |o| o.summary("Remove a link")))
        .api_route(
            "/parties",
            get_with(parties::list, |o| o.summary("List persons, teams and roles")).post_with(parties::create, |o| o.summary("Register a person, team or role")),
        )
        .api_route(
            "/parties/{id}",
            get_with(parties::get, |o| o.summary("One party")).patch_with(parties::update, |o| o.summary("Change a party (If-Match)")),
        )
        .api_route(
            "/delegations",
            get_with(parties::list_delegations, |o| o.summary("List delegations")).post_with(parties::create_delegation, |o| o.summary("Delegate a routine task")),
        )
        .api_route("/delegations/{id}", get_with(parties::get_delegation, |o| o.summary("One delegation")))
        .api_route("/delegations/{id}/end", post_with(parties::end_delegation, |o| o.summary("End a delegation")))
        .api_route(
            "/locations",
            get_with(reference::list_locations, |o| o.summary("List places")).post_with(reference::create_location, |o| o.summary("Add a place")),
        )
        .api_route(
            "/locations/{id}",
            get_with(reference::get_location, |o| o.summary("One place")).patch_with(reference::update_location, |o| o.summary("Change a place (If-Match)")),
        )
        .api_route(
            "/classifications",
            get_with(reference::list_classifications, |o| o.summary("The classification scheme, by rank")).post_with(reference::create_classification, |o| o.summary("Add a level")),
        )
        .api_route(
            "/classifications/{key}",
            get_with(reference::get_classification, |o| o.summary("One level"))
                .patch_with(reference::update_classification, |o| o.summary("Rename a level or change its handling rules (If-Match)"))
                .delete_with(reference::delete_classification, |o| o.summary("Delete a level no asset uses")),
        )
        .api_route(
            "/custom_fields",
            get_with(reference::list_custom_fields, |o| o.summary("Every custom field definition")).post_with(reference::create_custom_field, |o| o.summary("Define a custom field")),
        )
        .api_route(
            "/custom_fields/{id}",
            get_with(reference::get_custom_field, |o| o.summary("One custom field definition"))
                .patch_with(reference::update_custom_field, |o| o.summary("Change a custom field definition (If-Match)"))
                .delete_with(reference::delete_custom_field, |o| o.summary("Delete a custom field definition")),
        )
        .api_route(
            "/session",
            get_with(accounts::me, |o| o.summary("Who is signed in, with the session's CSRF token"))
                .post_with(accounts::sign_in, |o| {
                    o.summary("Sign in; sets the session cookie").with(wire::refuses(
                        401,
                        "The e-mail address or password is wrong, a second factor is missing or wrong, or the account is locked for a while",
                    ))
                })
                .delete_with(accounts::sign_out, |o| {
                    o.summary("Sign out").with(wire::refuses(
                        422,
                        "The request was made with a token, not a session cookie",
                    ))
                }),
        )
        .api_route("/session/oidc", get_with(sso::start, |o| o.summary("Single sign-on: redirects (303) to the identity provider; return_to is where to land afterwards")))
        .api_route("/session/oidc/callback", get_with(sso::callback, |o| o.summary("Single sign-on: where the identity provider sends the browser back; sets the session cookie and redirects (303)")))
        .api_route("/session/password", post_with(accounts::change_password, |o| o.summary("Change one's password; ends every session of the account")))
        .api_route("/reviews", post_with(assets::review, |o| {
                o.summary("Record a review of an asset by the signed-in person; the next review moves on by the classification's interval")
                    .with(wire::refuses(404, "No such asset"))
                    .with(wire::refuses(412, "The version sent is not the asset's; nothing changed"))
            }))
        .api_route("/session/totp", post_with(accounts::enrol_totp, |o| o.summary("Start enrolling a second factor (TOTP): the secret and its otpauth URI")))
        .api_route("/session/totp/confirm", post_with(accounts::confirm_totp, |o| o.summary("Confirm the enrolment with a current code; sign-ins then need one")))
        .api_route(
            "/settings/security",
            get_with(accounts::security_settings, |o| o.summary("Security settings")).patch_with(accounts::update_security_settings, |o| o.summary("Change security settings (admins)")),
        )
        .api_route("/setup", post_with(accounts::bootstrap, |o| o.summary("Create the first admin with the one-time token printed by serve")))
        .api_route("/setup/{token}", post_with(accounts::complete_setup, |o| o.summary("Set a new account's password through its one-time link")))
        .api_route(
            "/users",
            get_with(accounts::list_users, |o| o.summary("List user accounts")).post_with(accounts::create_user, |o| o.summary("Create an account; the answer carries its one-time setup link")),
        )
        .api_route(
            "/users/{id}",
            get_with(accounts::get_user, |o| o.summary("One account")).patch_with(accounts::update_user, |o| o.summary("Change an account's role, person or disabled flag (If-Match)")),
        )
        .api_route("/users/{id}/sessions", delete_with(accounts::end_sessions, |o| o.summary("End every session of an account")))
        .api_route("/users/{id}/totp", delete_with(accounts::reset_totp, |o| o.summary("Remove an account's second factor (a lost device); ends its sessions")))
        .api_route(
            "/tokens",
            get_with(accounts::list_tokens, |o| o.summary("One's own tokens (admins and auditors: everyone's, or one user's)"))
                .post_with(accounts::create_token, |o| o.summary("Issue a personal API token; the secret is in this answer only")),
        )
        .api_route("/tokens/{id}", delete_with(accounts::revoke_token, |o| o.summary("Revoke a token")))
        .api_route(
            "/policies",
            get_with(workflows::list_policies, |o| o.summary("Policy versions, oldest first")).post_with(workflows::create_policy, |o| o.summary("Draft a policy version (admins)")),
        )
        .api_route(
            "/policies/{id}",
            get_with(workflows::get_policy, |o| o.summary("One policy version")).patch_with(workflows::update_policy, |o| o.summary("Change a draft (admins)")),
        )
        .api_route("/policies/draft", post_with(workflows::draft_policy, |o| o.summary("Write a generated first draft of the Asset Management Policy from the register's settings (admins)")))
        .api_route(
            "/policies/{id}/reviews",
            get_with(workflows::policy_reviews, |o| o.summary("The reviews of a version that changed nothing, oldest first")).post_with(workflows::review_policy, |o| o.summary("Record a review of the version in force that changes nothing (admins, in their name): its next review moves on a year")),
        )
        .api_route("/policies/{id}/document", get_with(workflows::policy_document, |o| o.summary("A version's document as HTML or PDF (format=html|pdf); an approved version gives the bytes made at its approval, whose SHA-256 its approval event records")))
        .api_route("/policies/{id}/approve", post_with(workflows::approve_policy, |o| o.summary("Approve a draft in the caller's name (admins, never its author); the version in force is superseded")))
        .api_route(
            "/acknowledgements",
            get_with(workflows::list_acknowledgements, |o| o.summary("Acknowledgements (members: their own)"))
                .post_with(workflows::acknowledge, |o| o.summary("Acknowledge the acceptable-use policy in force, or (admins) record a past acknowledgement")),
        )
        .api_route("/acknowledgements/bulk", post_with(workflows::import_acknowledgements, |o| o.summary("Import past acknowledgements, all or nothing (admins)")))
        .api_route(
            "/assignments",
            get_with(workflows::list_assignments, |o| o.summary("Custody and seat assignments (members: their own)"))
                .post_with(workflows::issue, |o| o.summary("Issue an asset to a person, or assign a software seat (managers)")),
        )
        .api_route("/assignments/{id}", get_with(workflows::get_assignment, |o| o.summary("One assignment")))
        .api_route("/assignments/{id}/return", post_with(workflows::return_assignment, |o| o.summary("Take an asset back, with its condition (managers)")))
        .api_route(
            "/exceptions",
            get_with(workflows::list_exceptions, |o| o.summary("Policy exceptions, newest first (members: those they asked for)"))
                .post_with(workflows::request_exception, |o| o.summary("Ask for a policy exception")),
        )
        .api_route("/exceptions/{id}", get_with(workflows::get_exception, |o| o.summary("One exception")))
        .api_route("/exceptions/{id}/approve", post_with(workflows::approve_exception, |o| o.summary("Approve a requested exception (admins; not one's own request)")))
        .api_route("/exceptions/{id}/reject", post_with(workflows::reject_exception, |o| o.summary("Reject a requested exception (admins)")))
        .api_route("/exceptions/{id}/revoke", post_with(workflows::revoke_exception, |o| o.summary("Revoke an exception in force (admins)")))
        .api_route(
            "/offboardings",
            get_with(cases::list_offboardings, |o| o.summary("Offboarding and handover cases, newest first (members: their own)"))
                .post_with(cases::open_offboarding, |o| o.summary("Open an offboarding case by hand (managers); a person entering notice or leaving gets one by themselves")),
        )
        .api_route(
            "/offboardings/{id}",
            get_with(cases::get_offboarding, |o| o.summary("One case")).patch_with(cases::update_offboarding, |o| o.summary("Change a case's end date, successor or notes (managers)")),
        )
        .api_route("/offboardings/{id}/refresh", post_with(cases::refresh_offboarding, |o| o.summary("List what has come up since the case opened (managers)")))
        .api_route("/offboardings/{id}/items/{item_id}/settle", post_with(cases::settle_item, |o| o.summary("Settle an item with evidence, doing the work where the register can (managers)")))
        .api_route("/offboardings/{id}/close", post_with(cases::close_offboarding, |o| o.summary("Close a case whose items are all settled (managers)")))
        .api_route(
            "/attestations",
            get_with(cases::list_attestations, |o| o.summary("Attestation campaigns, newest first (members see the owners they answer for)"))
                .post_with(cases::open_attestation, |o| o.summary("Open a campaign asking every owner of assets (managers)")),
        )
        .api_route("/attestations/{id}", get_with(cases::get_attestation, |o| o.summary("One campaign with its completion")))
        .api_route("/attestations/{id}/answers", post_with(cases::answer_attestation, |o| o.summary("Confirm, or correct, the record of an owner's assets")))
        .api_route("/attestations/{id}/close", post_with(cases::close_attestation, |o| o.summary("Close a campaign (managers)")))
        .api_route(
            "/settings/policy",
            get_with(workflows::rule_settings, |o| o.summary("How strictly the policy rules are enforced"))
                .patch_with(workflows::update_rule_settings, |o| o.summary("Change how strictly the policy rules are enforced (admins)")),
        )
        .merge(stocktakes::routes())
        .merge(compliance::routes())
        .merge(samples::routes())
        .merge(reports::routes())
        .api_route("/audit", get_with(audit::events, |o| o.summary("Audit events in order")))
        .api_route("/audit/verify", get_with(audit::verify, |o| o.summary("Verify the audit hash chain")))
        .api_route("/openapi.json", get_with(openapi_json, |o| o.summary("This document")))
}

/// The document, as generated when the server started.
async fn openapi_json(State(s): State<AppState>, _: crate::auth::Anyone) -> wire::JsonText {
    wire::JsonText(s.openapi.clone())
}

/// The routes under `/api/v1` and the operations at the root, with their document.
pub fn documented() -> (axum::Router<AppState>, Value) {
    use aide::axum::routing::get_with;
    let mut api = aide::openapi::OpenApi::default();
    let router = ApiRouter::new()
        .api_route(
            "/healthz",
            get_with(crate::ops::healthz, |o| o.summary("The process is up")),
        )
        .api_route(
            "/readyz",
            get_with(crate::ops::readyz, |o| {
                o.summary("The process can serve (the database answers)")
                    .with(|mut o| {
                        wire::mark_problem(o.inner_mut(), 503, "The database does not answer");
                        o
                    })
            }),
        )
        .api_route(
            "/metrics",
            get_with(crate::ops::metrics, |o| o.summary("Prometheus metrics")),
        )
        .nest("/api/v1", routes());
    aide::generate::in_context(|ctx| {
        ctx.schema.subschema_for::<wire::ProblemBody>();
    });
    let router = router.finish_api(&mut api);
    (router, crate::openapi::complete(api))
}

/// Keyset paging: `limit` and `cursor`.
#[derive(schemars::JsonSchema)]
pub struct PageParams {
    /// How many records to answer (1–500; 50 when absent).
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the page before.
    #[schemars(length(min = 1))]
    pub cursor: Option<String>,
}
