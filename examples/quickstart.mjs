// Quick start: import a GitHub connection into SyncHub, run its issues sync and print the cached issues, with the
// official Nango client. Start SyncHub first (scripts/run.sh prints the secret key), then:
//
//   SYNCHUB_SECRET_KEY=<key> GITHUB_TOKEN=<token> GITHUB_REPO=owner/repo node examples/quickstart.mjs
//
// Optional: SYNCHUB_HOST (default http://127.0.0.1:7071), CONNECTION_ID (default "quickstart").
import { Nango } from '@nangohq/node';

function env(name, fallback) {
    const value = process.env[name] || fallback;
    if (!value) throw new Error(`Set ${name} (see the comment at the top of examples/quickstart.mjs).`);
    return value;
}

const host = env('SYNCHUB_HOST', 'http://127.0.0.1:7071');
const secretKey = env('SYNCHUB_SECRET_KEY');
const token = env('GITHUB_TOKEN');
const repo = env('GITHUB_REPO');
const connectionId = env('CONNECTION_ID', 'quickstart');
const integration = 'github';
const nango = new Nango({ host, secretKey });

// 1. Import the connection: its credentials and the repository its syncs read (POST /connections).
const response = await fetch(`${host}/connections`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${secretKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
        provider_config_key: integration,
        connection_id: connectionId,
        credentials: { type: 'API_KEY', apiKey: token },
        metadata: { repo },
    }),
});
if (!response.ok) throw new Error(`Import failed: ${response.status} ${await response.text()}`);
console.log(`Imported connection ${connectionId} (${repo}).`);

// 2. Run the issues sync now, and wait until a run that ended after this moment succeeded.
const triggeredAt = Date.now();
await nango.triggerSync(integration, ['issues'], connectionId);
for (let attempt = 0; ; attempt++) {
    const { syncs } = await nango.syncStatus(integration, ['issues'], connectionId);
    const { status, finishedAt, error } = syncs[0];
    if (status === 'ERROR') throw new Error(`The sync failed: ${JSON.stringify(error)}`);
    if (status === 'SUCCESS' && Date.parse(finishedAt) >= triggeredAt) break;
    if (attempt === 120) throw new Error(`The sync did not finish in time (status ${status}).`);
    await new Promise((resolve) => setTimeout(resolve, 500));
}

// 3. Read the cached records, a page at a time, following next_cursor.
let cursor;
let count = 0;
do {
    const page = await nango.listRecords({ providerConfigKey: integration, connectionId, model: 'GithubIssue', cursor, limit: 100 });
    for (const issue of page.records) console.log(`#${issue.number} [${issue.state}] ${issue.title}`);
    count += page.records.length;
    cursor = page.next_cursor;
} while (cursor);
console.log(`${count} issues of ${repo}.`);
