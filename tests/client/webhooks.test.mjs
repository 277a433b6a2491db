// Outgoing webhooks checked with the real @nangohq/node: LocalHost (started by run.mjs) posts its webhooks to a sink
// (webhook-sink.mjs); the client's verifyIncomingWebhookRequest (HMAC of the raw body) and legacy
// verifyWebhookSignature accept them and reject a tampered body, and the body's modifiedAfter and cursorRange
// read back exactly the records the run changed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Nango } from '@nangohq/node';
import { issue } from './fake-github.mjs';
import { importConnection, waitFor } from './synchub.mjs';

const host = process.env.SYNCHUB_URL;
const secretKey = process.env.SYNCHUB_KEY;
const github = process.env.SYNCHUB_FAKE_GITHUB;
const sink = process.env.SYNCHUB_WEBHOOK_SINK;
assert.ok(host && secretKey && github && sink, 'run through tests/client/run.mjs (SYNCHUB_URL, SYNCHUB_KEY, SYNCHUB_FAKE_GITHUB, SYNCHUB_WEBHOOK_SINK)');
// SyncHub signs with SyncHub__Webhooks__SigningKey, or (unset here) the first secret key, as Nango does.
const nango = new Nango({ host, secretKey, webhookSigningKey: secretKey });

async function setRepo(repo, issues) {
    const response = await fetch(`${github}__fake/repos/${repo}`, { method: 'PUT', body: JSON.stringify({ issues, labels: [] }) });
    assert.equal(response.status, 204);
}


/** The webhooks the sink received for a connection (raw body and headers), in arrival order. */
async function hooksOf(connectionId) {
    const all = await (await fetch(`${sink}__received`)).json();
    return all.filter((h) => JSON.parse(h.body).connectionId === connectionId);
}

async function pages(params) {
    const records = [];
    let cursor = params.cursor;
    do {
        const page = await nango.listRecords({ ...params, cursor, limit: 2 });
        records.push(...page.records);
        cursor = page.next_cursor;
    } while (cursor);
    return records;
}

const ids = (records) => records.map((r) => String(r.id)).sort();

describe('webhooks', () => {
    test('a run sends one signed webhook per changed model; the Nango client verifies it and reads exactly its changes', async () => {
        const connectionId = `hooks-${randomUUID()}`;
        const repo = `o/${connectionId}`;
        await setRepo(repo, [issue(1, '2026-01-01T00:00:00Z'), issue(2, '2026-01-01T00:00:01Z'), issue(3, '2026-01-01T00:00:02Z')]);
        await importConnection(host, secretKey, connectionId, { metadata: { repo } });

        const [first] = await waitFor('the initial run\'s webhook', async () => {
            const hooks = (await hooksOf(connectionId)).filter((h) => JSON.parse(h.body).syncName === 'issues');
            return hooks.length ? hooks : undefined;
        });
        const body = JSON.parse(first.body);
        assert.equal(first.headers['content-type'], 'application/json');
        assert.match(first.headers['x-synchub-delivery'], /^[0-9a-f-]{36}$/);
        assert.match(first.headers['user-agent'], /^SyncHub\//);
        assert.equal(nango.verifyIncomingWebhookRequest(first.body, first.headers), true);
        assert.equal(nango.verifyWebhookSignature(first.headers['x-nango-signature'], body), true);
        const tampered = first.body.replace('"added":3', '"added":4');
        assert.notEqual(tampered, first.body);
        assert.equal(nango.verifyIncomingWebhookRequest(tampered, first.headers), false);
        assert.equal(nango.verifyWebhookSignature(first.headers['x-nango-signature'], JSON.parse(tampered)), false);
        assert.equal(new Nango({ host, secretKey, webhookSigningKey: randomUUID() }).verifyIncomingWebhookRequest(first.body, first.headers), false);

        assert.deepEqual(
            { ...body, modifiedAfter: undefined, queryTimeStamp: undefined, cursorRange: undefined },
            {
                from: 'nango', type: 'sync', connectionId, providerConfigKey: 'github', syncName: 'issues', syncVariant: 'base',
                model: 'GithubIssue', syncType: 'INITIAL', success: true, modifiedAfter: undefined,
                responseResults: { added: 3, updated: 0, deleted: 0 }, queryTimeStamp: undefined, checkpoints: null, cursorRange: undefined,
            },
        );

        // An incremental run: one issue changed, one new.
        await setRepo(repo, [issue(1, '2026-01-01T00:00:00Z'), issue(2, '2099-01-01T00:00:00Z', 'changed'), issue(3, '2026-01-01T00:00:02Z'), issue(4, '2099-01-01T00:00:01Z')]);
        await nango.triggerSync('github', ['issues'], connectionId);
        const second = await waitFor('the second run\'s webhook', async () => {
            const hooks = (await hooksOf(connectionId)).filter((h) => JSON.parse(h.body).syncName === 'issues');
            return hooks.length >= 2 ? JSON.parse(hooks[1].body) : undefined;
        });
        assert.equal(second.syncType, 'INCREMENTAL');
        assert.deepEqual(second.responseResults, { added: 1, updated: 1, deleted: 0 });

        const since = await pages({ providerConfigKey: 'github', connectionId, model: 'GithubIssue', modifiedAfter: second.modifiedAfter });
        assert.deepEqual(ids(since), ['2', '4']);
        const inRange = [];
        for (const record of await pages({ providerConfigKey: 'github', connectionId, model: 'GithubIssue', cursor: second.cursorRange.from })) {
            inRange.push(record);
            if (record._nango_metadata.cursor === second.cursorRange.to) break;
        }
        assert.deepEqual(ids(inRange), ['2', '4']);
        assert.equal(inRange.at(-1)._nango_metadata.cursor, second.cursorRange.to);

        const { syncs } = await nango.syncStatus('github', ['issues'], connectionId);
        assert.equal(syncs[0].webhook.failing, 0);
    });
});
