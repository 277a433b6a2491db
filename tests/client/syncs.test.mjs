// The sync control API driven by the real @nangohq/node client against LocalHost, whose github integration reads a
// fake GitHub (fake-github.mjs, started by run.mjs). Records are written by real runs: the queue trigger, the timer
// (every second here) and the GitHub syncs, end to end.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Nango } from '@nangohq/node';
import { issue, label } from './fake-github.mjs';
import { importConnection as importSyncHubConnection, waitFor } from './synchub.mjs';

const host = process.env.SYNCHUB_URL;
const secretKey = process.env.SYNCHUB_KEY;
const github = process.env.SYNCHUB_FAKE_GITHUB;
assert.ok(host && secretKey && github, 'run through tests/client/run.mjs (SYNCHUB_URL, SYNCHUB_KEY, SYNCHUB_FAKE_GITHUB)');
const nango = new Nango({ host, secretKey });
const integration = 'github';

// ---- helpers ----------------------------------------------------------------------------------------------------

/** Replaces a repository's issues and/or labels on the fake GitHub. */
async function setRepo(repo, { issues, labels, delayMs }) {
    const response = await fetch(`${github}__fake/repos/${repo}`, { method: 'PUT', body: JSON.stringify({ issues, labels, delayMs }) });
    assert.equal(response.status, 204);
}

/** The fake GitHub's request log for one repository's issues: the first page of every run. */
async function issueRuns(repo) {
    const requests = await (await fetch(`${github}__fake/requests`)).json();
    return requests.filter((r) => r.path.startsWith(`/repos/${repo}/issues?`) && !/[?&]page=/.test(r.path));
}

const importConnection = (connectionId, metadata) => importSyncHubConnection(host, secretKey, connectionId, { metadata });

/** Polls until check() returns a truthy value (returned), or fails after timeoutMs with the last value seen. */

/** Every record of a model (and variant), paging with the client until next_cursor is null. */
async function allRecords(connectionId, model, { variant, cursor } = {}) {
    const records = [];
    do {
        const page = await nango.listRecords({ providerConfigKey: integration, connectionId, model, variant, cursor, limit: 100 });
        records.push(...page.records);
        cursor = page.next_cursor;
    } while (cursor);
    return records;
}

const ids = (items) => items.map((i) => String(i.id)).sort();

async function statusOf(connectionId, syncs) {
    const { syncs: list } = await nango.syncStatus(integration, syncs, connectionId);
    return Object.fromEntries(list.map((s) => [`${s.name}::${s.variant}`, s]));
}

/** Waits until the sync's status shows a run that finished after `since` (an ISO time or undefined) and is idle. */
async function waitForRun(connectionId, name, variant = 'base', since = undefined) {
    return waitFor(`a finished run of ${name}::${variant}`, async () => {
        const status = (await statusOf(connectionId, [{ name, variant }]))[`${name}::${variant}`];
        const done = status && status.finishedAt && status.status !== 'RUNNING' && (!since || Date.parse(status.finishedAt) > Date.parse(since));
        return done ? status : undefined;
    });
}

async function rejectsWith(promise, status, code) {
    await assert.rejects(promise, (error) => {
        assert.equal(error.response?.status, status, `status of ${error.message}: ${JSON.stringify(error.response?.data)}`);
        assert.equal(error.response?.data?.error?.code, code);
        return true;
    });
}

const isoIn = (ms) => new Date(Date.now() + ms).toISOString().replace(/\.\d+Z$/, 'Z');

// ---- the flow -----------------------------------------------------------------------------------------------------

