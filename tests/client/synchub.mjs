// Shared by the client suites: importing a connection through SyncHub's POST /connections (the Node client's own
// import call targets another endpoint).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

/** POST /connections for the github integration; returns the response body and the API key it stored. */
export async function importConnection(host, secretKey, connectionId, { metadata, apiKey = `sk-${randomUUID()}` } = {}) {
    const response = await fetch(`${host}/connections`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${secretKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
            provider_config_key: 'github',
            connection_id: connectionId,
            credentials: { type: 'API_KEY', apiKey },
            ...(metadata ? { metadata } : {}),
        }),
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return { body: JSON.parse(text), apiKey };
}

/** Polls <check> until it returns something truthy (and returns it), or fails naming <what> and the last value. */
export async function waitFor(what, check, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
        last = await check();
        if (last) return last;
        // The polling interval of this helper: the state is checked, not waited for blindly.
        await new Promise((resolve) => setTimeout(resolve, 150));
    }
    assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

