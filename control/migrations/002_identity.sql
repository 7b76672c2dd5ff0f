-- The internal OpenID Provider's state (oidc-provider models), its stable secrets, and the relying party's
-- browser sessions and pending sign-ins.

-- Every oidc-provider model (Session, Interaction, Grant, AuthorizationCode, RefreshToken, ReplayDetection, ...),
-- keyed by model and id. The lookup columns copy fields of the payload that the provider searches by.
CREATE TABLE oidc_payloads (
  model       text NOT NULL,
  id          text NOT NULL,
  payload     jsonb NOT NULL,
  grant_id    text,
  user_code   text,
  uid         text,
  consumed_at timestamptz,
  expires_at  timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_payloads_grant_id_idx ON oidc_payloads (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_payloads_user_code_idx ON oidc_payloads (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_payloads_uid_idx ON oidc_payloads (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_payloads_expires_at_idx ON oidc_payloads (expires_at) WHERE expires_at IS NOT NULL;

-- Generated once, shared by every control-plane instance: the `meshmeet-web` client secret, the IdP cookie keys.
CREATE TABLE identity_secrets (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Browser sessions of the control plane (cookie `mm_session`): only the SHA-256 of the random id is stored.
-- Tokens from the identity provider stay here, server-side.
CREATE TABLE web_sessions (
  id_hash       bytea PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  idp           text NOT NULL,          -- 'internal' or the name of an external IdP
  refresh_token text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL    -- sliding; never beyond created_at + the absolute lifetime
);
CREATE INDEX web_sessions_user_id_idx ON web_sessions (user_id);
CREATE INDEX web_sessions_expires_at_idx ON web_sessions (expires_at);

-- Sign-ins in progress (between /auth/login and /auth/callback): PKCE verifier, nonce, where to return, and the
-- hash of the browser-binding cookie `mm_auth` so that a callback only completes in the browser that started it.
CREATE TABLE auth_login_states (
  state         text PRIMARY KEY,
  binding_hash  bytea NOT NULL,
  idp           text NOT NULL,
  nonce         text NOT NULL,
  code_verifier text NOT NULL,
  return_to     text NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX auth_login_states_expires_at_idx ON auth_login_states (expires_at);
