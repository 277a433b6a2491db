// OAuth2 connections that stay connected, through the real @nangohq/node client: a connection imported with an access
// token one second from expiry is refreshed by SyncHub (run.mjs gives the github integration an oauth client whose
// token endpoint is the fake GitHub's, which rejects expired tokens and rotates refresh tokens), and its syncs run.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Nango } from '@nangohq/node';
import { issue } from './fake-github.mjs';
import { waitFor } from './synchub.mjs';

const host = process.env.SYNCHUB_URL;
const secretKey = process.env.SYNCHUB_KEY;
const github = process.env.SYNCHUB_FAKE_GITHUB;
assert.ok(host && secretKey && github, 'run through tests/client/run.mjs (SYNCHUB_URL, SYNCHUB_KEY, SYNCHUB_FAKE_GITHUB)');
const nango = new Nango({ host, secretKey });
const integration = 'github';


async function put(path, body) {
    const response = await fetch(`${github}${path}`, { method: 'PUT', body: JSON.stringify(body) });
    assert.equal(response.status, 204);
}

describe('OAuth2 connections', () => {
    test('a connection whose token expires in a second is refreshed and its sync reads records', async () => {
        const connectionId = `client-oauth-${randomUUID().slice(0, 12)}`;
        const repo = `o/${connectionId}`;
        const accessToken = `oauth-imported-${randomUUID()}`;
        const refreshToken = `refresh-imported-${randomUUID()}`;
        const expiresAt = new Date(Date.now() + 1000).toISOString();
        await put(`__fake/repos/${repo}`, { issues: [issue(71, '2026-01-01T00:00:00Z'), issue(72, '2026-01-01T00:00:01Z')] });
        await put('__fake/oauth/grant', { access_token: accessToken, expires_at: expiresAt, refresh_token: refreshToken });
        const before = (await (await fetch(`${github}__fake/oauth/requests`)).json()).length;

        const response = await fetch(`${host}/connections`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${secretKey}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({
                provider_config_key: integration,
                connection_id: connectionId,
                credentials: { type: 'OAUTH2', access_token: accessToken, refresh_token: refreshToken, expires_at: expiresAt },
                metadata: { repo },
            }),
        });
        const imported = await response.text();
        assert.equal(response.status, 200, imported);
        assert.ok(!imported.includes(accessToken) && !imported.includes(refreshToken));

        // Past the imported token's expiry: the fake GitHub would answer it 401.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const triggeredAt = new Date().toISOString();
        await nango.triggerSync(integration, ['issues'], connectionId);
        const status = await waitFor('a run of issues after the trigger', async () => {
            const { syncs } = await nango.syncStatus(integration, ['issues'], connectionId);
            const s = syncs.find((x) => x.name === 'issues');
            return s && s.finishedAt && s.status !== 'RUNNING' && Date.parse(s.finishedAt) > Date.parse(triggeredAt) ? s : undefined;
        });
        assert.equal(status.status, 'SUCCESS', JSON.stringify(status));

        const page = await nango.listRecords({ providerConfigKey: integration, connectionId, model: 'GithubIssue' });
        assert.deepEqual(page.records.map((r) => String(r.id)).sort(), ['71', '72']);

        // One refresh for all the connection's runs, no 401 from the fake, and the connection is healthy.
        const refreshes = (await (await fetch(`${github}__fake/oauth/requests`)).json()).slice(before);
        assert.deepEqual(refreshes, [{ grant_type: 'refresh_token' }]);
        const requests = await (await fetch(`${github}__fake/requests`)).json();
        assert.ok(!requests.some((r) => r.path.startsWith(`/repos/${repo}/`) && r.status === 401), JSON.stringify(requests));
        const connection = await nango.getConnection(integration, connectionId, true);
        assert.deepEqual(connection.errors, []);
        assert.ok(!JSON.stringify(connection).includes('refresh-'), 'no refresh token in the connection');
    });
});
