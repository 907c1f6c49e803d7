#!/usr/bin/env node
// A real OpenID Connect provider (the `oidc-provider` npm package) for Custodian's
// integration tests. See README.md in this directory for the flags and the exact
// HTTP sequence a test client performs.
//
// stdout carries exactly one line, `READY http://127.0.0.1:PORT`, once the server
// listens; everything else (oidc-provider's notices included) goes to stderr.

import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

// oidc-provider prints some notices with console.info (stdout). Keep stdout for the
// READY line only: send every console method to stderr before loading the library.
for (const method of ['log', 'info', 'debug']) {
  console[method] = console.error; // eslint-disable-line no-console
}

const { default: Provider, errors } = await import('oidc-provider');

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

function usage(message) {
  process.stderr.write(`provider.mjs: ${message}

usage: node provider.mjs --client-id ID --client-secret SECRET --redirect-uri URI [--redirect-uri URI ...]
                         --account sub=S,email=E,name=N,role=R [--account ...]
                         [--port N] [--password PW] [--post-logout-redirect-uri URI ...]
                         [--verbose] [--exit-with-stdin]
`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true, default: [] },
      'post-logout-redirect-uri': { type: 'string', multiple: true, default: [] },
      account: { type: 'string', multiple: true, default: [] },
      password: { type: 'string', default: 'secret' },
      verbose: { type: 'boolean', default: false },
      'exit-with-stdin': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  usage(err.message);
}

if (args.help) usage('help');
if (!args['client-id']) usage('--client-id is required');
if (!args['client-secret']) usage('--client-secret is required');
if (args['redirect-uri'].length === 0) usage('at least one --redirect-uri is required');
if (args.account.length === 0) usage('at least one --account is required');

const port = Number.parseInt(args.port, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`invalid --port ${args.port}`);

const PASSWORD = args.password;
const VERBOSE = args.verbose;
const EXIT_WITH_STDIN = args['exit-with-stdin'];

// --account sub=alice,email=alice@example.com,name=Alice Admin,role=admin
const ACCOUNT_KEYS = new Set(['sub', 'email', 'name', 'role']);
const accounts = new Map(); // sub -> { sub, email?, name?, role? }
for (const spec of args.account) {
  const account = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) usage(`malformed --account ${JSON.stringify(spec)} (expected key=value pairs)`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!ACCOUNT_KEYS.has(key)) usage(`unknown key ${JSON.stringify(key)} in --account (allowed: sub, email, name, role)`);
    account[key] = value;
  }
  if (!account.sub) usage(`--account ${JSON.stringify(spec)} has no sub`);
  if (accounts.has(account.sub)) usage(`duplicate account sub ${JSON.stringify(account.sub)}`);
  accounts.set(account.sub, account);
}

// `login` form field: the account's sub, or its email (case-insensitive).
function findAccountByLogin(login) {
  const wanted = String(login ?? '').trim();
  if (accounts.has(wanted)) return accounts.get(wanted);
  const lower = wanted.toLowerCase();
  for (const account of accounts.values()) {
    if (account.email && account.email.toLowerCase() === lower) return account;
  }
  return undefined;
}

function log(...parts) {
  process.stderr.write(`[oidc-test-provider] ${parts.join(' ')}\n`);
}

// ---------------------------------------------------------------------------
// HTTP server: listen first, so that port 0 resolves before the issuer is fixed
// ---------------------------------------------------------------------------

let handler = (req, res) => {
  res.statusCode = 503;
  res.end('starting\n');
};

const server = http.createServer((req, res) => {
  if (VERBOSE) {
    res.on('finish', () => {
      const location = res.getHeader('location');
      log(req.method, req.url, '->', res.statusCode, location ? `Location: ${location}` : '');
    });
  }
  handler(req, res);
});

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});

const ISSUER = `http://127.0.0.1:${server.address().port}`;

// ---------------------------------------------------------------------------
// Provider configuration
// ---------------------------------------------------------------------------

// Fresh signing key per run (no dev-keys warning, nothing secret on disk).
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

// Grant consent without a consent screen: whatever OIDC scopes and claims the
// authorization request asks for are granted to this (first-party) client.
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const { accountId } = oidc.account;
  const clientId = oidc.client.clientId;

  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
    grant = new oidc.provider.Grant({ accountId, clientId });
  }

  const scopes = [...oidc.requestParamOIDCScopes];
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);

  await grant.save();
  return grant;
}

