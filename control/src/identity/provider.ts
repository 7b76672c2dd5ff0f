/** The internal OpenID Provider (oidc-provider 8): its configuration, built from the keys and secrets in PostgreSQL. */
import type * as jose from 'jose';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type pg from 'pg';
import type pino from 'pino';
import { PgAdapter } from './adapter.js';
import { messagePage } from './pages.js';
import type { IdentityUsers } from './users.js';

export const WEB_CLIENT_ID = 'meshmeet-web';
export const CLI_CLIENT_ID = 'meshmeet-cli';
/** Loopback redirect of the CLI client; any port is accepted (RFC 8252 §7.3). */
export const CLI_REDIRECT_URI = 'http://127.0.0.1/callback';
export const FIRST_PARTY_CLIENTS: ReadonlySet<string> = new Set([WEB_CLIENT_ID, CLI_CLIENT_ID]);
/** The API's scope, the only one of the API resource. */
export const API_SCOPE = 'api';
/** Claim added to JWT access tokens: the grant they come from, checked on every API call (revocation). */
export const GRANT_CLAIM = 'gid';
/** The IdP's own browser session cookie (its single sign-on state). */
export const IDP_SESSION_COOKIE = 'mm_idp_session';

export const TTL = {
  accessToken: 15 * 60,
  idToken: 60 * 60,
  refreshToken: 30 * 24 * 3600,
  grant: 30 * 24 * 3600,
  session: 14 * 24 * 3600,
  interaction: 60 * 60,
  authorizationCode: 60,
} as const;

export interface ProviderOptions {
  issuer: string;
  /** Public base URL of the control plane, without a trailing slash. */
  base: string;
  /** `aud` of access tokens for the control plane's API (the resource indicator). */
  apiAudience: string;
  pool: pg.Pool;
  users: IdentityUsers;
  jwks: jose.JWK[];
  cookieKeys: string[];
  webClientSecret: string;
  log: pino.Logger;
}

export function createProvider(o: ProviderOptions): Provider {
  const configuration: Configuration = {
    adapter: (name: string) => new PgAdapter(o.pool, name),
    clients: [
      {
        client_id: WEB_CLIENT_ID,
        client_secret: o.webClientSecret,
        client_name: 'MeshMeet',
        redirect_uris: [`${o.base}/auth/callback`],
        post_logout_redirect_uris: [`${o.base}/`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
      {
        client_id: CLI_CLIENT_ID,
        client_name: 'MeshMeet CLI',
        application_type: 'native',
        redirect_uris: [CLI_REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'], response_types: ['code'] },
    jwks: { keys: o.jwks as never },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    cookies: {
      keys: o.cookieKeys,
      names: { session: IDP_SESSION_COOKIE, interaction: 'mm_idp_interaction', resume: 'mm_idp_resume' },
      // `Secure` follows the request's scheme, which the mount derives from the public URL.
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    async findAccount(_ctx, sub) {
      const user = await o.users.byId(sub);
      if (!user) return undefined;
      return {
        accountId: user.id,
        // Emails are not verified by this IdP (no mail round trip yet).
        claims: () => ({ sub: user.id, email: user.email, email_verified: false, name: user.displayName }),
      };
    },
    interactions: {
      url: (_ctx, interaction) => `${o.base}/auth/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => o.apiAudience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== o.apiAudience) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPE,
            audience: o.apiAudience,
            accessTokenTTL: TTL.accessToken,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    formats: {
      customizers: {
        jwt(_ctx, token, parts) {
          if ('grantId' in token && token.grantId) parts.payload[GRANT_CLAIM] = token.grantId;
          return parts;
        },
      },
    },
    pkce: { methods: ['S256'], required: () => true },
    // First-party clients get a refresh token without `prompt=consent`; tokens outlive the IdP browser session.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: () => false,
    rotateRefreshToken: true,
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: TTL.accessToken,
      AuthorizationCode: TTL.authorizationCode,
      IdToken: TTL.idToken,
      RefreshToken: TTL.refreshToken,
      Grant: TTL.grant,
      Session: TTL.session,
      Interaction: TTL.interaction,
    },
    renderError(ctx: KoaContextWithOIDC, out) {
      ctx.type = 'html';
      ctx.body = messagePage('Sign-in failed', `${out.error}${out.error_description ? `: ${out.error_description}` : ''}`, { href: `${o.base}/`, text: 'Back to MeshMeet' });
    },
  };
  const provider = new Provider(o.issuer, configuration);
  // X-Forwarded-* are set by the mount from the configured public URL (never taken from the client).
  provider.proxy = true;
  provider.on('server_error', (_ctx, err: Error) => o.log.error({ err }, 'oidc provider error'));
  return provider;
}
