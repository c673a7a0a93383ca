//! How callers authenticate, as the contract states it for client generators: the
//! OAuth 2.0 flows of `POST /v1/auth/token`, HTTP Basic client authentication on that
//! endpoint, and where the API is served.

use domain::access::Scope;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::openapi::server::Server;

/// The scheme protected operations name: a Bearer access token from the token endpoint.
pub const OAUTH2: &str = "oauth2";
/// HTTP Basic client authentication (RFC 6749 §2.3.1), on the token endpoint only.
pub const CLIENT_BASIC: &str = "clientBasic";

const TOKEN_URL: &str = "/v1/auth/token";

/// What an API client's scopes allow. Accounts carry no scopes: their role decides.
fn client_scopes() -> Scopes {
    Scopes::from_iter(Scope::ALL.iter().map(|scope| {
        let description = match scope {
            Scope::Read => "Read the private data of the client's structures.",
            Scope::StructuresWrite => "Edit the client's structures' profiles.",
            Scope::ProgrammingWrite => "Push productions, tours and performances.",
            Scope::DossiersWrite => "File and follow dossiers.",
        };
        (scope.as_str(), description)
    }))
}

pub struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            OAUTH2,
            SecurityScheme::OAuth2(OAuth2::with_description(
                [
                    Flow::Password(Password::with_refresh_url(
                        TOKEN_URL,
                        Scopes::new(),
                        TOKEN_URL,
                    )),
                    Flow::ClientCredentials(ClientCredentials::new(TOKEN_URL, client_scopes())),
                ],
                "An access token from `POST /v1/auth/token` (form-encoded), sent as \
                 `Authorization: Bearer …`. People sign in with the password grant and \
                 refresh with the refresh token grant; partner systems (API clients) use \
                 the client credentials grant, with their id and secret in the form or \
                 in HTTP Basic.",
            )),
        );
        components.add_security_scheme(
            CLIENT_BASIC,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "An API client's `client_id` and `client_secret` as HTTP Basic \
                         credentials (each form-encoded first, RFC 6749 §2.3.1), for the \
                         client credentials grant of `POST /v1/auth/token`.",
                    ))
                    .build(),
            ),
        );
        openapi.servers = Some(vec![
            Server::builder()
                .url("/")
                .description(Some(
                    "The server this document is served by (`/openapi.json`).",
                ))
                .build(),
            Server::builder()
                .url("http://127.0.0.1:8080")
                .description(Some("A local `oes serve` on its default address."))
                .build(),
        ]);
    }
}
