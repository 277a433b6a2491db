// A small fake GitHub for the client suite: what SyncHub's GitHub syncs call (GET /repos/{owner}/{repo}/issues and
// /labels with per_page, page, since and Link rel="next"), items shaped like GitHub's (as in
// tests/SyncHub.Tests/Infrastructure/FakeGithub.cs). run.mjs starts it and points the github integration's base_url at it;
// the tests drive it over HTTP, since node --test runs each test file in a process of its own:
//   PUT    /__fake/repos/{owner}/{repo}   body { issues?, labels?, delayMs? }  replaces that repository's items (and
//                                         how long its answers take, to keep a run going while a test looks)
//   GET    /__fake/requests                 every GitHub request so far: [{ method, path }]
//   PUT    /__fake/oauth/grant             body { access_token, expires_at, refresh_token } a token pair SyncHub is given
//   GET    /__fake/oauth/requests          every token request so far: [{ grant_type }]
// OAuth: POST /oauth/token (RFC 6749 §6 refresh, form-encoded, client id/secret in the body) rotates refresh tokens (a
// reused one gets invalid_grant) and issues `oauth-...` access tokens for an hour. GitHub requests with an `oauth-`
// Bearer token that is unknown or expired get 401; other tokens are accepted as they are.
import http from 'node:http';
import { randomUUID } from 'node:crypto';

export const oauthClient = { id: 'fake-client-id', secret: 'fake-client-secret' };

export function issue(id, updatedAt, title = `Issue ${id}`, { pullRequest = false, labels = [] } = {}) {
    return {
        id,
        number: id % 100000,
        title,
        state: 'open',
        user: { login: 'octocat' },
        labels: labels.map((name) => ({ name, color: 'fff' })),
        created_at: '2026-01-01T00:00:00Z',
        updated_at: updatedAt,
        closed_at: null,
        html_url: `https://github.com/o/r/issues/${id}`,
        body: 'not copied',
        ...(pullRequest ? { pull_request: { url: 'https://api.github.com/pulls/1' } } : {}),
    };
}

export function label(id, name, description = null) {
    return { id, name, color: '00ff00', description, default: false };
}

function readBody(request) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        request.on('data', (chunk) => chunks.push(chunk));
        request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        request.on('error', reject);
    });
}

function send(response, status, body, headers = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    response.end(text);
}

/** Starts the fake on 127.0.0.1 (a free port). Resolves to { url, close }; url ends with '/'. */
export function startFakeGithub() {
    const repos = new Map();
    const requests = [];
    const accessTokens = new Map(); // token -> expiry (ms)
    const refreshTokens = new Set();
    const tokenRequests = [];
    let base = '';
    const server = http.createServer(async (request, response) => {
        try {
            const url = new URL(request.url, base);
            const control = url.pathname.match(/^\/__fake\/repos\/([^/]+)\/([^/]+)$/);
            if (control && request.method === 'PUT') {
                const body = JSON.parse((await readBody(request)) || '{}');
                const key = `${decodeURIComponent(control[1])}/${decodeURIComponent(control[2])}`;
                const current = repos.get(key) ?? { issues: [], labels: [], delayMs: 0 };
                repos.set(key, { issues: body.issues ?? current.issues, labels: body.labels ?? current.labels, delayMs: body.delayMs ?? current.delayMs });
                return send(response, 204);
            }
            if (url.pathname === '/__fake/requests' && request.method === 'GET') {
                return send(response, 200, requests);
            }
            if (url.pathname === '/__fake/oauth/grant' && request.method === 'PUT') {
                const body = JSON.parse((await readBody(request)) || '{}');
                accessTokens.set(body.access_token, Date.parse(body.expires_at));
                refreshTokens.add(body.refresh_token);
                return send(response, 204);
            }
            if (url.pathname === '/__fake/oauth/requests' && request.method === 'GET') {
                return send(response, 200, tokenRequests);
            }
            if (url.pathname === '/oauth/token' && request.method === 'POST') {
                const form = new URLSearchParams(await readBody(request));
                tokenRequests.push({ grant_type: form.get('grant_type') });
                if (form.get('client_id') !== oauthClient.id || form.get('client_secret') !== oauthClient.secret) {
                    return send(response, 401, { error: 'invalid_client' });
                }
                if (form.get('grant_type') !== 'refresh_token' || !refreshTokens.delete(form.get('refresh_token'))) {
                    return send(response, 400, { error: 'invalid_grant' });
                }
                const accessToken = `oauth-${randomUUID()}`;
                const refreshToken = `refresh-${randomUUID()}`;
                accessTokens.set(accessToken, Date.now() + 3600_000);
                refreshTokens.add(refreshToken);
                return send(response, 200, { access_token: accessToken, refresh_token: refreshToken, expires_in: 3600, token_type: 'bearer' });
            }
            const bearer = (request.headers.authorization ?? '').replace(/^Bearer /, '');
            if (bearer.startsWith('oauth-') && !(accessTokens.get(bearer) > Date.now())) {
                requests.push({ method: request.method, path: url.pathname + url.search, status: 401 });
                return send(response, 401, { message: 'Bad credentials' });
            }
            requests.push({ method: request.method, path: url.pathname + url.search });
            const match = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/(issues|labels)$/);
            if (!match || request.method !== 'GET') {
                return send(response, 404, { message: 'Not Found' });
            }
            const repo = repos.get(`${decodeURIComponent(match[1])}/${decodeURIComponent(match[2])}`) ?? { issues: [], labels: [], delayMs: 0 };
            if (repo.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, repo.delayMs));
            let items;
            if (match[3] === 'issues') {
                items = [...repo.issues].sort((a, b) => (a.updated_at < b.updated_at ? -1 : a.updated_at > b.updated_at ? 1 : 0));
                const since = url.searchParams.get('since');
                if (since) items = items.filter((i) => Date.parse(i.updated_at) >= Date.parse(since));
            } else {
                items = repo.labels;
            }
            const perPage = Number(url.searchParams.get('per_page') ?? 30);
            const page = Number(url.searchParams.get('page') ?? 1);
            const slice = items.slice((page - 1) * perPage, page * perPage);
            const headers = {};
            if (page * perPage < items.length) {
                const next = new URL(url);
                next.searchParams.set('page', String(page + 1));
                headers.Link = `<${next.href}>; rel="next", <${base}x>; rel="last"`;
            }
            return send(response, 200, slice, headers);
        } catch (error) {
            return send(response, 500, { message: String(error) });
        }
    });
    return new Promise((resolve, reject) => {
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            base = `http://127.0.0.1:${server.address().port}/`;
            resolve({
                url: base,
                close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
            });
        });
    });
}