describe('sync control with @nangohq/node', () => {
    const owner = `o${randomUUID().slice(0, 8)}`;
    const repo = `${owner}/r`;
    const repo2 = `${owner}/r2`;
    const connectionId = `syncs-${randomUUID().slice(0, 12)}`;
    const baseIssues = [1, 2, 3].map((n) => issue(1000 + n, `2026-01-01T00:00:0${n}Z`));
    const variantIssues = [1, 2, 3, 4].map((n) => issue(5000 + n, `2026-01-02T00:00:0${n}Z`, `Other ${n}`));

    before(async () => {
        await setRepo(repo, { issues: [...baseIssues, issue(9999, '2026-01-01T01:00:00Z', 'a pull request', { pullRequest: true })], labels: [label(1, 'bug', 'Something is wrong'), label(2, 'docs')] });
        await setRepo(repo2, { issues: variantIssues, labels: [] });
        await importConnection(connectionId, { repo, repos: { v1: repo2 } });
    });

    test('importing a connection makes the repository appear as records (listRecords)', async () => {
        const records = await waitFor('3 issues', async () => {
            const found = await allRecords(connectionId, 'GithubIssue');
            return found.length === 3 ? found : undefined;
        });
        assert.deepEqual(ids(records), ids(baseIssues));
        const first = records.find((r) => r.id === '1001');
        assert.equal(first.title, 'Issue 1001');
        assert.equal(first.author, 'octocat');
        assert.deepEqual(first.labels, []);
        assert.equal(first._nango_metadata.last_action, 'ADDED');
        assert.equal(first._nango_metadata.deleted_at, null);
        assert.equal(typeof first._nango_metadata.cursor, 'string');
        const labels = await waitFor('2 labels', async () => {
            const found = await allRecords(connectionId, 'GithubLabel');
            return found.length === 2 ? found : undefined;
        });
        assert.deepEqual(labels.map((l) => l.name).sort(), ['bug', 'docs']);
        await waitForRun(connectionId, 'issues');
        await waitForRun(connectionId, 'labels');
    });

    test("syncStatus '*' reports every field", async () => {
        const status = await statusOf(connectionId, '*');
        assert.deepEqual(Object.keys(status).sort(), ['issues::base', 'labels::base']);
        const issues = status['issues::base'];
        assert.equal(issues.connection_id, connectionId);
        assert.equal(issues.status, 'SUCCESS');
        assert.equal(issues.type, 'INITIAL'); // its only run started with no last sync date
        assert.equal(issues.frequency, 'every 30 minutes');
        assert.match(issues.id, /^[0-9a-f-]{36}$/);
        assert.ok(Date.parse(issues.finishedAt) <= Date.now());
        const next = Date.parse(issues.nextScheduledSyncAt) - Date.parse(issues.finishedAt);
        assert.ok(next > 29 * 60_000 && next <= 30 * 60_000, `next run ${next} ms after the last`);
        assert.deepEqual(issues.latestResult, { GithubIssue: { added: 3, updated: 0, deleted: 0 } });
        assert.deepEqual(issues.recordCount, { GithubIssue: 3 });
        assert.deepEqual(issues.checkpoint, { updated_at: '2026-01-01T01:00:00Z' });
        assert.equal(issues.error, undefined);
        const labels = status['labels::base'];
        assert.equal(labels.frequency, 'every hour');
        assert.deepEqual(labels.recordCount, { GithubLabel: 2 });
        assert.equal(labels.checkpoint, null);
    });

    test('createSyncVariant runs the variant at once; its records are those of its own repository', async () => {
        const created = await nango.createSyncVariant({ provider_config_key: integration, connection_id: connectionId, name: 'issues', variant: 'v1' });
        assert.deepEqual(Object.keys(created).sort(), ['id', 'name', 'variant']);
        assert.equal(created.name, 'issues');
        assert.equal(created.variant, 'v1');
        const records = await waitFor('4 variant issues', async () => {
            const found = await allRecords(connectionId, 'GithubIssue', { variant: 'v1' });
            return found.length === 4 ? found : undefined;
        });
        assert.deepEqual(ids(records), ids(variantIssues));
        assert.equal(records.find((r) => r.id === '5001').title, 'Other 1');
        assert.deepEqual(ids(await allRecords(connectionId, 'GithubIssue')), ids(baseIssues));

        const v1 = await waitForRun(connectionId, 'issues', 'v1');
        assert.equal(v1.id, created.id);
        assert.equal(v1.status, 'SUCCESS');
        assert.deepEqual(v1.recordCount, { GithubIssue: 4 });

        await rejectsWith(nango.createSyncVariant({ provider_config_key: integration, connection_id: connectionId, name: 'issues', variant: 'v1' }), 400, 'sync_variant_already_exists');
        await rejectsWith(nango.createSyncVariant({ provider_config_key: integration, connection_id: connectionId, name: 'issues', variant: 'base' }), 400, 'invalid_variant');
        await rejectsWith(nango.createSyncVariant({ provider_config_key: integration, connection_id: connectionId, name: 'nope', variant: 'v2' }), 400, 'unknown_sync');
    });

    test('syncStatus with lists, variants and unknown names', async () => {
        const all = await statusOf(connectionId, '*');
        assert.deepEqual(Object.keys(all).sort(), ['issues::base', 'issues::v1', 'labels::base']);
        const listed = await statusOf(connectionId, ['issues', { name: 'issues', variant: 'v1' }, 'issues::nope', 'nope']);
        assert.deepEqual(Object.keys(listed).sort(), ['issues::base', 'issues::v1']);
        assert.deepEqual(listed['issues::v1'].recordCount, { GithubIssue: 4 });
        assert.deepEqual(listed['issues::base'].recordCount, { GithubIssue: 3 });
        const byString = await statusOf(connectionId, ['issues::v1']);
        assert.deepEqual(Object.keys(byString), ['issues::v1']);
        // recordCount is the number of non-deleted records listRecords returns for that variant.
        const variantRecords = await allRecords(connectionId, 'GithubIssue', { variant: 'v1' });
        assert.equal(byString['issues::v1'].recordCount.GithubIssue, variantRecords.filter((r) => !r._nango_metadata.deleted_at).length);
    });

    test('triggerSync runs the named syncs once (200, empty body), incrementally', async () => {
        const before = (await statusOf(connectionId, ['issues']))['issues::base'];
        const added = issue(1004, isoIn(24 * 3600_000), 'Added later');
        await setRepo(repo, { issues: [...baseIssues, added] });
        const response = await nango.triggerSync(integration, ['issues'], connectionId);
        assert.equal(response.status, 200);
        assert.equal(response.data, '');
        const status = await waitForRun(connectionId, 'issues', 'base', before.finishedAt);
        assert.deepEqual(status.latestResult, { GithubIssue: { added: 1, updated: 0, deleted: 0 } });
        assert.deepEqual(status.recordCount, { GithubIssue: 4 });
        const runs = await issueRuns(repo);
        assert.match(runs.at(-1).path, /[?&]since=/);

        // name::variant and { name, variant } reach the variant.
        const v1Before = (await statusOf(connectionId, ['issues::v1']))['issues::v1'];
        await nango.triggerSync(integration, [{ name: 'issues', variant: 'v1' }], connectionId);
        const v1 = await waitForRun(connectionId, 'issues', 'v1', v1Before.finishedAt);
        await nango.triggerSync(integration, ['issues::v1'], connectionId);
        await waitForRun(connectionId, 'issues', 'v1', v1.finishedAt);
    });

    test('triggerSync with opts.reset fetches everything again', async () => {
        const before = (await statusOf(connectionId, ['issues']))['issues::base'];
        assert.notEqual(before.checkpoint, null);
        await nango.triggerSync(integration, ['issues'], connectionId, { reset: true });
        const status = await waitForRun(connectionId, 'issues', 'base', before.finishedAt);
        assert.equal(status.status, 'SUCCESS');
        assert.deepEqual(status.latestResult, { GithubIssue: { added: 0, updated: 0, deleted: 0 } });
        const runs = await issueRuns(repo);
        assert.doesNotMatch(runs.at(-1).path, /since=/);
        assert.equal((await allRecords(connectionId, 'GithubIssue')).length, 4);
    });

    test('triggerSync with opts.reset and emptyCache empties the records at once, then refetches them', async () => {
        const old = await allRecords(connectionId, 'GithubIssue');
        const clientCursor = old.at(-1)._nango_metadata.cursor;
        const before = (await statusOf(connectionId, ['issues']))['issues::base'];
        // Issue 1001 is gone at the source, which answers slowly: the run cannot have written anything when we look.
        await setRepo(repo, { issues: baseIssues.slice(1), delayMs: 1500 });

        await nango.triggerSync(integration, ['issues'], connectionId, { reset: true, emptyCache: true });
        assert.deepEqual(await allRecords(connectionId, 'GithubIssue'), []);
        assert.deepEqual((await statusOf(connectionId, ['issues']))['issues::base'].recordCount, { GithubIssue: 0 });
        await setRepo(repo, { delayMs: 0 });

        const status = await waitForRun(connectionId, 'issues', 'base', before.finishedAt);
        assert.deepEqual(status.latestResult, { GithubIssue: { added: 2, updated: 0, deleted: 0 } });
        assert.deepEqual(status.recordCount, { GithubIssue: 2 });
        const records = await allRecords(connectionId, 'GithubIssue');
        assert.deepEqual(ids(records), ['1002', '1003']);
        assert.ok(records.every((r) => r._nango_metadata.last_action === 'ADDED'));
        // A client paging on from a cursor it held before sees the re-added records.
        assert.deepEqual(ids(await allRecords(connectionId, 'GithubIssue', { cursor: clientCursor })), ['1002', '1003']);
        // The other model and the variant were not touched.
        assert.equal((await allRecords(connectionId, 'GithubLabel')).length, 2);
        assert.equal((await allRecords(connectionId, 'GithubIssue', { variant: 'v1' })).length, 4);

        await rejectsWith(nango.triggerSync(integration, ['issues'], connectionId, { emptyCache: true }), 400, 'invalid_body');
    });

    test('pauseSync pauses; startSync runs at once and then on the frequency', async () => {
        const paused = await nango.pauseSync(integration, ['issues'], connectionId);
        assert.equal(paused.status, 200);
        assert.equal(paused.data, '');
        let status = (await statusOf(connectionId, ['issues']))['issues::base'];
        assert.equal(status.status, 'PAUSED');
        assert.equal(status.nextScheduledSyncAt, null);
        assert.equal((await statusOf(connectionId, ['labels']))['labels::base'].status, 'SUCCESS');

        const started = await nango.startSync(integration, ['issues'], connectionId);
        assert.equal(started.status, 200);
        assert.equal(started.data, '');
        status = await waitForRun(connectionId, 'issues', 'base', status.finishedAt);
        assert.equal(status.status, 'SUCCESS');
        const next = Date.parse(status.nextScheduledSyncAt) - Date.now();
        assert.ok(next > 25 * 60_000 && next <= 30 * 60_000, `next run in ${next} ms`);

        // Pausing and starting a variant by { name, variant }.
        await nango.pauseSync(integration, [{ name: 'issues', variant: 'v1' }], connectionId);
        assert.equal((await statusOf(connectionId, ['issues::v1']))['issues::v1'].status, 'PAUSED');
        assert.equal((await statusOf(connectionId, ['issues']))['issues::base'].status, 'SUCCESS');
        await nango.startSync(integration, ['issues::v1'], connectionId);
        assert.notEqual((await statusOf(connectionId, ['issues::v1']))['issues::v1'].status, 'PAUSED');
    });

    test('updateSyncConnectionFrequency by name, by { name, variant }, and null', async () => {
        assert.deepEqual(await nango.updateSyncConnectionFrequency(integration, 'issues', connectionId, 'every 2 hours'), { frequency: 'every 2 hours' });
        let status = (await statusOf(connectionId, ['issues']))['issues::base'];
        assert.equal(status.frequency, 'every 2 hours');
        const next = Date.parse(status.nextScheduledSyncAt) - Date.now();
        assert.ok(next > 119 * 60_000 && next <= 120 * 60_000, `next run in ${next} ms`);

        assert.deepEqual(await nango.updateSyncConnectionFrequency(integration, { name: 'issues', variant: 'v1' }, connectionId, '1h'), { frequency: 'every hour' });
        assert.equal((await statusOf(connectionId, ['issues::v1']))['issues::v1'].frequency, 'every hour');
        assert.equal((await statusOf(connectionId, ['issues']))['issues::base'].frequency, 'every 2 hours');

        assert.deepEqual(await nango.updateSyncConnectionFrequency(integration, 'issues', connectionId, null), { frequency: 'every 30 minutes' });
        status = (await statusOf(connectionId, ['issues']))['issues::base'];
        assert.equal(status.frequency, 'every 30 minutes');

        await rejectsWith(nango.updateSyncConnectionFrequency(integration, 'issues', connectionId, '10s'), 400, 'invalid_body');
        await rejectsWith(nango.updateSyncConnectionFrequency(integration, 'issues', connectionId, 'sometimes'), 400, 'invalid_body');
    });

    test('pruneRecords on base and variant records keeps ids, metadata and counts', async () => {
        for (const variant of [undefined, 'v1']) {
            const records = await allRecords(connectionId, 'GithubIssue', { variant });
            const untilCursor = records.at(-1)._nango_metadata.cursor;
            const result = await nango.pruneRecords({ providerConfigKey: integration, connectionId, model: 'GithubIssue', variant, untilCursor });
            assert.deepEqual(result, { count: records.length, has_more: false });
            const pruned = await allRecords(connectionId, 'GithubIssue', { variant });
            assert.deepEqual(ids(pruned), ids(records));
            for (const record of pruned) {
                assert.deepEqual(Object.keys(record).sort(), ['_nango_metadata', 'id']);
                assert.ok(record._nango_metadata.pruned_at);
            }
            const status = (await statusOf(connectionId, [{ name: 'issues', variant: variant ?? 'base' }]))[`issues::${variant ?? 'base'}`];
            assert.deepEqual(status.recordCount, { GithubIssue: records.length });
        }
    });

    test('deleteSyncVariant removes the variant and its records at once', async () => {
        const response = await nango.deleteSyncVariant({ provider_config_key: integration, connection_id: connectionId, name: 'issues', variant: 'v1' });
        assert.equal(response, '');
        assert.deepEqual(await allRecords(connectionId, 'GithubIssue', { variant: 'v1' }), []);
        assert.deepEqual(Object.keys(await statusOf(connectionId, '*')).sort(), ['issues::base', 'labels::base']);
        assert.equal((await allRecords(connectionId, 'GithubIssue')).length, 2);
        await rejectsWith(nango.deleteSyncVariant({ provider_config_key: integration, connection_id: connectionId, name: 'issues', variant: 'v1' }), 404, 'not_found');
    });

    test('unknown integration, sync and connection', async () => {
        await rejectsWith(nango.triggerSync('gitlab', ['issues'], connectionId), 400, 'unknown_provider_config');
        await rejectsWith(nango.triggerSync(integration, ['nope'], connectionId), 400, 'unknown_sync');
        await rejectsWith(nango.triggerSync(integration, ['issues'], 'nobody-here'), 404, 'unknown_connection');
        await rejectsWith(nango.startSync(integration, ['issues'], 'nobody-here'), 404, 'unknown_connection');
        await rejectsWith(nango.pauseSync(integration, ['nope'], connectionId), 400, 'unknown_sync');
        await rejectsWith(nango.syncStatus('gitlab', '*', connectionId), 400, 'unknown_provider_config');
        await rejectsWith(nango.syncStatus(integration, '*', 'nobody-here'), 404, 'unknown_connection');
        await rejectsWith(nango.updateSyncConnectionFrequency(integration, 'nope', connectionId, '1h'), 400, 'unknown_sync');
        await rejectsWith(nango.deleteSyncVariant({ provider_config_key: integration, connection_id: 'nobody-here', name: 'issues', variant: 'v9' }), 404, 'unknown_connection');
    });

    after(async () => {
        await nango.deleteConnection(integration, connectionId).catch(() => {});
    });
});
