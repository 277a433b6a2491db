// The real @nangohq/node client against a running LocalHost (started by tests/client/run.mjs).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Nango } from '@nangohq/node';
import { importConnection as importSyncHubConnection } from './synchub.mjs';

const host = process.env.SYNCHUB_URL;
const secretKey = process.env.SYNCHUB_KEY;
assert.ok(host && secretKey, 'run through tests/client/run.mjs (SYNCHUB_URL and SYNCHUB_KEY)');
const nango = new Nango({ host, secretKey });
const integration = 'github';

/** A connection id no other test or run uses. */
const uniqueId = (suffix = '') => `client-${randomUUID().slice(0, 12)}${suffix}`;

const importConnection = (connectionId, options) => importSyncHubConnection(host, secretKey, connectionId, options);

/** Asserts that a client call fails with this HTTP status and error code. */
async function rejectsWith(promise, status, code) {
    await assert.rejects(promise, (error) => {
        assert.equal(error.response?.status, status, `status of ${error.message}`);
        assert.equal(error.response?.data?.error?.code, code);
        return true;
    });
}

function keysOf(value) {
    if (Array.isArray(value)) return value.flatMap(keysOf);
    if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
    return [];
}

describe('environment variables and integrations', () => {
    test('getEnvironmentVariables returns exactly the configured variables', async () => {
        const expected = JSON.parse(process.env.SYNCHUB_ENVIRONMENT_VARIABLES);
        const variables = await nango.getEnvironmentVariables();
        assert.ok(Array.isArray(variables));
        const actual = Object.fromEntries(variables.map((v) => [v.name, v.value]));
        assert.deepEqual(actual, expected);
    });

    test('an unknown secret key is refused with 401 unknown_account', async () => {
        const stranger = new Nango({ host, secretKey: randomUUID() });
        await rejectsWith(stranger.getEnvironmentVariables(), 401, 'unknown_account');
    });

    test('listIntegrations lists the configured integration', async () => {
        const { configs } = await nango.listIntegrations();
        const github = configs.find((c) => c.unique_key === integration);
        assert.ok(github, JSON.stringify(configs));
        assert.equal(github.provider, 'github');
        assert.equal(github.display_name, 'GitHub');
    });
});

describe('connections', () => {
    test('listConnections finds an imported connection, by id and by integration', async () => {
        const id = uniqueId();
        await importConnection(id, { metadata: { team: 'core' } });

        const { connections } = await nango.listConnections(id);
        assert.equal(connections.length, 1);
        assert.equal(connections[0].connection_id, id);
        assert.equal(connections[0].provider_config_key, integration);
        assert.deepEqual(connections[0].metadata, { team: 'core' });

        const filtered = await nango.listConnections({ connectionId: id, integrationId: integration });
        assert.deepEqual(filtered.connections.map((c) => c.connection_id), [id]);

        const other = await nango.listConnections({ connectionId: id, integrationId: 'gitlab' });
        assert.deepEqual(other.connections, []);

        const all = await nango.listConnections();
        assert.ok(all.connections.some((c) => c.connection_id === id));
    });

    test('getConnection returns the connection without credentials', async () => {
        const id = uniqueId();
        const { body, apiKey } = await importConnection(id, { metadata: { repo: 'octo/hello' } });

        const connection = await nango.getConnection(integration, id);
        assert.equal(connection.connection_id, id);
        assert.equal(connection.provider_config_key, integration);
        assert.equal(connection.provider, 'github');
        assert.equal(connection.id, body.id);
        assert.deepEqual(connection.metadata, { repo: 'octo/hello' });
        assert.ok(!keysOf(connection).includes('credentials'));
        assert.ok(!JSON.stringify(connection).includes(apiKey));

        // force_refresh / refresh_token flags as the client sends them.
        const refreshed = await nango.getConnection(integration, id, true, true);
        assert.equal(refreshed.connection_id, id);
    });

    test('getConnection and deleteConnection work with a percent-encoded id holding / and \\', async () => {
        const id = uniqueId('/team\\member');
        await importConnection(id);
        // The client puts the id into the path as given: callers encode ids that hold '/'.
        const connection = await nango.getConnection(integration, encodeURIComponent(id));
        assert.equal(connection.connection_id, id);
        await nango.deleteConnection(integration, encodeURIComponent(id));
        await rejectsWith(nango.getConnection(integration, encodeURIComponent(id)), 404, 'unknown_connection');
    });

    test('getConnection of an unknown connection is 404 unknown_connection', async () => {
        await rejectsWith(nango.getConnection(integration, uniqueId()), 404, 'unknown_connection');
    });

    test('getConnection of an unknown integration is 400 unknown_provider_config', async () => {
        await rejectsWith(nango.getConnection('gitlab', uniqueId()), 400, 'unknown_provider_config');
    });

    test('setMetadata replaces the metadata', async () => {
        const id = uniqueId();
        await importConnection(id, { metadata: { old: true, keep: 'no' } });
        const response = await nango.setMetadata(integration, id, { repo: 'octo/world' });
        assert.equal(response.status, 200);
        const connection = await nango.getConnection(integration, id);
        assert.deepEqual(connection.metadata, { repo: 'octo/world' });
    });

    test('updateMetadata merges into the metadata', async () => {
        const id = uniqueId();
        await importConnection(id, { metadata: { a: 1, nested: { x: 1 } } });
        const response = await nango.updateMetadata(integration, id, { b: 2, nested: { y: 2 } });
        assert.equal(response.status, 200);
        const connection = await nango.getConnection(integration, id);
        assert.deepEqual(connection.metadata, { a: 1, b: 2, nested: { y: 2 } });
    });

    test('metadata calls for an unknown connection are 404 unknown_connection', async () => {
        await rejectsWith(nango.setMetadata(integration, uniqueId(), { a: 1 }), 404, 'unknown_connection');
        await rejectsWith(nango.updateMetadata(integration, uniqueId(), { a: 1 }), 404, 'unknown_connection');
    });

    test('deleteConnection removes the connection', async () => {
        const id = uniqueId();
        await importConnection(id);
        const response = await nango.deleteConnection(integration, id);
        assert.equal(response.status, 200);
        await rejectsWith(nango.getConnection(integration, id), 404, 'unknown_connection');
        const { connections } = await nango.listConnections(id);
        assert.deepEqual(connections, []);
        await rejectsWith(nango.deleteConnection(integration, id), 404, 'unknown_connection');
    });
});