const client = {
  client_id: args['client-id'],
  client_secret: args['client-secret'],
  redirect_uris: args['redirect-uri'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  // oidc-provider 8.x accepts client_secret_post at the token endpoint as well for a
  // client registered with client_secret_basic (and vice versa).
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
};
if (args['post-logout-redirect-uri'].length) {
  client.post_logout_redirect_uris = args['post-logout-redirect-uri'];
}

const provider = new Provider(ISSUER, {
  clients: [client],

  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        const claims = { sub };
        if (account.email !== undefined) {
          claims.email = account.email;
          claims.email_verified = true;
        }
        if (account.name !== undefined) claims.name = account.name;
        if (account.role !== undefined) claims.custodian_role = account.role;
        return claims;
      },
    };
  },

  // scope -> claims it releases. custodian_role rides on `openid`, so every
  // ID token carries it whatever else was requested.
  claims: {
    openid: ['sub', 'custodian_role'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  scopes: ['openid', 'email', 'profile'],

  // Put the scope-requested claims into the ID token too (not only /me).
  conformIdTokenClaims: false,

  // Only the authorization code flow (keeps discovery honest: no implicit).
  responseTypes: ['code'],

  // Explicit lifetimes (seconds); also silences oidc-provider's "default ttl" notices.
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    Grant: 86400,
    Session: 86400,
  },

  pkce: {
    methods: ['S256'],
    required: () => true,
  },

  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // Minimal confirmation page (the default one loads a web font from the Internet).
      // `form` is oidc-provider's <form id="op.logoutForm" ...> with the hidden xsrf field.
      async logoutSource(ctx, form) {
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign out - test OpenID provider</title></head>
<body>
<h1>Sign out?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>
</body>
</html>
`;
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body><h1>Signed out</h1></body></html>\n';
      },
    },
  },

  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },

  loadExistingGrant,

  cookies: {
    keys: [crypto.randomBytes(32).toString('hex')],
    // oidc-provider's default for the session cookie is SameSite=None, which a browser
    // drops without Secure (and this issuer is plain http). Lax is enough here: the
    // authorization request is a top-level GET navigation.
    long: { httpOnly: true, sameSite: 'lax' },
    short: { httpOnly: true, sameSite: 'lax' },
  },

  jwks: { keys: [signingJwk] },

  async renderError(ctx, out, error) {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `${out.error}: ${out.error_description ?? ''}\n`;
    if (VERBOSE) log('renderError', out.error, out.error_description ?? '', error?.message ?? '');
  },
});

provider.on('server_error', (ctx, err) => log('server_error', err?.stack ?? err));
if (VERBOSE) {
  for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error']) {
    provider.on(event, (ctx, err) => log(event, err?.name ?? '', err?.message ?? '', err?.error_description ?? ''));
  }
}

// ---------------------------------------------------------------------------
// Interactions (login form; consent is granted by loadExistingGrant)
// ---------------------------------------------------------------------------

function escapeHtml(value) {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function sendHtml(res, status, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

function sendText(res, status, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`${body}\n`);
}

function loginPage(uid, { login = '', error } = {}) {
  const uidAttr = escapeHtml(uid);
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in - test OpenID provider</title></head>
<body>
<h1>Sign in</h1>
${error ? `<p id="error" role="alert">${escapeHtml(error)}</p>\n` : ''}<form id="login" method="post" action="/interaction/${uidAttr}/login">
<label>Email or subject <input type="text" name="login" value="${escapeHtml(login)}" autofocus></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Sign in</button>
</form>
<p><a id="abort" href="/interaction/${uidAttr}/abort">Cancel</a></p>
</body>
</html>
`;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Auto-consent fallback, in case a consent prompt is ever raised anyway.
async function grantConsent(details) {
  const { prompt: { details: missing }, params, session } = details;
  const grantId = details.grantId;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return grant.save();
}

const INTERACTION_PATH = /^\/interaction\/([^/]+)(?:\/(login|abort))?\/?$/;

async function handleInteraction(req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      return sendText(res, 400, `interaction session not found (is the _interaction cookie missing or expired?): ${err.message}`);
    }
    throw err;
  }
  if (details.uid !== uid) {
    return sendText(res, 400, 'interaction cookie does not match the interaction in the URL');
  }

  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }

  const promptName = details.prompt.name;

  if (action === undefined && req.method === 'GET') {
    if (promptName === 'login') return sendHtml(res, 200, loginPage(uid));
    if (promptName === 'consent') {
      const grantId = await grantConsent(details);
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return sendText(res, 400, `unsupported prompt ${promptName}`);
  }

  if (action === 'login' && req.method === 'POST') {
    if (promptName !== 'login') return sendText(res, 400, `interaction is at prompt ${promptName}, not login`);
    const form = await readForm(req);
    const login = form.get('login') ?? '';
    const account = findAccountByLogin(login);
    if (!account || form.get('password') !== PASSWORD) {
      if (VERBOSE) log('login failed for', JSON.stringify(login));
      return sendHtml(res, 401, loginPage(uid, { login, error: 'Invalid login or password.' }));
    }
    return provider.interactionFinished(req, res, {
      login: { accountId: account.sub },
    }, { mergeWithLastSubmission: false });
  }

  res.setHeader('Allow', action === 'login' ? 'POST' : 'GET');
  return sendText(res, 405, 'method not allowed');
}

const providerCallback = provider.callback();

handler = (req, res) => {
  const { pathname } = new URL(req.url, ISSUER);
  const match = INTERACTION_PATH.exec(pathname);
  if (!match) return providerCallback(req, res);
  const [, uid, action] = match;
  return handleInteraction(req, res, uid, action).catch((err) => {
    log('interaction error', err?.stack ?? err);
    if (!res.headersSent) sendText(res, 500, 'internal error');
    else res.end();
  });
};

// ---------------------------------------------------------------------------
// Ready / shutdown
// ---------------------------------------------------------------------------

log(`issuer ${ISSUER}, client ${client.client_id},`,
  `redirect_uris ${client.redirect_uris.join(' ')}, accounts ${[...accounts.keys()].join(' ')}`);
process.stdout.write(`READY ${ISSUER}\n`);

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal} received, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
// Opt-in: exit when stdin reaches EOF, i.e. when the parent that holds the write end
// of a stdin pipe dies (a panicking Rust test does not kill its std::process::Child).
// Not the default: a child started with stdin = /dev/null would exit at once.
if (EXIT_WITH_STDIN) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}
